#pragma once
// Per-client token buckets (one per IP address). Sans-io: the caller passes the time.
// Thread-safe: the table is split into shards, each under its own short lock, so I/O threads
// rarely meet. Memory is bounded: a shard that grows past its cap forgets full buckets first,
// and if still too large, everyone (a full bucket is what a forgotten client gets anyway).
#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tkt::http {

struct rate_limit_options {
    double per_minute = 60;  // refill rate
    double burst = 20;       // bucket size
    std::size_t clients_max = 100'000;
};

class rate_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit rate_limiter(rate_limit_options options) : options_(options) {}

    // Takes one token for `client`. nullopt when allowed; otherwise the seconds to wait (≥ 1).
    std::optional<int> acquire(std::string_view client, time_point now);

private:
    struct bucket {
        double tokens = 0;
        time_point updated;
    };
    struct shard {
        std::mutex mutex;
        std::unordered_map<std::string, bucket> buckets;
    };
    static constexpr std::size_t shard_count = 16;

    void refill(bucket& b, time_point now) const;
    void trim(shard& s, time_point now);

    rate_limit_options options_;
    std::array<shard, shard_count> shards_;
};

}  // namespace tkt::http
