# Small helpers so that each directory registers its tests in one line
# (STYLE.md 10: tests beside the code).

# vigie_test(NAME SOURCES a_test.cc ... DEPS lib ...)
# Builds a GoogleTest binary and registers each of its tests with ctest.
function(vigie_test name)
  if(NOT VIGIE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    VIGIE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    VIGIE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "VIGIE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
