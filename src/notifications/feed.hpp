#pragma once
// GET /notifications/stream (DESIGN.md §7, issue 12): a user's notifications as they are made,
// on every stream (tab) the user has open on this node. Each `notification` event's SSE id is
// the notification's id, so a client that reconnects with Last-Event-ID (or `lastEventId`) gets
// every notification made after it, in order, before the live ones — however many it missed
// (up to catch_up_max; past that, or with an id no notification ever had, it gets `reset` and
// re-reads GET /notifications).
//
// A stream begins with `ready` {lastId, unreadCount}. A client that came without a
// Last-Event-ID gets `ready` with the SSE id = lastId, the user's newest notification (0 when
// none), so its reconnects resume from there; a reconnecting client gets `ready` without an id
// (its own Last-Event-ID stands) and then its catch-up.
//
// How nothing falls between the catch-up and the live events: the stream is registered for the
// user's bus topic first; what arrives while the catch-up is read is held back; then the
// catch-up is written, then what was held back, and from then on what arrives — each only when
// its id is above the last id written, which also drops a notification the dispatcher
// published twice (a replay after a crash).
//
// Thread-safety: any thread. One mutex for the users' topics, one per topic; the bus handler
// takes only its topic's.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "auth/user.hpp"
#include "bus/bus.hpp"
#include "db/database.hpp"
#include "http/message.hpp"
#include "http/sse_hub.hpp"

namespace tkt::notifications {

inline constexpr std::int64_t catch_up_max = 10'000;

class feed {
public:
    feed(db::database& db, bus::bus& b, http::sse_hub& hub);
    ~feed();
    feed(const feed&) = delete;
    feed& operator=(const feed&) = delete;

    // The stream of `who`'s notifications after `last_id` (nullopt: from now on).
    boost::asio::awaitable<http::response> open(auth::principal who,
                                                std::optional<std::int64_t> last_id);

    // Streams open for the user on this node; users with at least one.
    std::size_t streams(std::int64_t user_id) const;
    std::size_t users() const;

    struct topic;

private:
    db::database& db_;
    bus::bus& bus_;
    http::sse_hub& hub_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<topic>> topics_;
};

}  // namespace tkt::notifications
