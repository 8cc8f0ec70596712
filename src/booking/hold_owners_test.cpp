#include "booking/hold_owners.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tkt::booking {
namespace {

TEST(HoldOwners, RemembersEachHoldsEventAndOwnerUntilForgotten) {
    hold_owners owners;
    owners.remember("hld_a", {.event_id = 7, .user_id = 42});
    owners.remember("hld_b", {.event_id = 8, .user_id = 43});
    auto a = owners.find("hld_a");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->event_id, 7);
    EXPECT_EQ(a->user_id, 42);
    EXPECT_FALSE(owners.find("hld_c"));
    owners.forget("hld_a");
    owners.forget("hld_never");
    EXPECT_FALSE(owners.find("hld_a"));
    EXPECT_TRUE(owners.find("hld_b"));
    EXPECT_EQ(owners.size(), 1U);
}

TEST(HoldOwners, AFullTableStartsOverInsteadOfGrowing) {
    hold_owners owners(3);
    for (int i = 0; i < 3; ++i)
        owners.remember("hld_" + std::to_string(i), {.event_id = 1, .user_id = i});
    EXPECT_EQ(owners.size(), 3U);
    owners.remember("hld_3", {.event_id = 1, .user_id = 3});
    EXPECT_EQ(owners.size(), 1U);
    EXPECT_FALSE(owners.find("hld_0"));
    EXPECT_TRUE(owners.find("hld_3"));
}

TEST(HoldOwners, ThreadsRememberFindAndForgetAtOnce) {
    hold_owners owners;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&owners, t] {
            for (int i = 0; i < 2000; ++i) {
                const auto id = "hld_" + std::to_string(t) + "_" + std::to_string(i);
                owners.remember(id, {.event_id = t, .user_id = i});
                auto found = owners.find(id);
                if (!found || found->event_id != t || found->user_id != i) ADD_FAILURE() << id;
                if (i % 2 == 0) owners.forget(id);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(owners.size(), 4U * 1000U);
}

}  // namespace
}  // namespace tkt::booking
