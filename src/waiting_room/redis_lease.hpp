#pragma once
// redis_lease: the distributed `lease` engine (DESIGN.md §4) on the project's Redis client.
//
// Keys. The lease "queue.42" is the hash `{lease:queue.42}` (fields owner, until, token) and its
// fencing counter is `{lease:queue.42}:fence`; both share a hash tag, so one slot on a Cluster
// and one Lua script can touch both.
//
// Acquire (one script): when someone else holds the lease and it has not run out, false. Else the
// caller holds it until now + ttl: when the caller held it already (a renewal) its fencing token
// is kept, otherwise INCR on the counter gives a new one (the counter never expires, so tokens
// only grow as long as Redis keeps its data). Release (one script): compare-and-delete, only by
// the owner.
//
// Time. A lease runs out at the earlier of two moments: `until` = the caller's `now` + ttl,
// compared with the next caller's `now` (the nodes' clocks, which NTP keeps within a few ms of
// each other), and Redis's own PEXPIRE ttl, measured by the server's clock from the last acquire
// or renewal. The second is the safety net: a lease whose owner died, or whose nodes disagree
// about the time, still runs out one ttl after it was last renewed, by the server's clock.
// Two nodes' clocks apart by d can overlap by at most d; the fencing token tells their writes
// apart (`acquire_fenced`). The port has no place for the token, so `acquire` drops it.
//
// Failure. When Redis cannot be reached or answers an error, `acquire` answers false (a node
// that cannot renew must stop acting as the owner) and logs; `release` logs and leaves the
// lease to run out by itself.
//
// Thread-safety: as the client's; the scripts are immutable. The client (one server or a
// Cluster) must outlive the engine's calls.
#include <cstdint>
#include <optional>

#include "redis/client.hpp"
#include "redis/script.hpp"
#include "waiting_room/lease.hpp"

namespace tkt::waiting_room {

class redis_lease final : public lease {
public:
    explicit redis_lease(redis::client& client);

    boost::asio::awaitable<bool> acquire(std::string name, std::string owner,
                                         std::chrono::milliseconds ttl, time_point now) override;
    boost::asio::awaitable<void> release(std::string name, std::string owner) override;

    // As `acquire`, with the fencing token of the holding when `owner` holds it after the call
    // (the same token across renewals, a greater one for each new holding); nullopt when
    // someone else holds it or Redis failed.
    boost::asio::awaitable<std::optional<std::uint64_t>> acquire_fenced(
        std::string name, std::string owner, std::chrono::milliseconds ttl, time_point now);

    // The keys of lease `name` (tests, operations).
    static std::string key(std::string_view name);
    static std::string fence_key(std::string_view name);

private:
    redis::client& client_;
    redis::script acquire_;
    redis::script release_;
};

}  // namespace tkt::waiting_room
