#pragma once
// The C++ half of redis_inventory: turning what its scripts return into the port's values, and
// audit() — the invariants of inventory.hpp checked on a consistent dump of an event's keys
// (redis_inventory.hpp describes them). Plain functions, no I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.hpp"
#include "redis/resp.hpp"

namespace tkt::inventory::detail {

// Decimal digits to an integer; throws `unavailable` for anything else (Redis holds garbage).
std::int64_t integer_of(std::string_view text);

// A hold from its record in `{e:N}:holds`.
hold_info hold_of_record(event_id e, std::string hold, std::string_view record);

// The snapshot script's {version, kind, names, values}.
snapshot snapshot_of_reply(event_id e, const redis::reply& r);

// The dump script's {meta, order, seats, zones, holds, exp, users}: one line per broken
// invariant; empty for an unknown event.
std::vector<std::string> audit_dump(const redis::reply& dump);

}  // namespace tkt::inventory::detail
