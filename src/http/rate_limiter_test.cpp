#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tkt::http {
namespace {

using namespace std::chrono_literals;

TEST(rate_limiter, allows_the_burst_then_refuses_with_a_wait) {
    rate_limiter limiter({.per_minute = 60, .burst = 3, .clients_max = 100});
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    EXPECT_FALSE(limiter.acquire("10.0.0.1", t));
    EXPECT_FALSE(limiter.acquire("10.0.0.1", t));
    EXPECT_FALSE(limiter.acquire("10.0.0.1", t));
    auto wait = limiter.acquire("10.0.0.1", t);
    ASSERT_TRUE(wait.has_value());
    EXPECT_EQ(*wait, 1);  // one token per second at 60/min
    // Another client has its own bucket.
    EXPECT_FALSE(limiter.acquire("10.0.0.2", t));
    // One second later one more request passes, the next does not.
    EXPECT_FALSE(limiter.acquire("10.0.0.1", t + 1s));
    EXPECT_TRUE(limiter.acquire("10.0.0.1", t + 1s).has_value());
}

TEST(rate_limiter, slow_refill_gives_a_long_retry_after) {
    rate_limiter limiter({.per_minute = 2, .burst = 1, .clients_max = 100});
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    EXPECT_FALSE(limiter.acquire("a", t));
    auto wait = limiter.acquire("a", t);
    ASSERT_TRUE(wait.has_value());
    EXPECT_EQ(*wait, 30);
}

TEST(rate_limiter, memory_stays_bounded_under_many_clients) {
    rate_limiter limiter({.per_minute = 60, .burst = 2, .clients_max = 64});
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 10'000; ++i) {
        EXPECT_FALSE(limiter.acquire("client-" + std::to_string(i), t));
    }
    // A client seen again after being forgotten starts with a full bucket.
    EXPECT_FALSE(limiter.acquire("client-0", t));
}

}  // namespace
}  // namespace tkt::http
