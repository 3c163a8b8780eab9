# cmake -DQMLLINT=... -DSOURCE_DIR=... -DIMPORT_DIR=<build>/qml -DWORK_DIR=... -P checkqmllint.cmake
# Fails (and prints what qmllint says) when qmllint reports anything but "info" about the views
# in qml/ or the Qt Quick tests in tests/qml. Run after the build: it reads the QML modules'
# qmldir and qmltypes files in IMPORT_DIR (build/qml: Clipdeck, Clipdeck.Client, Clipdeck.App,
# Clipdeck.Testing).
#
# qmllint resolves a file's own module (singletons such as Theme, its sibling types) through the
# qmldir beside the file; the module's qmldir is generated into the build tree, so the sources are
# linted from a copy next to it, and the messages name the sources.
cmake_minimum_required(VERSION 3.24)

foreach(module Clipdeck Clipdeck/Client Clipdeck/App Clipdeck/Testing)
  if(NOT EXISTS ${IMPORT_DIR}/${module}/qmldir)
    message(FATAL_ERROR "${IMPORT_DIR}/${module}/qmldir is missing: build first (cmake --build)")
  endif()
endforeach()

set(copy ${WORK_DIR}/Clipdeck)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${copy})
file(GLOB views LIST_DIRECTORIES false ${SOURCE_DIR}/qml/*.qml)
file(GLOB module_files LIST_DIRECTORIES false ${IMPORT_DIR}/Clipdeck/qmldir ${IMPORT_DIR}/Clipdeck/*.qmltypes)
file(COPY ${views} ${module_files} DESTINATION ${copy})
file(GLOB copies LIST_DIRECTORIES false ${copy}/*.qml)
file(GLOB tests LIST_DIRECTORIES false ${SOURCE_DIR}/tests/qml/*.qml)

set(failed "")
foreach(batch views tests)
  if(batch STREQUAL "views")
    set(files ${copies})
    set(dir ${copy})
  else()
    set(files ${tests})
    set(dir ${SOURCE_DIR}/tests/qml)
  endif()
  execute_process(COMMAND ${QMLLINT} -I ${IMPORT_DIR} ${files}
    WORKING_DIRECTORY ${dir}
    RESULT_VARIABLE result OUTPUT_VARIABLE report ERROR_VARIABLE report)
  string(REPLACE "${copy}/" "qml/" report "${report}")
  string(REPLACE "${SOURCE_DIR}/" "" report "${report}")
  list(LENGTH files count)
  # Any warning fails, also one qmllint would not count in its exit code.
  if(NOT result EQUAL 0 OR report MATCHES "Warning:")
    string(APPEND failed "${report}")
  else()
    message(STATUS "qmllint: ${count} ${batch} files, no warnings")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "qmllint reports:\n${failed}")
endif()
