# One place for the flags every Clipdeck target gets.
option(CLIPDECK_WERROR "Treat warnings as errors (the ci preset turns it on)" OFF)

add_library(clipdeck_options INTERFACE)
target_compile_options(clipdeck_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers>
  $<$<AND:$<BOOL:${CLIPDECK_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang>>:-Werror>)
target_compile_definitions(clipdeck_options INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_URL_CAST_FROM_STRING QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
  QT_DISABLE_DEPRECATED_UP_TO=0x060400)
