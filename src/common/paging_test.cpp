#include "common/paging.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace tkt {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::string field_of(const result<page_window>& r) {
    EXPECT_FALSE(r);
    if (r) return {};
    EXPECT_EQ(r.error().code, problem_code::validation_failed);
    return r.error().field;
}

TEST(Paging, AWindowIsSizeRowsAfterPageTimesSize) {
    const auto first = page_window_of(0, 20, 100);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->limit, 20);
    EXPECT_EQ(first->offset, 0);
    const auto third = page_window_of(2, 20, 100);
    ASSERT_TRUE(third);
    EXPECT_EQ(third->offset, 40);
}

TEST(Paging, TheOffsetStopsAtItsBound) {
    const auto last = page_window_of(page_offset_max / 100, 100, 100);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->offset, page_offset_max);
    EXPECT_EQ(field_of(page_window_of(page_offset_max / 100 + 1, 100, 100)), "page");
    EXPECT_TRUE(page_window_of(page_offset_max, 1, 100));
    EXPECT_EQ(field_of(page_window_of(page_offset_max + 1, 1, 100)), "page");
    // 7 does not divide the bound: the last page is the one whose offset still fits.
    EXPECT_TRUE(page_window_of(page_offset_max / 7, 7, 100));
    EXPECT_EQ(field_of(page_window_of(page_offset_max / 7 + 1, 7, 100)), "page");
}

TEST(Paging, PagesWhoseOffsetWouldOverflowAreRefused) {
    // page × size overflows int64 here; the check must not compute it.
    EXPECT_EQ(field_of(page_window_of(int64_max, 100, 100)), "page");
    EXPECT_EQ(field_of(page_window_of(int64_max / 100 + 1, 100, 100)), "page");
    EXPECT_EQ(field_of(page_window_of(int64_max / 2 + 1, 2, 100)), "page");
    EXPECT_FALSE(page_in_bounds(int64_max, 100));
    const auto r = page_window_of(int64_max, 100, 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().detail,
              "page: must be at most 10000 with size 100 (page * size at most 1000000)");
}

TEST(Paging, NegativePagesAndSizesOutOfRangeNameTheirField) {
    EXPECT_EQ(field_of(page_window_of(-1, 20, 100)), "page");
    EXPECT_EQ(field_of(page_window_of(std::numeric_limits<std::int64_t>::min(), 20, 100)), "page");
    EXPECT_EQ(field_of(page_window_of(0, 0, 100)), "size");
    EXPECT_EQ(field_of(page_window_of(0, -5, 100)), "size");
    EXPECT_EQ(field_of(page_window_of(0, 101, 100)), "size");
    EXPECT_EQ(field_of(page_window_of(0, int64_max, 100)), "size");
    EXPECT_FALSE(page_in_bounds(0, 0));
    EXPECT_FALSE(page_in_bounds(-1, 1));
}

}  // namespace
}  // namespace tkt
