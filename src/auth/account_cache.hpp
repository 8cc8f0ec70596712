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
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "auth/user.hpp"
#include "common/clock.hpp"

namespace tkt::auth {

namespace detail {
// A map whose entries expire at a time of their own, bounded: a full map drops its expired
// entries, then everything if none had expired. Not thread-safe; the caches below lock.
template <class Key, class Value, class Time, class Hash = std::hash<Key>>
class expiring_map {
public:
    explicit expiring_map(std::size_t max_entries) : max_entries_(max_entries) {}

    // Expired from `expires` on.
    template <class K>
    std::optional<Value> find(const K& key, Time now) const {
        auto it = entries_.find(key);
        if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
        return it->second.value;
    }
    template <class K>
    void put(const K& key, Value value, Time expires, Time now) {
        if (entries_.size() >= max_entries_ && entries_.find(key) == entries_.end()) {
            std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
            if (entries_.size() >= max_entries_) entries_.clear();
        }
        entries_.insert_or_assign(Key(key), entry{std::move(value), expires});
    }
    void erase(const Key& key) { entries_.erase(key); }

private:
    struct entry {
        Value value;
        Time expires;
    };
    std::size_t max_entries_;
    std::unordered_map<Key, entry, Hash, std::equal_to<>> entries_;
};
}  // namespace detail

struct account_state {
    bool active = false;
    role level = role::user;
};

class account_cache {
public:
    // At most `max_entries` accounts are kept (detail::expiring_map).
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
    std::chrono::milliseconds ttl_;
    mutable std::mutex mutex_;
    detail::expiring_map<std::int64_t, account_state, time_point> entries_;
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
    void put(std::string_view token, std::int64_t user_id, std::int64_t expires_unix,
             std::int64_t now_unix);

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    mutable std::mutex mutex_;
    detail::expiring_map<std::string, std::int64_t, std::int64_t, text_hash> entries_;
};

}  // namespace tkt::auth
