#pragma once
// GET /events/{id}/queue/stream (DESIGN.md §6, §7): each waiting user's place, pushed as the
// line moves. One feed per node: it subscribes to the bus topic "queue.<event>" of each event
// its clients watch, and when a new head arrives
// - the clients whose seq it passed get `admitted` {seq, entryToken, expiresAt} (their ticket is
//   read back from the room, so a user who left meanwhile gets nothing);
// - every other client gets `position` {position, etaSeconds}, computed by arithmetic
//   (seq − head), at most once a second per event: a head that comes sooner is held back to the
//   second's end, and only the newest is written (push_latest). The seconds are counted from
//   when each push was due, not from when it ran: a push held back by a busy thread does not
//   push every later one back too (the next may then follow it sooner than a second).
// Clients in the pre-queue (no seq yet) learn theirs at the first head after opening.
// While a stream is open its user keeps their place (no grace runs); when it closes, the grace
// starts.
//
// Thread-safety: any thread. Each event's watchers live under the event's own mutex; bus
// callbacks only push (never suspend) and hand admissions to a coroutine.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "auth/user.hpp"
#include "bus/bus.hpp"
#include "http/message.hpp"
#include "http/sse_hub.hpp"
#include "waiting_room/service.hpp"

namespace tkt::waiting_room {

class queue_feed {
public:
    queue_feed(boost::asio::io_context& io, service& svc, bus::bus& b, http::sse_hub& hub,
               std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event);
    ~queue_feed();
    queue_feed(const queue_feed&) = delete;
    queue_feed& operator=(const queue_feed&) = delete;

    // The stream for `who` in event `event_id`'s line: 404 when they are not in it (join first).
    boost::asio::awaitable<http::response> open(auth::principal who, std::int64_t event_id);

    // Events watched and watchers, for tests and metrics.
    std::size_t watchers(std::int64_t event_id) const;

    struct topic;

private:
    std::shared_ptr<topic> topic_of(std::int64_t event_id);
    void on_head(const std::shared_ptr<topic>& t, seq_t head);
    // Writes every waiting client's position; `due`: the second it counts against.
    void push_positions(topic& t, std::chrono::steady_clock::time_point due);

    boost::asio::io_context& io_;
    service& svc_;
    bus::bus& bus_;
    http::sse_hub& hub_;
    std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<topic>> topics_;
};

}  // namespace tkt::waiting_room
