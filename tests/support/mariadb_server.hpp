#pragma once
// A real MariaDB server for tests: `mariadbd` from Debian's mariadb-server, started on a free
// loopback port with its data directory in a temp dir, and stopped (SIGTERM, then wait) when the
// object goes. Start-up costs a few seconds (mariadb-install-db, then InnoDB), so the tests of a
// run share one server:
//
// - CTest starts it once per run through the `mariadb` fixture (tkt-mariadb start/stop, see
//   tests/support/CMakeLists.txt) and names its directory in TICKETON_TEST_MARIADB_DIR, where
//   `url` holds the server's address;
// - a test binary run by hand, without that variable, starts its own on first use and stops it
//   at exit (a GoogleTest global environment).
//
// Each test then works in a database of its own (`scratch_database`), made and dropped around
// it, so tests running in parallel processes against one server never see each other's rows.
// Blocking calls only; for tests, never for the server.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace tkt::testing {

// Where a running server is reached: `mysql://user:pass@127.0.0.1:port` (no database).
struct mariadb_endpoint {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string user;
    std::string password;

    // The URL of one of its databases, as `--db` takes it.
    std::string url(std::string_view database) const;
};

class mariadb_server {
public:
    struct options {
        std::filesystem::path dir;  // holds data/, the socket, the log; must exist
        std::chrono::seconds start_timeout{90};
        // keep_running: the server outlives this object (CTest's fixture start step); stop()
        // by directory ends it later.
        enum class on_destroy { stop, keep_running } when_destroyed = on_destroy::stop;
    };

    // Installs a data directory, starts mariadbd and waits until it answers; creates the test
    // user. Throws std::runtime_error with the tail of the server's log when it does not start.
    static std::unique_ptr<mariadb_server> start(options o);

    // Stops the server that start() left running in `dir` (keep_running): SIGTERM to the pid it
    // recorded, then waits for it to exit. True when it was running and stopped.
    static bool stop(const std::filesystem::path& dir, std::chrono::seconds timeout);

    ~mariadb_server();
    mariadb_server(const mariadb_server&) = delete;
    mariadb_server& operator=(const mariadb_server&) = delete;

    const mariadb_endpoint& endpoint() const { return endpoint_; }
    pid_t pid() const { return pid_; }

private:
    mariadb_server(options o, pid_t pid, mariadb_endpoint e)
        : options_(std::move(o)), pid_(pid), endpoint_(std::move(e)) {}

    options options_;
    pid_t pid_;
    mariadb_endpoint endpoint_;
};

// The server this test process uses: the CTest fixture's when TICKETON_TEST_MARIADB_DIR names
// one, else one started for this process on first call (stopped at exit). Throws when neither
// works.
const mariadb_endpoint& shared_mariadb();

// A database of its own for one test, on shared_mariadb(): created empty, dropped at the end.
class scratch_database {
public:
    scratch_database();
    ~scratch_database();
    scratch_database(const scratch_database&) = delete;
    scratch_database& operator=(const scratch_database&) = delete;

    const std::string& name() const { return name_; }
    std::string url() const { return shared_mariadb().url(name_); }

private:
    std::string name_;
};

// Runs one statement as the server's administrator, without a database (CREATE/DROP DATABASE).
// Throws std::runtime_error with the server's message.
void admin_exec(const mariadb_endpoint& e, const std::string& sql);

}  // namespace tkt::testing
