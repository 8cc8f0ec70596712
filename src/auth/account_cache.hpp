#pragma once
// What authenticate() needs to know of an account (active? which role?), remembered for a short
// time so that a burst of requests by one user reads the database once, not once per request.
//
// Changes this process makes (an admin's role or disable, a withdrawal) forget the entry at
// once, so they apply to the next request. A change made by another node applies within the
// time to live (`auth.account_cache_ms`; 0 turns the cache off). Thread-safe: the I/O threads
// share one instance under one short lock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/user.hpp"
#include "common/clock.hpp"

namespace tkt::auth {

struct account_state {
    bool active = false;
    role level = role::user;
};

class account_cache {
public:
    // At most `max_entries` accounts are kept; a full cache drops its expired entries, then
    // everything if none had expired.
    explicit account_cache(std::chrono::milliseconds ttl, std::size_t max_entries = 100'000);

    std::optional<account_state> find(std::int64_t user_id, time_point now) const;
    // Take the generation before reading the database and hand it to put(): a forget() in
    // between (a change that raced the read) makes put() keep nothing, so a state read before
    // the change is never remembered after it.
    std::uint64_t generation() const;
    void put(std::int64_t user_id, account_state state, time_point now, std::uint64_t generation);
    void forget(std::int64_t user_id);
    bool enabled() const { return ttl_.count() > 0; }

private:
    struct entry {
        account_state state;
        time_point expires;
    };
    std::chrono::milliseconds ttl_;
    std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, entry> entries_;
    std::uint64_t generation_ = 0;  // forget() calls so far
};

// Access tokens this process has verified already (signature, issuer, claims), with the user id
// they name, until they expire: a client sends the same token with every request, and checking
// the HMAC and decoding it again each time was a fifth of the CPU a hold cost. Only tokens that
// verified are kept, keyed by their whole text, so a forged or altered token always misses; the
// signing keys do not change while the process runs. Thread-safe, bounded like account_cache.
class verified_tokens {
public:
    explicit verified_tokens(std::size_t max_entries = 50'000);

    // The user id of `token` if it verified before and is not expired at `now_unix`.
    std::optional<std::int64_t> find(std::string_view token, std::int64_t now_unix) const;
    void put(std::string_view token, std::int64_t user_id, std::int64_t expires_unix, std::int64_t now_unix);

private:
    struct entry {
        std::int64_t user_id;
        std::int64_t expires_unix;
    };
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry, text_hash, std::equal_to<>> entries_;
};

}  // namespace tkt::auth
