# clipdeck_add_qtest(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT <s>]
#                    [LAUNCHER <command...>])   (LAUNCHER: runs the test through it, e.g. dbus-run-session --)
# One Qt Test executable registered with CTest. Tests run offscreen, with generated media cached
# in the build tree (CLIPDECK_TEST_MEDIA_DIR) so a second run does not generate it again.
function(clipdeck_add_qtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS;LAUNCHER" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test clipdeck_test_support clipdeck_options ${ARG_LIBS})
  add_test(NAME ${name} COMMAND ${ARG_LAUNCHER} $<TARGET_FILE:${name}>)
  set(timeout 300)
  if(ARG_TIMEOUT)
    set(timeout ${ARG_TIMEOUT})
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${timeout}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;CLIPDECK_TEST_MEDIA_DIR=${CMAKE_BINARY_DIR}/test-media;CLIPDECK_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()
