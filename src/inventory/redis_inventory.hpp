#pragma once
// redis_inventory: the distributed `inventory` engine (DESIGN.md §4) on the project's Redis
// client, for many nodes sharing one Redis (a single server or a Cluster).
//
// Keys. Every key of event 42 carries the hash tag `{e:42}`, so on a Cluster they sit in one
// slot and one Lua script can read and write all of them atomically:
//   {e:42}:meta   hash  ver (the event's version), kind (r: seats, g: zones), max (per user),
//                       cap, held, sold (the event's counts, kept by every script)
//   {e:42}:order  list  seat ids (or zone names) in layout order, for the snapshot
//   {e:42}:seats  hash  seat id → <status><version>[:<payload>]: "a17" available since version
//                       17, "h18:<hold id>" held by that hold, "s19:<user>" sold to that user
//   {e:42}:zones  hash  c:<zone> capacity, h:<zone> held, s:<zone> sold, v:<zone> version
//   {e:42}:holds  hash  hold id → user \x1f expires_at (ms since epoch) \x1f state (h held,
//                       p pinned) \x1f zone \x1f quantity [\x1f seat]...
//   {e:42}:exp    zset  hold id scored by expires_at (ms); unpinned holds only
//   {e:42}:users  hash  h:<user> held, s:<user> sold (seats and zone units), z:<user>:<zone>
//                       zone units sold to the user (s: and z: fields are dropped at 0; h:
//                       fields stay, which saves a command per release on the hot path)
// and, in a slot of its own, `ticketon:inv:events`: the set of event ids loaded through any
// node, which expire() walks.
//
// Operations. Each write is one Lua script (EVALSHA) on the event's keys, so it is atomic
// against every other node's: a hold reads and writes O(seats in the hold) fields, expire reads
// the due holds from the expiry zset (ZRANGEBYSCORE ≤ now), load and restore are O(layout).
// find, counts_of, version_of and has_event are one plain command; snapshot_of one script.
// Every script that changes something increments `ver` once and stamps the seats and zones it
// touched with the new value. Two nodes calling expire() at once each end a different part of
// the due holds: a hold is removed and returned by exactly one script.
//
// Time is passed in: expires_at is stored in whole milliseconds since the epoch (truncated), so
// find() and expire() return it to the millisecond. Versions: load and restore set the event's
// version above the one it had and above `version_base` (the server passes its start time in
// microseconds, as to the memory engine), so versions keep growing across restarts.
//
// Failure: when Redis cannot be reached, times out or answers an error, every call throws
// `inventory::unavailable` with the Redis error in its message. Each call is one request, so
// nothing was changed — unless the request timed out or the connection dropped after it was
// written, in which case the script may have run.
//
// Limits: mark_sold, unsell and restore's sold entries name at most a few thousand seats each
// (Lua's unpack limit); layouts may be any size.
//
// Thread-safety: every method may be called from any thread, as the client's. The client must
// outlive the engine and its calls.
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.hpp"
#include "redis/client.hpp"
#include "redis/script.hpp"

namespace tkt::inventory {

class redis_inventory final : public inventory {
public:
    explicit redis_inventory(redis::client& client, std::uint64_t version_base = 0);

    boost::asio::awaitable<void> load(layout l) override;
    boost::asio::awaitable<restore_outcome> restore(restoration r, restore_mode mode) override;
    boost::asio::awaitable<bool> has_event(event_id e) override;
    boost::asio::awaitable<std::expected<hold_info, hold_failure>> hold(hold_request r) override;
    boost::asio::awaitable<bool> release(event_id e, std::string hold) override;
    boost::asio::awaitable<std::optional<hold_info>> pin(event_id e, std::string hold) override;
    boost::asio::awaitable<bool> commit(event_id e, std::string hold) override;
    boost::asio::awaitable<std::expected<void, hold_failure>> mark_sold(event_id e, user_id user,
                                                                        hold_items items) override;
    boost::asio::awaitable<bool> unsell(event_id e, user_id user, hold_items items) override;
    boost::asio::awaitable<std::vector<hold_info>> expire(time_point now) override;
    boost::asio::awaitable<std::optional<hold_info>> find(event_id e, std::string hold) override;
    boost::asio::awaitable<std::optional<snapshot>> snapshot_of(event_id e) override;
    boost::asio::awaitable<std::optional<counts>> counts_of(event_id e) override;
    boost::asio::awaitable<std::uint64_t> version_of(event_id e) override;
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e) override;

    // The keys of event `e`, in the order every script takes them (tests, operations).
    static std::vector<std::string> keys_of(event_id e);
    static constexpr std::string_view events_key = "ticketon:inv:events";
    // At most this many holds end in one expire script; expire() repeats it while it is full.
    static constexpr int expire_batch_max = 256;

private:
    // Runs `s` on the event's keys; throws `unavailable` when Redis does not answer with a reply.
    boost::asio::awaitable<redis::reply> run(const redis::script& s, event_id e,
                                             std::vector<std::string> args, std::string_view what);
    boost::asio::awaitable<redis::reply> exec(redis::command c, std::string_view what);
    // Adds the event to the shared set (before its keys exist, so no node misses its holds).
    boost::asio::awaitable<void> remember(event_id e);
    boost::asio::awaitable<std::vector<event_id>> known_events();

    redis::client& client_;
    std::uint64_t version_base_ = 0;
    redis::script load_;
    redis::script restore_;
    redis::script hold_;
    redis::script end_;
    redis::script pin_;
    redis::script mark_sold_;
    redis::script unsell_;
    redis::script expire_;
    redis::script snapshot_;
    redis::script dump_;

    std::mutex known_mutex_;
    std::set<event_id> known_;  // events this node loaded or restored
};

}  // namespace tkt::inventory
