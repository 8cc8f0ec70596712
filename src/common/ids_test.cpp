#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <set>

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
