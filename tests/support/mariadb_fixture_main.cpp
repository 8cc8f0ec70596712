// tkt-mariadb start|stop DIR: CTest's `mariadb` fixture (tests/support/CMakeLists.txt). `start`
// installs and starts a MariaDB server in DIR and returns once it answers, leaving it running
// for the tests of the run (they find it through TICKETON_TEST_MARIADB_DIR=DIR); `stop` ends it.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "mariadb_server.hpp"

namespace {

using namespace std::chrono_literals;
using tkt::testing::mariadb_server;

int start(const std::filesystem::path& dir) {
    // A run killed before its stop step left a server here: end it before reusing the folder.
    if (std::filesystem::exists(dir / "server.pid")) mariadb_server::stop(dir, 30s);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir);
    auto server = mariadb_server::start(
        {.dir = dir, .when_destroyed = mariadb_server::options::on_destroy::keep_running});
    std::printf("mariadbd %d listening on 127.0.0.1:%d (%s)\n", static_cast<int>(server->pid()),
                server->endpoint().port, dir.c_str());
    return 0;
}

int stop(const std::filesystem::path& dir) {
    const bool stopped = mariadb_server::stop(dir, 60s);
    std::printf("mariadbd in %s %s\n", dir.c_str(), stopped ? "stopped" : "was not running");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: tkt-mariadb start|stop DIR\n");
        return 2;
    }
    const std::string_view command = argv[1];
    try {
        if (command == "start") return start(argv[2]);
        if (command == "stop") return stop(argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tkt-mariadb %s: %s\n", argv[1], e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: tkt-mariadb start|stop DIR\n");
    return 2;
}
