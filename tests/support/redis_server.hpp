#pragma once
// For tests: a real `redis-server` (DESIGN.md §2, "real servers in tests"), started on a free
// 127.0.0.1 port in a temp dir with persistence off, ready (it has answered PING) when the
// constructor returns, and stopped (SIGTERM, then waited for) by the destructor. `restart()`
// brings it back on the same port, empty — what a Redis that lost its data looks like to a
// client. `redis_cluster` does the same for a Cluster of three masters.
//
// `call` sends one command over a fresh blocking connection and returns the reply, for a test's
// own setup and checks (CLIENT PAUSE, PUBSUB NUMSUB) without going through the client under
// test. Everything throws std::runtime_error when the server cannot be started or reached.
//
// Thread-safety: none; one test thread owns the fixture.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "common/testing/temp_dir.hpp"
#include "redis/resp.hpp"

namespace tkt::testing {

class redis_server {
public:
    // `extra_args` are appended to the command line (e.g. {"--cluster-enabled", "yes"}).
    explicit redis_server(std::vector<std::string> extra_args = {});
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::string host() const { return "127.0.0.1"; }
    std::uint16_t port() const { return port_; }
    std::string url() const;
    bool running() const { return pid_ > 0; }

    // SIGTERM and wait; the port is free afterwards. Idempotent.
    void stop();
    // Starts again on the same port, with no data.
    void start();
    void restart();
    // SIGSTOP / SIGCONT: a server that hangs. The kernel still accepts connections and
    // buffers what clients send; nothing is answered until `thaw()`. `call` would time out.
    void freeze();
    void thaw();

    redis::reply call(std::initializer_list<std::string_view> args) const;
    redis::reply call(const redis::command& c) const;

private:
    bool try_start();
    bool wait_ready(std::chrono::milliseconds timeout);

    temp_dir dir_{"redis"};
    std::vector<std::string> extra_args_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// Three masters, slots split evenly by `redis-cli --cluster create`, no replicas; ready (every
// node sees cluster_state:ok) when the constructor returns.
class redis_cluster {
public:
    redis_cluster();
    std::vector<std::uint16_t> ports() const;
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    std::size_t size() const { return nodes_.size(); }

private:
    std::vector<std::unique_ptr<redis_server>> nodes_;
};

// One blocking request to 127.0.0.1:`port` (2 s timeouts). Throws when it cannot connect.
redis::reply redis_call(std::uint16_t port, const redis::command& c);

}  // namespace tkt::testing
