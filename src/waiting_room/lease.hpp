#pragma once
// The `Lease` port (DESIGN.md §4): who runs an event's admission ticker. Whoever holds the lease
// named "queue.<event>" ticks that room; the others wait. A lease runs out by itself after its
// ttl unless its owner renews it, so a node that dies hands its rooms to another within one ttl.
// The embedded engine is one process, where the lease is always available to the only node,
// but it keeps the same rules (owner check, expiry) so the conformance suite holds for both.
//
// Calls may come from any thread. Time is passed in (the Redis engine uses the server's own
// clock for expiry, which is why `now` is only advice there).
#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"

namespace tkt::waiting_room {

class lease {
public:
    virtual ~lease() = default;
    // Takes `name` for `owner`, or renews it when `owner` already holds it, until now + ttl.
    // True when `owner` holds it after the call; false when someone else does.
    virtual boost::asio::awaitable<bool> acquire(std::string name, std::string owner,
                                                 std::chrono::milliseconds ttl, time_point now) = 0;
    // Gives `name` up if `owner` holds it (another owner's lease is left alone).
    virtual boost::asio::awaitable<void> release(std::string name, std::string owner) = 0;
};

}  // namespace tkt::waiting_room
