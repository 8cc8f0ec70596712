#pragma once
// redis_waiting_room: the distributed `waiting_room` engine (DESIGN.md §4, §6) on the project's
// Redis client (one server or a Cluster). The rules are room.hpp's, carried out by one Lua script
// per operation, so each operation is atomic and every node sees the same rooms.
//
// Keys. Every key of event 42's room shares the hash tag `{q:42}`, so one slot on a Cluster
// and one script can touch them all:
//   {q:42}           hash: open (0/1), head, last_seq, pre_n (pre-queue joins so far, its
//                    order), allowance and last_tick (ms) of the fractional admit rate,
//                    admitted_total, listed (the room is in the rooms set). It exists exactly
//                    while the room does.
//   {q:42}:seq       hash user → seq (0 in the pre-queue): who is in the room.
//   {q:42}:waiting   zset user by seq: in line after opening, not admitted yet.
//   {q:42}:pre       zset user by join order: the pre-queue.
//   {q:42}:admitted  zset user by admitted_until (unix ms): the active slots.
//   {q:42}:away      zset user by last seen (unix ms): members neither admitted nor with a
//                    stream open, whom the grace sweep removes.
//   {q:42}:streams   hash user → streams open (absent: none).
//   {q:42}:holds     hash user → JSON array of the holds made with their entry.
// and, in a slot of its own, `q:rooms`: the set of events that have a room. A script cannot
// reach it on a Cluster, so the engine adds an event after the script that created its room
// answered that it is not listed yet (`listed` stays unset until the SADD succeeded, so a failed
// SADD is retried by the next join), and removes it after dropping the room.
//
// Costs. A join, status, leave, attach, detach, admitted, use: one script, O(log n). A tick:
// O((removed + admitted) · log n). open: O(pre-queue) (the whole draw in one script). save,
// restore, audit, holds_in_use: O(room) — for the journal, operations and the owner's checks.
//
// Time and randomness are passed in (unix ms); a tick's `last_tick` only moves forward, so two
// overlapping ticks (two nodes that both think they hold the lease) admit no more than one
// would. The pre-queue is shuffled in the script (Fisher–Yates over a Park–Miller generator
// seeded by `seed`): deterministic for a seed, not the memory engine's order.
//
// Failure. When Redis cannot be reached, times out or answers an error, the operation throws
// `unavailable` (the service answers 503); a timed-out script may still have run, which the
// operations' idempotence covers (a join again gives the same seq).
//
// Thread-safety: as the client's; the scripts are immutable. The client must outlive the
// engine's calls.
#include <string>
#include <vector>

#include "redis/client.hpp"
#include "redis/script.hpp"
#include "waiting_room/restorable_waiting_room.hpp"

namespace tkt::waiting_room {

class redis_waiting_room final : public restorable_waiting_room {
public:
    explicit redis_waiting_room(redis::client& client);

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

    boost::asio::awaitable<std::optional<saved_room>> save(event_id e) override;
    boost::asio::awaitable<bool> restore(event_id e, saved_room saved, time_point now,
                                         restore_mode mode) override;

    // The keys of event `e`'s room, in the order every script takes them (tests, operations).
    static std::vector<std::string> keys(event_id e);
    static std::string rooms_key();

private:
    // Runs `s` on e's keys; throws `unavailable` when Redis fails.
    boost::asio::awaitable<redis::reply> run(const redis::script& s, event_id e,
                                             const std::vector<std::string>& args,
                                             const char* what);
    // Adds e to the rooms set, then marks its room listed.
    boost::asio::awaitable<void> list(event_id e);

    redis::client& client_;
    redis::script join_;
    redis::script status_;
    redis::script leave_;
    redis::script attach_;
    redis::script detach_;
    redis::script open_;
    redis::script tick_;
    redis::script admitted_;
    redis::script use_;
    redis::script holds_in_use_;
    redis::script holds_ended_;
    redis::script stats_;
    redis::script audit_;
    redis::script save_;
    redis::script restore_;
    redis::script drop_;
    redis::script listed_;
};

}  // namespace tkt::waiting_room
