# ticketon_add_module(<name> DEPS <targets...> [TEST_DEPS <targets...>] [MARIADB])
#
# One folder under src/ is one static library `ticketon_<name>`. Its sources are every *.cpp in
# the folder (recursively) except unit tests (*_test.cpp) and micro-benchmarks (*_bench.cpp).
# The unit tests become one executable `ticketon_<name>_test`, each case registered with CTest;
# the benchmarks become `ticketon_<name>_bench` when TICKETON_BUILD_BENCH is on.
function(ticketon_add_module name)
    cmake_parse_arguments(M "MARIADB" "" "DEPS;TEST_DEPS" ${ARGN})
    file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
    set(sources ${all_sources})
    list(FILTER sources EXCLUDE REGEX "_(test|bench)\\.cpp$")
    set(tests ${all_sources})
    list(FILTER tests INCLUDE REGEX "_test\\.cpp$")
    set(benches ${all_sources})
    list(FILTER benches INCLUDE REGEX "_bench\\.cpp$")

    add_library(ticketon_${name} STATIC ${sources})
    target_include_directories(ticketon_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(ticketon_${name} PUBLIC ticketon_options ${M_DEPS})

    if(TICKETON_BUILD_TESTS AND tests)
        add_executable(ticketon_${name}_test ${tests})
        target_link_libraries(ticketon_${name}_test PRIVATE ticketon_${name} ${M_TEST_DEPS}
            GTest::gmock GTest::gtest_main)
        set(properties LABELS unit TIMEOUT 120)
        if(M_MARIADB)
            # Some cases run against a real MariaDB: the run's one server, started by the
            # `mariadb` fixture (tests/support/CMakeLists.txt), found through this variable.
            target_link_libraries(ticketon_${name}_test PRIVATE ticketon_test_mariadb)
            list(APPEND properties FIXTURES_REQUIRED mariadb
                ENVIRONMENT TICKETON_TEST_MARIADB_DIR=${CMAKE_BINARY_DIR}/mariadb-fixture)
        endif()
        gtest_discover_tests(ticketon_${name}_test DISCOVERY_MODE PRE_TEST
            PROPERTIES ${properties})
    endif()
    if(TICKETON_BUILD_BENCH AND benches)
        add_executable(ticketon_${name}_bench ${benches})
        target_link_libraries(ticketon_${name}_bench PRIVATE ticketon_${name} benchmark::benchmark_main)
    endif()
endfunction()
