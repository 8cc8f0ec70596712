#pragma once
// The `Bus` port (DESIGN.md §4): publish/subscribe between the nodes of a deployment. What
// travels on it is news, not truth — a queue's new head, an event's seat changes — so that each
// node can tell its own streaming clients; a message lost (a node restarting, a Redis failover)
// costs a client one late update, never a sale, because the truth is re-read on reconnect.
//
// Topics are plain strings ("queue.42", "seats.42"). A subscriber gets every message published
// on its topic after it subscribed, in publish order per publisher; nothing is kept for
// subscribers that come later. Handlers must be quick and must not block: the in-process engine
// calls them on the publisher's thread, the Redis engine on its reader. A handler may publish
// and may drop its own or other subscriptions.
//
// Thread-safety: every method may be called from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace tkt::bus {

using message_handler = std::function<void(std::string_view topic, std::string_view message)>;

// Ends its subscription when destroyed (or at `reset()`); after that its handler is not called
// again once the destructor returned, unless a call had already begun on another thread.
class subscription {
public:
    subscription() = default;
    explicit subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    subscription(subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, {})) {}
    subscription& operator=(subscription&& other) noexcept {
        if (this != &other) {
            reset();
            cancel_ = std::exchange(other.cancel_, {});
        }
        return *this;
    }
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() { reset(); }

    void reset() {
        if (auto cancel = std::exchange(cancel_, {})) cancel();
    }
    bool active() const { return static_cast<bool>(cancel_); }

private:
    std::function<void()> cancel_;
};

class bus {
public:
    virtual ~bus() = default;

    // Sends `message` to every current subscriber of `topic` (on every node). Never blocks on
    // the subscribers; a bus that cannot deliver drops the message.
    virtual void publish(std::string_view topic, std::string message) = 0;
    virtual subscription subscribe(std::string topic, message_handler handler) = 0;
    // Messages published since start, for metrics.
    virtual std::uint64_t published() const = 0;
};

}  // namespace tkt::bus
