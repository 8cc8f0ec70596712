#pragma once
// Public identifiers. Both fit Toss's orderId rule (6–64 characters of [A-Za-z0-9_-]).
// Thread-safe (libsodium's randombytes, drawn in blocks per thread).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace tkt {

// A short prefix and 20 random base62 characters (~119 bits), e.g. "tkt_4fQ9x…": reveals
// nothing about volume, order or time.
std::string random_id(std::string_view prefix);

// A positive decimal id from a path segment ("42"); nullopt for anything else (empty, signs,
// spaces, zero, overflow).
std::optional<std::int64_t> parse_id(std::string_view text);

// A short prefix, 8 base62 characters of the milliseconds since 1970 at `now` (fixed width, so
// ids sort by creation time for the next 6,800 years), then 14 random base62 characters (~83 bits).
// For rows written at a high rate (orders, holds): their primary key and unique indexes grow at
// the end instead of at random pages. Reveals the creation time, which the API shows anyway.
std::string sortable_id(std::string_view prefix, time_point now);

}  // namespace tkt
