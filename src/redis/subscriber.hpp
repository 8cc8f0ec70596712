#pragma once
// Redis Pub/Sub: a connection of its own (a subscribed connection may send nothing but
// (UN)SUBSCRIBE, P(UN)SUBSCRIBE and PING) that listens to channels and patterns and hands every
// message to one handler.
//
// The subscriber remembers what it is subscribed to. When its connection drops it reconnects
// with the same backoff as `connection` and subscribes again to every channel and pattern, so
// a caller subscribes once for the life of the process. Messages published while it was
// disconnected are lost (Pub/Sub keeps nothing): what travels this way must be news, never
// truth (see bus/bus.hpp).
//
// Thread-safety: every method may be called from any thread. Its I/O runs on a strand of the
// I/O executor; the handler runs on a strand of `handler_executor`, one message at a time, in
// the order the server sent them. After `unsubscribe` or `punsubscribe` no further message of
// that channel or pattern reaches the handler once the call has been carried out on the strand.
// The handler must not block. Destroying the subscriber (or `close()`) stops it; handler calls
// already posted still run, so whatever the handler touches must outlive them.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "redis/connection.hpp"

namespace tkt::redis {

struct pubsub_message {
    std::string pattern;  // the pattern it matched; "" for a channel subscription
    std::string channel;
    std::string payload;
};

using pubsub_handler = std::function<void(const pubsub_message&)>;

struct subscriber_stats {
    std::uint64_t messages = 0;  // handed to the handler
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
};

class subscriber {
public:
    subscriber(boost::asio::any_io_executor io_executor, connection_options options,
               boost::asio::any_io_executor handler_executor, pubsub_handler handler);
    ~subscriber();
    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    void subscribe(std::string channel);
    void unsubscribe(std::string channel);
    void psubscribe(std::string pattern);
    void punsubscribe(std::string pattern);

    void close();
    bool connected() const;
    subscriber_stats stats() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace tkt::redis
