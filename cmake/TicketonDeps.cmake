# Every third-party dependency, found once. All come from Debian 12 packages (scripts/bootstrap).
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json url)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
# MariaDB Connector/C: the MySQL engine of the Database port (src/db/mysql).
pkg_check_modules(MARIADB REQUIRED IMPORTED_TARGET libmariadb)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(TICKETON_BUILD_TESTS)
    find_package(GTest REQUIRED)
endif()
if(TICKETON_BUILD_BENCH)
    find_package(benchmark REQUIRED)
endif()

# Warnings and the sanitizer switches that every project target gets.
add_library(ticketon_options INTERFACE)
target_compile_options(ticketon_options INTERFACE -Wall -Wextra -Wpedantic)
if(TICKETON_WERROR)
    target_compile_options(ticketon_options INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 warns on Asio's and Beast's coroutine frames; the code is fine.
    target_compile_options(ticketon_options INTERFACE -Wno-mismatched-new-delete -Wno-maybe-uninitialized
        # Designated initializers that leave members to their defaults are intended.
        -Wno-missing-field-initializers)
endif()
target_compile_definitions(ticketon_options INTERFACE
    BOOST_ASIO_SEPARATE_COMPILATION
    BOOST_BEAST_SEPARATE_COMPILATION
    BOOST_ASIO_NO_DEPRECATED
    BOOST_BEAST_USE_STD_STRING_VIEW
    BOOST_JSON_NO_LIB BOOST_URL_NO_LIB)
