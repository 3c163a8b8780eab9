# cmake -DCLANG_FORMAT=... -DSOURCE_DIR=... -P checkformat.cmake
# Fails (and names the files) when a tracked C++ file is not formatted by the repo's .clang-format.
# Fix with: clang-format -i <files>
file(GLOB_RECURSE files LIST_DIRECTORIES false
  ${SOURCE_DIR}/lib/*.cpp ${SOURCE_DIR}/lib/*.h
  ${SOURCE_DIR}/app/*.cpp ${SOURCE_DIR}/app/*.h
  ${SOURCE_DIR}/tests/*.cpp ${SOURCE_DIR}/tests/*.h)
set(unformatted "")
foreach(file IN LISTS files)
  execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${file}
    RESULT_VARIABLE result OUTPUT_QUIET ERROR_QUIET)
  if(NOT result EQUAL 0)
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
    list(APPEND unformatted ${rel})
  endif()
endforeach()
list(LENGTH files count)
if(unformatted)
  list(JOIN unformatted "\n  " lines)
  message(FATAL_ERROR "not formatted (clang-format -i them):\n  ${lines}")
endif()
message(STATUS "${count} C++ files formatted")
