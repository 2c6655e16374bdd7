# loco_add_test(name SOURCES a.cpp b.cpp): one GoogleTest binary, registered with ctest per test.
function(loco_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE loco_engine loco_test_harness GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endfunction()

# loco_add_bench(name SOURCES a.cpp): one Google Benchmark binary, not run by ctest.
function(loco_add_bench name)
  cmake_parse_arguments(B "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE loco_engine benchmark::benchmark benchmark::benchmark_main)
endfunction()
