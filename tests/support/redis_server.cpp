#include "support/redis_server.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#ifndef TKT_REDIS_SERVER_BIN
#define TKT_REDIS_SERVER_BIN "redis-server"
#endif
#ifndef TKT_REDIS_CLI_BIN
#define TKT_REDIS_CLI_BIN "redis-cli"
#endif

namespace tkt::testing {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A port nothing listens on right now: bound to 0, read back, released. Another process could
// take it before redis-server does; start() then tries another.
// A free loopback port: `wanted` itself, or any when 0 (0 back when `wanted` is taken).
std::uint16_t free_port(std::uint16_t wanted = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(wanted);
    if (wanted != 0) {
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        return free ? wanted : 0;
    }
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

class blocking_socket {
public:
    explicit blocking_socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        timeval tv{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error(fmt::format("cannot connect to 127.0.0.1:{}", port));
        }
    }
    ~blocking_socket() { ::close(fd_); }
    blocking_socket(const blocking_socket&) = delete;
    blocking_socket& operator=(const blocking_socket&) = delete;

    redis::reply call(const redis::command& c) {
        const std::string bytes = c.encode();
        for (std::size_t sent = 0; sent < bytes.size();) {
            auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send to redis-server failed");
            sent += static_cast<std::size_t>(n);
        }
        redis::parser p;
        std::array<char, 4096> buffer{};
        for (;;) {
            auto r = p.next();
            if (!r)
                throw std::runtime_error("redis-server answered bad RESP: " + r.error().message);
            if (*r) return std::move(**r);
            auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
            if (n <= 0) throw std::runtime_error("no answer from redis-server");
            p.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        }
    }

private:
    int fd_;
};

// Runs `argv` with stdout and stderr to `log`, returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(fmt::format("cannot run {}", args[0]));
    return pid;
}

}  // namespace

redis::reply redis_call(std::uint16_t port, const redis::command& c) {
    blocking_socket s(port);
    return s.call(c);
}

redis_server::redis_server(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
    // A Cluster node also listens on its port + 10000 (the cluster bus): both must be free, so
    // the port must be at most 55535 (ephemeral ports often are not).
    const bool cluster = std::ranges::find(extra_args_, "--cluster-enabled") != extra_args_.end();
    for (int tries = 0, starts = 0; tries < 200 && starts < 5; ++tries) {
        port_ = free_port();
        if (cluster && (port_ > 55535 || free_port(static_cast<std::uint16_t>(port_ + 10000)) == 0))
            continue;
        ++starts;
        if (try_start()) return;
    }
    throw std::runtime_error("redis-server did not start (see its log in " + dir_.path().string() +
                             ")");
}

redis_server::~redis_server() {
    stop();
}

std::string redis_server::url() const {
    return fmt::format("redis://127.0.0.1:{}", port_);
}

bool redis_server::try_start() {
    std::vector<std::string> args{TKT_REDIS_SERVER_BIN,
                                  "--port",
                                  std::to_string(port_),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no",
                                  "--dir",
                                  dir_.path().string(),
                                  "--daemonize",
                                  "no"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    pid_ = spawn(args, (dir_ / "redis.log").string());
    if (wait_ready(10s)) return true;
    stop();
    return false;
}

bool redis_server::wait_ready(std::chrono::milliseconds timeout) {
    const auto until = steady::now() + timeout;
    while (steady::now() < until) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;  // it exited: the port was taken, or a bad argument
            return false;
        }
        try {
            // A server started with --requirepass answers NOAUTH: it is up all the same.
            auto pong = redis_call(port_, redis::command{"PING"});
            if (pong == redis::reply::simple("PONG") || pong.text.starts_with("NOAUTH")) {
                return true;
            }
        } catch (const std::runtime_error&) {
            // Not listening yet.
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

void redis_server::freeze() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void redis_server::thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void redis_server::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // a frozen server must run to act on the SIGTERM
    const auto until = steady::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (steady::now() > until) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    pid_ = -1;
}

void redis_server::start() {
    if (pid_ > 0) return;
    // The old server's socket may linger a moment after it exited; a few tries cover that.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (try_start()) return;
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error(fmt::format("redis-server did not start again on port {}", port_));
}

void redis_server::restart() {
    stop();
    start();
}

redis::reply redis_server::call(std::initializer_list<std::string_view> args) const {
    return redis_call(port_, redis::command(args));
}

redis::reply redis_server::call(const redis::command& c) const {
    return redis_call(port_, c);
}

redis_cluster::redis_cluster() {
    for (int i = 0; i < 3; ++i) {
        nodes_.push_back(std::make_unique<redis_server>(
            std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file",
                                     "nodes.conf", "--cluster-node-timeout", "2000"}));
    }
    std::vector<std::string> args{TKT_REDIS_CLI_BIN, "--cluster", "create"};
    for (auto port : ports()) args.push_back(fmt::format("127.0.0.1:{}", port));
    args.insert(args.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    temp_dir log_dir("redis-cli");
    const std::string log = (log_dir / "create.log").string();
    pid_t pid = spawn(args, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("redis-cli --cluster create failed");
    }
    const auto until = steady::now() + 15s;
    for (auto& n : nodes_) {
        for (;;) {
            auto info = n->call({"CLUSTER", "INFO"});
            if (info.text.find("cluster_state:ok") != std::string::npos) break;
            if (steady::now() > until) throw std::runtime_error("the cluster did not become ok");
            std::this_thread::sleep_for(50ms);
        }
    }
}

std::vector<std::uint16_t> redis_cluster::ports() const {
    std::vector<std::uint16_t> out;
    for (const auto& n : nodes_) out.push_back(n->port());
    return out;
}

}  // namespace tkt::testing
