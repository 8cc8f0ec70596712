#pragma once
// memory_waiting_room: the embedded `waiting_room` engine. One `room` per event under the
// event's own mutex; the map of rooms under a shared_mutex taken exclusively only to add or
// drop a room. Every call is a few hash lookups under one lock and never suspends.
//
// save()/restore() carry rooms across a restart (the journal, journaled_waiting_room.hpp); they
// never suspend, and save_now()/restore_now() are the same for callers that are not coroutines.
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "waiting_room/restorable_waiting_room.hpp"

namespace tkt::waiting_room {

class memory_waiting_room final : public restorable_waiting_room {
public:
    memory_waiting_room();
    ~memory_waiting_room() override;

    // Puts a saved room in place (restorable_waiting_room.hpp); whether it did.
    bool restore_now(event_id e, const saved_room& saved, time_point now, restore_mode mode);
    std::optional<saved_room> save_now(event_id e) const;

    boost::asio::awaitable<std::optional<saved_room>> save(event_id e) override;
    boost::asio::awaitable<bool> restore(event_id e, saved_room saved, time_point now,
                                         restore_mode mode) override;

    boost::asio::awaitable<ticket> join(event_id e, user_id u, time_point now) override;
    boost::asio::awaitable<std::optional<ticket>> status(event_id e, user_id u,
                                                         time_point now) override;
    boost::asio::awaitable<std::optional<seq_t>> leave(event_id e, user_id u) override;
    boost::asio::awaitable<void> attach(event_id e, user_id u, time_point now) override;
    boost::asio::awaitable<void> detach(event_id e, user_id u, time_point now) override;
    boost::asio::awaitable<std::vector<std::pair<user_id, seq_t>>> open(
        event_id e, std::uint64_t seed) override;
    boost::asio::awaitable<tick_outcome> tick(event_id e, time_point now, room_settings s) override;
    boost::asio::awaitable<bool> admitted(event_id e, user_id u, seq_t seq,
                                          time_point now) override;
    boost::asio::awaitable<bool> use(event_id e, user_id u, seq_t seq, std::string hold,
                                     time_point now) override;
    boost::asio::awaitable<std::vector<std::pair<user_id, std::string>>> holds_in_use(
        event_id e) override;
    boost::asio::awaitable<std::vector<departure>> holds_ended(
        event_id e, std::vector<std::pair<user_id, std::string>> ended) override;
    boost::asio::awaitable<std::optional<room_stats>> stats(event_id e) override;
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e,
                                                           std::int32_t max_active) override;
    boost::asio::awaitable<std::vector<event_id>> rooms() override;
    boost::asio::awaitable<void> drop(event_id e) override;

    // The synchronous core, for callers that are not coroutines and for the hold path.
    bool admitted_now(event_id e, user_id u, seq_t seq, time_point now) const;

private:
    struct slot {
        std::mutex mutex;
        room r;
    };
    std::shared_ptr<slot> find(event_id e) const;
    std::shared_ptr<slot> find_or_create(event_id e);

    mutable std::shared_mutex mutex_;
    std::unordered_map<event_id, std::shared_ptr<slot>> rooms_;
};

}  // namespace tkt::waiting_room
