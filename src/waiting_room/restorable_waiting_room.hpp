#pragma once
// restorable_waiting_room: a `waiting_room` engine whose rooms can be taken out whole and put
// back — what the database journal (journaled_waiting_room.hpp) needs to rebuild the rooms after
// a restart (the memory engine) or after Redis lost its data (the Redis engine).
//
// `save` is the room as it stands (nullopt: no room). `restore` puts a saved room in place in
// one step, every member counting as seen at `now` (their grace starts again), and answers
// whether it did: with restore_mode::replace it always does (what the room was is gone); with
// restore_mode::only_if_absent it changes nothing when the event has a room already, so that of
// two nodes restoring one room at once exactly one does it, and a room that came back meanwhile
// (users joined it again) is not overwritten.
//
// g++ 12: start a coroutine with by-value arguments in one statement and co_await it in the
// next (see inventory.hpp).
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "waiting_room/waiting_room.hpp"

namespace tkt::waiting_room {

enum class restore_mode { replace, only_if_absent };

class restorable_waiting_room : public waiting_room {
public:
    virtual boost::asio::awaitable<std::optional<saved_room>> save(event_id e) = 0;
    virtual boost::asio::awaitable<bool> restore(event_id e, saved_room saved, time_point now,
                                                 restore_mode mode) = 0;
};

}  // namespace tkt::waiting_room
