#include "common/ids.hpp"

#include <chrono>
#include <cstdint>
#include <set>

#include <gtest/gtest.h>

namespace tkt {
namespace {

TEST(random_id, has_the_prefix_and_twenty_base62_characters) {
    auto id = random_id("ord_");
    ASSERT_EQ(id.size(), 24u);
    EXPECT_EQ(id.substr(0, 4), "ord_");
    for (char c : id.substr(4)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
}

TEST(random_id, does_not_repeat) {
    std::set<std::string> seen;
    for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(seen.insert(random_id("h_")).second);
}

}  // namespace
}  // namespace tkt

namespace tkt {
namespace {

const time_point t0{std::chrono::milliseconds{1'800'000'000'000}};

TEST(sortable_id, has_the_prefix_eight_time_and_fourteen_random_characters) {
    auto id = sortable_id("ord_", t0);
    ASSERT_EQ(id.size(), 4u + 8u + 14u);
    EXPECT_EQ(id.substr(0, 4), "ord_");
    for (char c : id.substr(4)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    EXPECT_EQ(id.substr(4, 8), sortable_id("ord_", t0).substr(4, 8))
        << "same millisecond, same time part";
    EXPECT_NE(id, sortable_id("ord_", t0)) << "the random part differs";
}

TEST(sortable_id, sorts_by_creation_time) {
    std::string previous = sortable_id("h_", t0);
    for (auto step : {1LL, 61LL, 62LL, 3'844LL, 1'000'000LL, 86'400'000LL * 365 * 50}) {
        auto next = sortable_id("h_", t0 + std::chrono::milliseconds{step});
        EXPECT_LT(previous.substr(0, 10), next.substr(0, 10)) << step;
        previous = next;
    }
    EXPECT_EQ(sortable_id("", time_point{}).substr(0, 8), "00000000");
}

}  // namespace
}  // namespace tkt

namespace tkt {
namespace {

TEST(parse_id, only_positive_decimal_ids) {
    EXPECT_EQ(parse_id("42"), 42);
    EXPECT_EQ(parse_id("9223372036854775807"), INT64_MAX);
    for (auto bad : {"", "0", "-3", "+3", " 3", "3 ", "abc", "3a", "9223372036854775808"}) {
        EXPECT_FALSE(parse_id(bad)) << bad;
    }
}

}  // namespace
}  // namespace tkt
