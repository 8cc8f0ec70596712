#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>

namespace tkt::http {

void rate_limiter::refill(bucket& b, time_point now) const {
    double elapsed_s = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed_s > 0) {
        b.tokens = std::min(options_.burst, b.tokens + elapsed_s * options_.per_minute / 60.0);
        b.updated = now;
    }
}

void rate_limiter::trim(shard& s, time_point now) {
    for (auto it = s.buckets.begin(); it != s.buckets.end();) {
        refill(it->second, now);
        it = it->second.tokens >= options_.burst ? s.buckets.erase(it) : std::next(it);
    }
    if (s.buckets.size() * shard_count >= options_.clients_max) s.buckets.clear();
}

std::optional<int> rate_limiter::acquire(std::string_view client, time_point now) {
    shard& s = shards_[std::hash<std::string_view>{}(client) % shard_count];
    std::lock_guard lock(s.mutex);
    auto it = s.buckets.find(std::string(client));
    if (it == s.buckets.end()) {
        if (s.buckets.size() * shard_count >= options_.clients_max) trim(s, now);
        it = s.buckets.emplace(std::string(client), bucket{options_.burst, now}).first;
    }
    bucket& b = it->second;
    refill(b, now);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    double wait_s = (1.0 - b.tokens) * 60.0 / std::max(options_.per_minute, 1e-9);
    return std::max(1, static_cast<int>(std::ceil(wait_s)));
}

}  // namespace tkt::http
