#pragma once
// journaled_waiting_room: the embedded deployment's `waiting_room` — the memory engine, with
// every change that must outlive a restart written to the database (migration 010: queue_rooms,
// queue_members) through its group-committed writer. After a restart `load()` puts every room
// back: everyone who had joined keeps their seq, the admitted keep their slot until it runs
// out, and the head does not move back.
//
// What is written: a join that put someone in the room (before it is answered, so an answered
// seq is durable), the pre-queue's draw, each tick that moved the head or admitted or removed
// someone (the head, the last seq, the admissions, the removals), leaves, and slots given back.
// Rows are written as upserts that never go back (a join's INSERT does nothing when an
// admission already wrote the row), so two writes of one person committing out of order still
// leave the later state. Holds made with an entry are not journaled: after a restart that slot
// lasts until the entry expires, which can only keep the room under max_active.
#include "db/database.hpp"
#include "waiting_room/memory_waiting_room.hpp"

namespace tkt::waiting_room {

class journaled_waiting_room final : public waiting_room {
public:
    journaled_waiting_room(memory_waiting_room& memory, db::database& db);

    // Puts the journaled rooms back into memory; at start-up, before serving. Blocking.
    db::expected<std::size_t> load(time_point now);

    boost::asio::awaitable<ticket> join(event_id e, user_id u, time_point now) override;
    boost::asio::awaitable<std::optional<ticket>> status(event_id e, user_id u,
                                                         time_point now) override;
    boost::asio::awaitable<bool> leave(event_id e, user_id u) override;
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
    boost::asio::awaitable<std::vector<user_id>> holds_ended(
        event_id e, std::vector<std::pair<user_id, std::string>> ended) override;
    boost::asio::awaitable<std::optional<room_stats>> stats(event_id e) override;
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e,
                                                           std::int32_t max_active) override;
    boost::asio::awaitable<std::vector<event_id>> rooms() override;
    boost::asio::awaitable<void> drop(event_id e) override;

private:
    boost::asio::awaitable<void> remove_members(event_id e, std::vector<user_id> users);

    memory_waiting_room& memory_;
    db::database& db_;
};

}  // namespace tkt::waiting_room
