#pragma once
// GET /events/{id}/seats/stream (DESIGN.md §7, issue 11): the seat map keeping itself up to
// date. Every `seats` event is a delta (seat_delta.hpp) {version, from, changes|zones} whose
// SSE id is its version:
// - a client connects with the version of the snapshot it holds (`?since=`, or Last-Event-ID /
//   `lastEventId` when it reconnects) and first gets one catch-up delta from there to now;
// - then, at most every `tick`, a delta of what changed since the last one, coalesced: a burst
//   of holds is one message;
// - a client with no version, one from before a restart (ahead of the inventory), or so far
//   behind that the catch-up would be larger than the map gets `reset` {version}: re-read
//   GET /events/{id}/seats and go on applying deltas from there.
// A client applies a delta when from ≤ its version < version; every delta chains onto the one
// before it, so applying them in order always equals a fresh snapshot.
//
// Who computes: `tick()` looks at the inventory's version of each event that has watchers on
// this node and, when it moved, takes one snapshot and publishes the delta on the bus topic
// "seats.<event>"; each node's subscription fans it out to its own clients. A client that
// connects while a delta is in flight gets its catch-up and then exactly the deltas published
// after it registered, so nothing falls between the two.
//
// Thread-safety: any thread; one mutex per event, never held across a suspension.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "bus/bus.hpp"
#include "catalog/event.hpp"
#include "http/message.hpp"
#include "http/sse_hub.hpp"
#include "inventory/inventory.hpp"

namespace tkt::catalog {

// The catch-up past which a client is told to re-read the snapshot instead.
inline constexpr std::size_t seat_catch_up_bytes_max = 16 * 1024;

class seat_feed {
public:
    seat_feed(inventory::inventory& inv, bus::bus& b, http::sse_hub& hub);
    ~seat_feed();
    seat_feed(const seat_feed&) = delete;
    seat_feed& operator=(const seat_feed&) = delete;

    // The stream of event `event_id` for a client holding the snapshot at `since`.
    boost::asio::awaitable<http::response> open(std::int64_t event_id,
                                                std::optional<std::uint64_t> since);
    // One look at every watched event's version (the app calls it every 250 ms).
    boost::asio::awaitable<void> tick();

    std::size_t watchers(std::int64_t event_id) const;

    struct topic;

private:
    std::shared_ptr<topic> topic_of(std::int64_t event_id);

    inventory::inventory& inventory_;
    bus::bus& bus_;
    http::sse_hub& hub_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<topic>> topics_;
};

// The topic on which an event's seat deltas travel.
std::string seats_topic(std::int64_t event_id);

}  // namespace tkt::catalog
