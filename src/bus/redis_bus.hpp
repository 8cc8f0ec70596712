#pragma once
// redis_bus: the distributed `bus` engine (DESIGN.md §4) on Redis Pub/Sub. Topic "queue.42" is
// the Redis channel "tkt:queue.42".
//
// Publish: PUBLISH through the node's shared, pipelined `redis::connection`, fired from a strand
// of the bus (so one thread's publishes reach Redis in the order it made them) with a deadline
// of `publish_timeout`; the caller never waits. A publish that fails or times out is counted
// (`failed()`), logged, and the message is dropped, as the port allows.
//
// Subscribe: one `redis::subscriber` per bus (per node). The first local subscription of a topic
// SUBSCRIBEs its channel, the last one to go UNSUBSCRIBEs it; the subscriber resubscribes by
// itself after a reconnect. Handlers run on a strand of the bus, one message at a time, outside
// every lock: the list of a topic's handlers is copied on write, so a handler may publish,
// subscribe, or drop its own or others' subscriptions (dropping only posts an UNSUBSCRIBE) —
// nothing waits on anything a handler holds. A subscription dropped on the strand (by a handler)
// is not called again, even for the message being handed out.
//
// Thread-safety: every method from any thread. The connection must outlive the bus and the
// publishes it started; subscriptions may outlive the bus (they then do nothing).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "bus/bus.hpp"
#include "redis/connection.hpp"

namespace tkt::bus {

struct redis_bus_options {
    std::string channel_prefix = "tkt:";
    std::chrono::milliseconds publish_timeout{1000};
};

class redis_bus final : public bus {
public:
    // `publisher` is the node's shared connection; `subscriber_options` open the bus's own
    // Pub/Sub connection to the same server.
    redis_bus(boost::asio::any_io_executor executor, redis::connection& publisher,
              redis::connection_options subscriber_options, redis_bus_options options = {});
    ~redis_bus() override;
    redis_bus(const redis_bus&) = delete;
    redis_bus& operator=(const redis_bus&) = delete;

    void publish(std::string_view topic, std::string message) override;
    subscription subscribe(std::string topic, message_handler handler) override;
    std::uint64_t published() const override;

    // Publishes that failed or timed out (their messages were dropped).
    std::uint64_t failed() const;
    // Local subscribers of `topic` now (tests, metrics).
    std::size_t subscribers(std::string_view topic) const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

}  // namespace tkt::bus
