#pragma once
// journaled_waiting_room: a `waiting_room` engine (the memory engine in the embedded deployment,
// the Redis engine in the distributed one: any restorable_waiting_room), with every change that
// must outlive a restart — or Redis losing its data — written to the database (migration 010:
// queue_rooms, queue_members) through its group-committed writer. After a restart `load()` puts
// every room back: everyone who had joined keeps their seq, the admitted keep their slot until
// it runs out, and the head does not move back. `restore_all()` does the same from a coroutine,
// and `restore_room()` puts one event's room back unless the engine has it (for a watcher that
// noticed Redis lost a room; of several nodes restoring at once, one does it).
//
// What is written: a join that put someone in the room (before it is answered, so an answered
// seq is durable), the pre-queue's draw, each tick that moved the head or admitted or removed
// someone (the head, the last seq, the admissions, the removals), leaves, and slots given back.
// Every row names the seq it is about, and a write never takes a row back to an older seq: a
// join or an admission changes a row only to a seq as new or newer, and a removal deletes only
// the row of the seq that left. So a removal of someone's old entry that commits after they
// joined again leaves the new entry, and two writes of one person committing out of order still
// leave the later state. Holds made with an entry are not journaled: after a restart that slot
// lasts until the entry expires, which can only keep the room under max_active.
//
// When the database is busy: a join retries its write a few times; if it still fails the join
// is undone in memory and `unavailable` thrown (the caller answers 503), so nobody is told a seq
// that would not survive a restart. The other writes (the draw, ticks, leaves, slots given back)
// queue per room, in order, and are written by one writer at a time; what fails stays queued
// (logged) and goes with the room's next write, at the latest on its next tick. Meanwhile memory
// is ahead of the journal, by at most what a restart then would forget: admissions and
// removals since the failure (the head never moves back: it is written as a maximum).
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "db/database.hpp"
#include "waiting_room/restorable_waiting_room.hpp"

namespace tkt::waiting_room {

class journaled_waiting_room final : public waiting_room {
public:
    journaled_waiting_room(restorable_waiting_room& engine, db::database& db);

    // Puts the journaled rooms back into the engine (replacing what it has); at start-up, before
    // serving. Blocking, and it runs the engine's restores on a private io_context: for an
    // engine that never suspends (memory), or one whose client runs on other threads.
    db::expected<std::size_t> load(time_point now);
    // The same from a coroutine (the database read on a DB thread); `mode` only_if_absent
    // leaves the rooms the engine has. The number of rooms restored.
    boost::asio::awaitable<db::expected<std::size_t>> restore_all(time_point now,
                                                                  restore_mode mode);
    // Puts event e's journaled room back into the engine unless the engine has a room for e:
    // whether this call did (false: the engine had it, or the journal has no room for e).
    boost::asio::awaitable<db::expected<bool>> restore_room(event_id e, time_point now);

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

    // Writes queued and not yet committed, over all rooms (0 when the journal is up to date).
    std::size_t backlog() const;

private:
    // One queued change of a room's rows.
    struct change {
        enum class kind { draw, admit, remove } what = kind::draw;
        user_id user = 0;
        seq_t seq = 0;
        std::int64_t admitted_until_ms = 0;  // admit
    };
    struct room_row {
        std::int64_t opened = 0;
        seq_t head = 0;
        seq_t last_seq = 0;
    };
    struct backlog_of_room {
        std::optional<room_row> row;  // the room's row to write (as maxima)
        std::vector<change> changes;  // in the order memory made them
        bool writing = false;         // a writer has taken the rest and is committing them
        std::uint64_t queued = 0;     // changes queued so far (a sequence number)
        std::uint64_t written = 0;    // of which committed
    };

    // Queues a room's changes, then writes the room's backlog unless a writer is at it already;
    // returns when these changes are committed (true) or a write failed (false; they stay
    // queued).
    boost::asio::awaitable<bool> record(event_id e, std::optional<room_row> row,
                                        std::vector<change> changes);
    static db::expected<void> write_changes(db::connection& c, event_id e, const room_row* row,
                                            const std::vector<change>& changes);
    static room_row max_of(const room_row& a, const room_row& b);
    std::size_t backlog_of(event_id e) const;
    // The journaled rooms (only e's when given).
    static db::expected<std::map<event_id, saved_room>> read_rooms(db::connection& c,
                                                                   std::optional<event_id> e);

    restorable_waiting_room& engine_;
    db::database& db_;
    mutable std::mutex mutex_;
    std::unordered_map<event_id, backlog_of_room> backlog_;
};

}  // namespace tkt::waiting_room
