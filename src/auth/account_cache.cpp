#include "auth/account_cache.hpp"

#include <iterator>

#include "common/assert.hpp"

namespace tkt::auth {

account_cache::account_cache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries) {
    TKT_ASSERT(ttl_.count() >= 0);
    TKT_ASSERT(max_entries_ >= 1);
}

std::optional<account_state> account_cache::find(std::int64_t user_id, time_point now) const {
    if (!enabled()) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(user_id);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.state;
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
    if (entries_.size() >= max_entries_ && !entries_.contains(user_id)) {
        std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
        if (entries_.size() >= max_entries_) entries_.clear();
    }
    entries_.insert_or_assign(user_id, entry{state, now + ttl_});
}

void account_cache::forget(std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    ++generation_;
    entries_.erase(user_id);
}

verified_tokens::verified_tokens(std::size_t max_entries) : max_entries_(max_entries) {
    TKT_ASSERT(max_entries_ >= 1);
}

std::optional<std::int64_t> verified_tokens::find(std::string_view token, std::int64_t now_unix) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(token);
    // The same rule as jwt verify(): a token is expired from its `exp` second on.
    if (it == entries_.end() || it->second.expires_unix <= now_unix) return std::nullopt;
    return it->second.user_id;
}

void verified_tokens::put(std::string_view token, std::int64_t user_id, std::int64_t expires_unix,
                          std::int64_t now_unix) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries_ && entries_.find(token) == entries_.end()) {
        std::erase_if(entries_, [now_unix](const auto& kv) { return kv.second.expires_unix <= now_unix; });
        if (entries_.size() >= max_entries_) entries_.clear();
    }
    entries_.insert_or_assign(std::string(token), entry{user_id, expires_unix});
}

}  // namespace tkt::auth
