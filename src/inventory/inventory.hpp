#pragma once
// The `Inventory` port (DESIGN.md §4, §5): which seat (or how much of a general-admission zone)
// is AVAILABLE, HELD by a hold, or SOLD, per event. A fast, rebuildable view — the database is
// the truth; on start the inventory is rebuilt from sold tickets and unexpired pending orders.
//
// Promises, for every engine (checked by the conformance suite in inventory_conformance.hpp):
// - a hold is atomic and all-or-nothing: every requested seat (or the whole quantity) or none;
// - no seat is ever in two holds, or held and sold, or sold twice;
// - sold + held + available = capacity, per zone too;
// - held + sold per (event, user) never exceeds the event's max_per_user, and one hold has at
//   most `seats_per_hold_max` seats / quantity;
// - holds end by release, commit, or expiry through `expire(now)` (a sweeper calls it; the
//   engine finds expired holds without scanning every hold);
// - a pinned hold (its order is being confirmed with the payment provider) never expires;
// - every change bumps the event's `version`, so seat maps can be cached by version; each seat
//   (and zone) in a snapshot carries the version that last changed it.
// All calls may come from any thread concurrently. Time is passed in, never read.
//
// Failure: an engine that keeps its state elsewhere (Redis) throws `unavailable` when it cannot
// reach it; business outcomes are values, never exceptions.
//
// g++ 12: a coroutine's by-value argument is destroyed twice when the call sits inside the
// co_await expression itself. Start the call in one statement and await it in the next:
//   auto op = inv.hold(std::move(request)); auto held = co_await std::move(op);
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/problem.hpp"

namespace tkt::inventory {

using event_id = std::int64_t;
using user_id = std::int64_t;

inline constexpr std::int32_t seats_per_hold_max = 4;

struct zone_spec {
    std::string name;
    std::int32_t capacity = 0;
};

// What an event sells. Reserved seating lists every seat id ("A-3-12"); general admission
// lists zones. An event has one or the other.
struct layout {
    event_id event = 0;
    std::vector<std::string> seats;
    std::vector<zone_spec> zones;
    std::int32_t max_per_user = 4;
};

// One hold's content: seats, or a zone and a quantity.
struct hold_items {
    std::vector<std::string> seats;
    std::string zone;
    std::int32_t quantity = 0;

    std::int32_t count() const {
        return seats.empty() ? quantity : static_cast<std::int32_t>(seats.size());
    }
};

enum class hold_state { held, pinned };

struct hold_request {
    event_id event = 0;
    user_id user = 0;
    std::string hold;  // chosen by the caller, unique per event
    hold_items items;
    time_point expires_at;
};

struct hold_info {
    event_id event = 0;
    user_id user = 0;
    std::string hold;
    hold_items items;
    time_point expires_at;
    hold_state state = hold_state::held;
};

enum class hold_error {
    unknown_event,     // no layout loaded
    invalid,           // empty, both seats and zone, quantity ≤ 0, a seat twice
    unknown_seat,      // a seat id or zone that the event does not have (`seats` lists them)
    seat_unavailable,  // held or sold (`seats` lists them)
    sold_out,          // the zone has fewer available than asked
    per_hold_limit,    // more than seats_per_hold_max in one hold
    per_user_limit,    // held + sold by this user would pass max_per_user
    duplicate_hold,    // the hold id is taken
};

struct hold_failure {
    hold_error code = hold_error::invalid;
    std::vector<std::string> seats;
};

enum class seat_status { available, held, sold };

struct seat_state {
    std::string id;
    seat_status status = seat_status::available;
    // The event version whose change last set this seat's status (0: never since load). A
    // client holding a snapshot at version v is up to date with every seat whose version ≤ v,
    // so the changes after v are exactly the seats with version > v (the seat stream's deltas).
    std::uint64_t version = 0;
};

struct zone_state {
    std::string name;
    std::int32_t capacity = 0;
    std::int32_t available = 0;
    std::int32_t held = 0;
    std::int32_t sold = 0;
    std::uint64_t version = 0;  // as seat_state::version, for the zone's counts
};

struct snapshot {
    event_id event = 0;
    std::uint64_t version = 0;
    std::vector<seat_state> seats;  // reserved seating, in layout order
    std::vector<zone_state> zones;  // general admission, in layout order
};

struct counts {
    std::int64_t capacity = 0;
    std::int64_t available = 0;
    std::int64_t held = 0;
    std::int64_t sold = 0;
};

// The engine could not reach where it keeps its state (Redis down, an error reply, a deadline
// passed). Nothing was changed — or, for a timeout, it may have been: the command may still
// have run. An `unavailable_error`, so a request that meets it is answered 503 (http/server).
// The embedded engine never throws it.
class unavailable : public unavailable_error {
public:
    using unavailable_error::unavailable_error;
};

// What restore() rebuilds an event from (after a restart, or after Redis lost its data): the
// layout, the seats of paid orders' tickets, and the holds of pending (or pinned) orders.
struct restoration {
    layout l;
    std::vector<std::pair<user_id, hold_items>> sold;  // from paid orders' tickets
    std::vector<hold_info> holds;     // pending / pinned orders' holds (state kept)
    std::uint64_t version_floor = 0;  // the event's version afterwards is > this
};

struct restore_outcome {
    // false: only_if_absent and the event was loaded already.
    bool restored = false;
    // Hold ids that conflicted (their orders must expire).
    std::vector<std::string> holds_refused;
    // Sold seats (or zone units) that conflicted (logged by the caller).
    std::int32_t sold_refused = 0;
};

enum class restore_mode {
    replace,         // as load(): whatever the event had is gone
    only_if_absent,  // change nothing when the event has a layout (two nodes: exactly one wins)
};

class inventory {
public:
    virtual ~inventory() = default;

    // Loads (or replaces) an event's layout, with every seat AVAILABLE and no hold.
    virtual boost::asio::awaitable<void> load(layout l) = 0;
    // load() + mark_sold() of every sold entry + hold() (+ pin()) of every hold, as one change:
    // no other call sees the event in between. Sold entries are facts: each seat (or zone
    // unit) that does not conflict is recorded, past the limits, and the rest are counted in
    // `sold_refused`. A hold that hold() would refuse is listed in `holds_refused`. The event's
    // version afterwards is greater than `version_floor`, the engine's base and the version it
    // had, and every seat and zone carries it.
    virtual boost::asio::awaitable<restore_outcome> restore(restoration r, restore_mode mode) = 0;
    // Whether a layout is loaded for the event.
    virtual boost::asio::awaitable<bool> has_event(event_id e) = 0;

    virtual boost::asio::awaitable<std::expected<hold_info, hold_failure>> hold(hold_request r) = 0;
    // Seats back to AVAILABLE. False when the hold does not exist (already ended).
    virtual boost::asio::awaitable<bool> release(event_id e, std::string hold) = 0;
    // Marks the hold pinned (it no longer expires); nullopt when it does not exist.
    virtual boost::asio::awaitable<std::optional<hold_info>> pin(event_id e, std::string hold) = 0;
    // The hold's seats become SOLD to its user; the hold ends. False when it does not exist.
    virtual boost::asio::awaitable<bool> commit(event_id e, std::string hold) = 0;
    // Records seats as SOLD to `user` without a hold (rebuild from tickets). Fails like hold().
    virtual boost::asio::awaitable<std::expected<void, hold_failure>> mark_sold(
        event_id e, user_id user, hold_items items) = 0;
    // SOLD seats back to AVAILABLE (refund); the user's count goes down. False when they were
    // not sold to that user.
    virtual boost::asio::awaitable<bool> unsell(event_id e, user_id user, hold_items items) = 0;
    // Ends and returns every unpinned hold with expires_at ≤ now, across events.
    virtual boost::asio::awaitable<std::vector<hold_info>> expire(time_point now) = 0;
    virtual boost::asio::awaitable<std::optional<hold_info>> find(event_id e, std::string hold) = 0;

    virtual boost::asio::awaitable<std::optional<snapshot>> snapshot_of(event_id e) = 0;
    virtual boost::asio::awaitable<std::optional<counts>> counts_of(event_id e) = 0;
    // The event's version now (0 when unknown); cheap, for cache checks.
    virtual boost::asio::awaitable<std::uint64_t> version_of(event_id e) = 0;
    // Checks the invariants above on the engine's own state; each broken one is one line.
    virtual boost::asio::awaitable<std::vector<std::string>> audit(event_id e) = 0;
};

}  // namespace tkt::inventory
