#include "auth/account_cache.hpp"

#include "common/assert.hpp"

namespace tkt::auth {

account_cache::account_cache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), entries_(max_entries) {
    TKT_ASSERT(ttl_.count() >= 0);
    TKT_ASSERT(max_entries >= 1);
}

std::optional<account_state> account_cache::find(std::int64_t user_id, time_point now) const {
    if (!enabled()) return std::nullopt;
    std::lock_guard lock(mutex_);
    return entries_.find(user_id, now);
}

std::uint64_t account_cache::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

void account_cache::put(std::int64_t user_id, account_state state, time_point now,
                        std::uint64_t generation) {
    if (!enabled()) return;
    std::lock_guard lock(mutex_);
    if (generation != generation_) return;
    entries_.put(user_id, state, now + ttl_, now);
}

void account_cache::forget(std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    ++generation_;
    entries_.erase(user_id);
}

verified_tokens::verified_tokens(std::size_t max_entries) : entries_(max_entries) {
    TKT_ASSERT(max_entries >= 1);
}

std::optional<std::int64_t> verified_tokens::find(std::string_view token,
                                                  std::int64_t now_unix) const {
    std::lock_guard lock(mutex_);
    // The same rule as jwt verify(): a token is expired from its `exp` second on.
    return entries_.find(token, now_unix);
}

void verified_tokens::put(std::string_view token, std::int64_t user_id, std::int64_t expires_unix,
                          std::int64_t now_unix) {
    std::lock_guard lock(mutex_);
    entries_.put(token, user_id, expires_unix, now_unix);
}

}  // namespace tkt::auth
