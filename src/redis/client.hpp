#pragma once
// `client`: what the Redis engines talk to — one server (a pipelined `connection`) or a Cluster
// (`cluster_client`, which routes each command by its key's slot). The engines are written once
// against this and run on either; `--redis redis://a:1` makes a single-server client,
// `--redis redis://a:1,redis://b:2,…` a Cluster client seeded with those nodes.
//
// Thread-safety and lifetime: as the connection's or the cluster client's it fronts.
#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "redis/connection.hpp"
#include "redis/script.hpp"

namespace tkt::redis {

class cluster_client;

class client {
public:
    // A single server.
    client(boost::asio::any_io_executor executor, connection_options options);
    // A Cluster seeded by `seeds` (host:port); `node` is every node's connection options.
    client(boost::asio::any_io_executor executor, std::vector<connection_options> seeds);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // From `--redis`: one URL, or several comma-separated for a Cluster. An error names what is
    // wrong; `timeout` is every request's deadline.
    static std::expected<std::unique_ptr<client>, std::string> from_urls(
        boost::asio::any_io_executor executor, std::string_view urls,
        std::chrono::milliseconds timeout);

    bool is_cluster() const { return cluster_ != nullptr; }
    // Grows whenever a connection to a server is (re)established. A Redis restart or failover
    // drops the connections, so state kept in Redis may have been lost since the epoch a caller
    // last saw: the engines' owners check it before trusting that state (DESIGN.md §4).
    std::uint64_t epoch() const;

    // As connection::exec (a Cluster routes it by the command's first key). Not a coroutine
    // itself: the command is encoded before it returns.
    boost::asio::awaitable<result> exec(const command& c);
    // As redis::eval; on a Cluster every key must share one hash tag.
    boost::asio::awaitable<result> eval(const script& s, const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args);

    // The single server's connection (nullptr on a Cluster): for Pub/Sub and the lease.
    connection* single() { return single_.get(); }
    // The options of the first server (a subscriber connects there).
    const connection_options& first() const { return first_; }

    void close();

private:
    connection_options first_;
    std::unique_ptr<connection> single_;
    std::unique_ptr<cluster_client> cluster_;
};

}  // namespace tkt::redis
