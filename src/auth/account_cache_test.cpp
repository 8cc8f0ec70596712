#include "auth/account_cache.hpp"

#include <gtest/gtest.h>

namespace tkt::auth {
namespace {

using namespace std::chrono_literals;

const time_point t0{std::chrono::seconds{1'800'000'000}};

TEST(account_cache, remembers_an_account_for_its_time_to_live_only) {
    account_cache cache(1000ms);
    EXPECT_FALSE(cache.find(7, t0));
    cache.put(7, {.active = true, .level = role::manager}, t0, cache.generation());
    auto hit = cache.find(7, t0 + 999ms);
    ASSERT_TRUE(hit);
    EXPECT_TRUE(hit->active);
    EXPECT_EQ(hit->level, role::manager);
    EXPECT_FALSE(cache.find(7, t0 + 1000ms)) << "expired at exactly the time to live";
    EXPECT_FALSE(cache.find(8, t0)) << "another account";
}

TEST(account_cache, forget_makes_the_next_request_read_the_database) {
    account_cache cache(60'000ms);
    cache.put(7, {.active = true, .level = role::admin}, t0, cache.generation());
    cache.forget(7);
    EXPECT_FALSE(cache.find(7, t0));
    cache.forget(7);  // forgetting twice is harmless
}

TEST(account_cache, a_state_read_before_a_change_is_not_remembered_after_it) {
    account_cache cache(60'000ms);
    const auto before = cache.generation();  // a request starts reading the account
    cache.forget(7);                         // an admin disables it meanwhile
    cache.put(7, {.active = true}, t0, before);
    EXPECT_FALSE(cache.find(7, t0)) << "the stale read must not be cached";
    cache.put(7, {.active = false}, t0, cache.generation());
    ASSERT_TRUE(cache.find(7, t0));
    EXPECT_FALSE(cache.find(7, t0)->active);
}

TEST(account_cache, a_zero_time_to_live_turns_it_off) {
    account_cache cache(0ms);
    EXPECT_FALSE(cache.enabled());
    cache.put(7, {.active = true}, t0, cache.generation());
    EXPECT_FALSE(cache.find(7, t0));
}

TEST(account_cache, a_full_cache_drops_expired_entries_first_then_everything) {
    account_cache cache(1000ms, 2);
    cache.put(1, {.active = true}, t0, cache.generation());
    cache.put(2, {.active = true}, t0 + 500ms, cache.generation());
    cache.put(3, {.active = true}, t0 + 1200ms,
              cache.generation());  // 1 expired at t0 + 1 s: it makes room
    EXPECT_FALSE(cache.find(1, t0 + 1200ms));
    EXPECT_TRUE(cache.find(2, t0 + 1200ms));
    EXPECT_TRUE(cache.find(3, t0 + 1200ms));
    cache.put(4, {.active = true}, t0 + 1300ms, cache.generation());  // nothing expired: start over
    EXPECT_FALSE(cache.find(2, t0 + 1300ms));
    EXPECT_FALSE(cache.find(3, t0 + 1300ms));
    EXPECT_TRUE(cache.find(4, t0 + 1300ms));
    cache.put(4, {.active = false}, t0 + 1400ms, cache.generation());  // replacing needs no room
    EXPECT_FALSE(cache.find(4, t0 + 1400ms)->active);
}

TEST(verified_tokens, knows_a_verified_token_until_it_expires) {
    verified_tokens tokens;
    EXPECT_FALSE(tokens.find("a.b.c", 100));
    tokens.put("a.b.c", 7, 200, 100);
    EXPECT_EQ(tokens.find("a.b.c", 199), 7);
    EXPECT_FALSE(tokens.find("a.b.c", 200)) << "expired from its exp second on, as verify() says";
    EXPECT_FALSE(tokens.find("a.b.d", 100)) << "any other text misses, however close";
    EXPECT_FALSE(tokens.find("a.b.", 100));
}

TEST(verified_tokens, a_full_cache_drops_expired_tokens_first_then_everything) {
    verified_tokens tokens(2);
    tokens.put("t1", 1, 110, 100);
    tokens.put("t2", 2, 300, 100);
    tokens.put("t3", 3, 300, 120);  // t1 expired: it makes room
    EXPECT_FALSE(tokens.find("t1", 120));
    EXPECT_EQ(tokens.find("t2", 120), 2);
    EXPECT_EQ(tokens.find("t3", 120), 3);
    tokens.put("t4", 4, 300, 130);  // nothing expired: start over
    EXPECT_FALSE(tokens.find("t2", 130));
    EXPECT_EQ(tokens.find("t4", 130), 4);
}

}  // namespace
}  // namespace tkt::auth
