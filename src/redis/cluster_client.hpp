#pragma once
// A Redis Cluster client: one pipelined `connection` per master, each command sent to the
// master that serves its routing key's slot (cluster.hpp decides; this carries it out).
//
// The slot map comes from `CLUSTER SLOTS`, asked of the seed nodes and then of the known
// masters, on first use and after every `MOVED`. A `MOVED` also points that one slot at its new
// master at once and the command is sent there; an `ASK` sends `ASKING` and the command, back
// to back on the target's connection, without touching the map (the slot is only migrating).
// A command follows at most `redirects_max` redirections, then the last error is returned.
// Commands without a key (PING, SCRIPT LOAD) go to any master.
//
// Every key of one Lua script must share a hash tag (`{e:42}`), as the engines' keys do; the
// cluster refuses a script whose keys span slots (CROSSSLOT), and so does this client's caller.
//
// Thread-safety: every method may be called from any thread; the map and the connections are
// guarded by one mutex, held only between suspensions. Must outlive the calls it started.
#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "redis/cluster.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"

namespace tkt::redis {

struct cluster_options {
    std::vector<node_address> seeds;  // any nodes of the cluster; at least one
    // For every node's connection; host and port are replaced by the node's.
    connection_options node;
    int redirects_max = 5;
};

struct cluster_stats {
    std::uint64_t moved = 0;      // MOVED redirections followed
    std::uint64_t ask = 0;        // ASK redirections followed
    std::uint64_t refreshes = 0;  // slot maps loaded
    std::uint64_t connects = 0;   // connections to nodes established, over every node
};

class cluster_client {
public:
    cluster_client(boost::asio::any_io_executor executor, cluster_options options);
    ~cluster_client();
    cluster_client(const cluster_client&) = delete;
    cluster_client& operator=(const cluster_client&) = delete;

    // As connection::exec, routed by routing_key(c). Not a coroutine itself.
    boost::asio::awaitable<result> exec(const command& c);
    boost::asio::awaitable<result> exec(const command& c, std::chrono::milliseconds timeout);
    // redis::eval, routed by the first key (any master when there is none).
    boost::asio::awaitable<result> eval(const script& s, const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args);

    // Loads the slot map now.
    boost::asio::awaitable<std::expected<void, error>> refresh();

    void close();
    cluster_stats stats() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace tkt::redis
