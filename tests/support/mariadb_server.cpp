#include "mariadb_server.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/testing/temp_dir.hpp"

namespace tkt::testing {
namespace {

using namespace std::chrono_literals;

// The account the tests connect with. The password holds characters a URL must escape, so
// every test that connects also checks that the URL parser decodes them.
constexpr std::string_view test_user = "tkt";
constexpr std::string_view test_password = "p@ss:w/rd%1";

std::filesystem::path find_program(std::initializer_list<const char*> candidates) {
    for (const char* c : candidates) {
        if (::access(c, X_OK) == 0) return c;
    }
    throw std::runtime_error(
        fmt::format("{} not found: run scripts/bootstrap (mariadb-server)", *candidates.begin()));
}

// A loopback port nobody listens on now. Another process may take it before mariadbd binds it;
// start() then sees the server die and tries another.
int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) throw std::runtime_error("socket() failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(s);
        throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(s);
    return ntohs(a.sin_port);
}

// Starts `argv` with stdin from /dev/null and stdout/stderr into `log`, in a session of its own
// (a Ctrl-C to the test's process group, or CTest ending the start step, does not reach it).
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::setsid();
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0) ::_exit(126);
        ::dup2(in, STDIN_FILENO);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

std::string tail_of(const std::filesystem::path& file, std::size_t bytes = 2000) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// Runs a program to completion; throws with its output when it fails.
void run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const pid_t pid = spawn(argv, log);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(fmt::format("{} failed:\n{}", argv[0], tail_of(log)));
    }
}

struct mysql_closer {
    void operator()(MYSQL* m) const { mysql_close(m); }
};
using mysql_ptr = std::unique_ptr<MYSQL, mysql_closer>;

// A connection over the unix socket as root (mariadb-install-db leaves root without a password
// for the socket), or over TCP as the test user; null when the server does not answer yet.
mysql_ptr connect_root(const std::filesystem::path& socket) {
    mysql_ptr m(mysql_init(nullptr));
    unsigned timeout = 2;
    mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (mysql_real_connect(m.get(), nullptr, "root", nullptr, nullptr, 0, socket.c_str(), 0) ==
        nullptr) {
        return nullptr;
    }
    return m;
}

void exec_or_throw(MYSQL* m, const std::string& sql) {
    if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
        throw std::runtime_error(fmt::format("{}: {}", sql, mysql_error(m)));
    }
}

bool running(pid_t pid) {
    // A process that ended but was not reaped yet (a zombie) counts as stopped.
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// True when `pid` is the mariadbd serving `dir` (a recorded pid may have been reused since).
bool is_server_of(pid_t pid, const std::filesystem::path& dir) {
    std::ifstream in(fmt::format("/proc/{}/cmdline", pid));
    std::stringstream ss;
    ss << in.rdbuf();
    const auto cmdline = ss.str();
    return cmdline.find("mariadbd") != std::string::npos &&
           cmdline.find(dir.string()) != std::string::npos;
}

// SIGTERM, then waits up to `timeout` for the server to finish; SIGKILL after that.
void terminate_and_wait(pid_t pid, bool child, std::chrono::seconds timeout) {
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (child) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return;
        } else if (!running(pid)) {
            return;
        }
        if (std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    if (child) ::waitpid(pid, nullptr, 0);
}

std::string percent_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

std::string mariadb_endpoint::url(std::string_view database) const {
    return fmt::format("mysql://{}:{}@{}:{}/{}", percent_encode(user), percent_encode(password),
                       host, port, database);
}

std::unique_ptr<mariadb_server> mariadb_server::start(options o) {
    const auto install_db =
        find_program({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"});
    const auto mariadbd = find_program({"/usr/sbin/mariadbd", "/usr/bin/mariadbd"});
    const auto data = o.dir / "data";
    const auto socket = o.dir / "sock";
    const auto log = o.dir / "mariadbd.log";
    run_to_end(
        {install_db.string(), "--no-defaults", "--auth-root-authentication-method=normal",
         "--skip-test-db", "--skip-name-resolve", "--user=root", "--datadir=" + data.string()},
        o.dir / "install.log");
    for (int attempt = 1;; ++attempt) {
        const int port = free_port();
        // Speed over durability: a test server loses nothing that matters in a crash. Log
        // flushed once a second, small buffer pool and log, no binary log, no DNS look-ups.
        const pid_t pid = spawn(
            {mariadbd.string(), "--no-defaults", "--datadir=" + data.string(),
             fmt::format("--port={}", port), "--bind-address=127.0.0.1",
             "--socket=" + socket.string(), "--pid-file=" + (o.dir / "mariadbd.pid").string(),
             "--log-error=" + log.string(), "--user=root", "--skip-log-bin", "--skip-name-resolve",
             "--innodb-flush-log-at-trx-commit=2", "--innodb-buffer-pool-size=64M",
             "--innodb-log-file-size=32M", "--innodb-doublewrite=0", "--max-connections=500",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_nopad_bin"},
            o.dir / "mariadbd.out");
        const auto deadline = std::chrono::steady_clock::now() + o.start_timeout;
        mysql_ptr root;
        bool exited = false;
        while (root == nullptr && std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                exited = true;
                break;
            }
            root = connect_root(socket);
            if (root == nullptr) std::this_thread::sleep_for(100ms);
        }
        if (exited && attempt < 3) continue;  // most likely the port was taken meanwhile
        if (root == nullptr) {
            if (!exited) terminate_and_wait(pid, true, 10s);
            throw std::runtime_error(
                fmt::format("mariadbd did not start in {}:\n{}", o.dir.string(), tail_of(log)));
        }
        // The test user connects over TCP with a password, as a deployment's would.
        exec_or_throw(root.get(), fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY '{}'", test_user,
                                              test_password));
        exec_or_throw(root.get(),
                      fmt::format("GRANT ALL PRIVILEGES ON *.* TO '{}'@'%'", test_user));
        mariadb_endpoint e{
            .port = port, .user = std::string(test_user), .password = std::string(test_password)};
        write_file(o.dir / "url", e.url(""));
        write_file(o.dir / "server.pid", std::to_string(pid));
        return std::unique_ptr<mariadb_server>(new mariadb_server(std::move(o), pid, e));
    }
}

bool mariadb_server::stop(const std::filesystem::path& dir, std::chrono::seconds timeout) {
    const auto text = read_file(dir / "server.pid");
    if (text.empty()) return false;
    const pid_t pid = static_cast<pid_t>(std::stol(text));
    if (pid <= 0 || !running(pid) || !is_server_of(pid, dir)) return false;
    terminate_and_wait(pid, false, timeout);
    return !running(pid);
}

mariadb_server::~mariadb_server() {
    if (options_.when_destroyed == options::on_destroy::stop) terminate_and_wait(pid_, true, 30s);
}

void admin_exec(const mariadb_endpoint& e, const std::string& sql) {
    mysql_ptr m(mysql_init(nullptr));
    unsigned timeout = 10;
    mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (mysql_real_connect(m.get(), e.host.c_str(), e.user.c_str(), e.password.c_str(), nullptr,
                           static_cast<unsigned>(e.port), nullptr, 0) == nullptr) {
        throw std::runtime_error(fmt::format("cannot connect to the test MariaDB on port {}: {}",
                                             e.port, mysql_error(m.get())));
    }
    exec_or_throw(m.get(), sql);
}

namespace {

// The endpoint the CTest fixture recorded: `url` is mysql://user:pass@host:port/ as written by
// start(); its parts are read back here rather than parsed as a general URL.
mariadb_endpoint endpoint_from_fixture(const std::filesystem::path& dir) {
    mariadb_endpoint e{
        .port = 0, .user = std::string(test_user), .password = std::string(test_password)};
    const auto url = read_file(dir / "url");
    const auto colon = url.rfind(':');
    const auto slash = url.rfind('/');
    if (url.empty() || colon == std::string::npos || slash == std::string::npos || slash < colon) {
        throw std::runtime_error(fmt::format(
            "TICKETON_TEST_MARIADB_DIR={}: no server recorded there (did the mariadb fixture run?)",
            dir.string()));
    }
    e.port = std::stoi(url.substr(colon + 1, slash - colon - 1));
    return e;
}

// The server this process started itself, stopped at exit (after the tests, whose databases
// are gone by then). The directory is declared first so that it is removed last.
struct own_server {
    temp_dir dir{"mariadb"};
    std::unique_ptr<mariadb_server> server = mariadb_server::start({.dir = dir.path()});
};

}  // namespace

const mariadb_endpoint& shared_mariadb() {
    static const mariadb_endpoint endpoint = [] {
        if (const char* dir = std::getenv("TICKETON_TEST_MARIADB_DIR"); dir && *dir) {
            return endpoint_from_fixture(dir);
        }
        static own_server own;
        return own.server->endpoint();
    }();
    return endpoint;
}

scratch_database::scratch_database() {
    static std::atomic<int> counter{0};
    name_ = fmt::format("tkt_{}_{}", ::getpid(), ++counter);
    admin_exec(shared_mariadb(), fmt::format("DROP DATABASE IF EXISTS {}", name_));
    admin_exec(
        shared_mariadb(),
        fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin", name_));
}

scratch_database::~scratch_database() {
    try {
        admin_exec(shared_mariadb(), fmt::format("DROP DATABASE IF EXISTS {}", name_));
    } catch (const std::exception&) {
        // A test that stopped the server leaves its database behind; the server's temp dir goes
        // with it anyway.
    }
}

}  // namespace tkt::testing
