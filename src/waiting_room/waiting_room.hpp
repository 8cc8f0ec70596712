#pragma once
// The `WaitingRoom` port (DESIGN.md §4, §6): every event's line — seqs, head, admitted slots —
// kept where every node of a deployment sees the same. The rules are those of room.hpp (the
// memory engine runs exactly that; the Redis engine must pass the same conformance suite,
// waiting_room_conformance.hpp).
//
// Calls may come from any thread concurrently. Time (and the pre-queue's shuffle seed) is
// passed in, never read. `tick` is called for an event by one caller at a time — the holder of
// the event's lease (lease.hpp) — but stays correct if two ever overlap.
//
// g++ 12: start a coroutine with by-value arguments in one statement and co_await it in the
// next (see inventory.hpp).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/problem.hpp"
#include "waiting_room/room.hpp"

namespace tkt::waiting_room {

// Thrown by an engine that could not record a change where it keeps its rooms (its store is
// busy or down): the change was not made, and the caller may try again.
class unavailable : public unavailable_error {
public:
    using unavailable_error::unavailable_error;
};

class waiting_room {
public:
    virtual ~waiting_room() = default;

    // Puts `u` in the event's room (or finds them there). The room is created on first use,
    // closed (a pre-queue) until open() is called.
    virtual boost::asio::awaitable<ticket> join(event_id e, user_id u, time_point now) = 0;
    virtual boost::asio::awaitable<std::optional<ticket>> status(event_id e, user_id u,
                                                                 time_point now) = 0;
    // Out of the room: the seq `u` had (nullopt when not in it).
    virtual boost::asio::awaitable<std::optional<seq_t>> leave(event_id e, user_id u) = 0;
    virtual boost::asio::awaitable<void> attach(event_id e, user_id u, time_point now) = 0;
    virtual boost::asio::awaitable<void> detach(event_id e, user_id u, time_point now) = 0;

    // Opens the room (shuffling its pre-queue by `seed`); who got which seq, empty when it was
    // open already.
    virtual boost::asio::awaitable<std::vector<std::pair<user_id, seq_t>>> open(
        event_id e, std::uint64_t seed) = 0;
    virtual boost::asio::awaitable<tick_outcome> tick(event_id e, time_point now,
                                                      room_settings s) = 0;

    virtual boost::asio::awaitable<bool> admitted(event_id e, user_id u, seq_t seq,
                                                  time_point now) = 0;
    virtual boost::asio::awaitable<bool> use(event_id e, user_id u, seq_t seq, std::string hold,
                                             time_point now) = 0;
    virtual boost::asio::awaitable<std::vector<std::pair<user_id, std::string>>> holds_in_use(
        event_id e) = 0;
    virtual boost::asio::awaitable<std::vector<departure>> holds_ended(
        event_id e, std::vector<std::pair<user_id, std::string>> ended) = 0;

    // nullopt: no room for the event.
    virtual boost::asio::awaitable<std::optional<room_stats>> stats(event_id e) = 0;
    // The room's invariants checked now (room::audit), one line per broken one.
    virtual boost::asio::awaitable<std::vector<std::string>> audit(event_id e,
                                                                   std::int32_t max_active) = 0;
    // The events that have a room.
    virtual boost::asio::awaitable<std::vector<event_id>> rooms() = 0;
    // Drops an event's room (the event ended or was cancelled).
    virtual boost::asio::awaitable<void> drop(event_id e) = 0;
};

}  // namespace tkt::waiting_room
