#include "inventory/memory_inventory.hpp"

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inventory/inventory_conformance.hpp"

TKT_INSTANTIATE_INVENTORY_CONFORMANCE(memory, []() -> std::unique_ptr<tkt::inventory::inventory> {
    return std::make_unique<tkt::inventory::memory_inventory>();
})

namespace tkt::inventory {
namespace {

using conformance::reserved;
using conformance::seats;
using conformance::t0;
using conformance::ttl;
using conformance::zone;

// Engine-specific behaviour below; the port's promises are all in the conformance suite.

TEST(memory_inventory, sync_core_matches_the_port) {
    memory_inventory inv;
    inv.load_now(reserved(1, 4));
    ASSERT_TRUE(
        inv.hold_now(hold_request{1, 7, "h1", seats({"S-1", "S-2"}), t0 + ttl}).has_value());
    auto found = inv.find_now(1, "h1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->items.seats, (std::vector<std::string>{"S-1", "S-2"}));
    EXPECT_TRUE(inv.commit_now(1, "h1"));
    EXPECT_FALSE(inv.release_now(1, "h1"));
    EXPECT_EQ(inv.counts_now(1)->sold, 2);
    EXPECT_THAT(inv.audit_now(1), ::testing::IsEmpty());
    EXPECT_THAT(inv.audit_now(99), ::testing::IsEmpty());
}

TEST(memory_inventory, mark_sold_records_facts_past_the_cap_and_audit_reports_them) {
    // A rebuild must not hide a sold seat because the cap was lowered after the sale.
    memory_inventory inv;
    inv.load_now(reserved(1, 8, 2));
    ASSERT_TRUE(inv.mark_sold_now(1, 7, seats({"S-1", "S-2", "S-3", "S-4", "S-5"})).has_value());
    EXPECT_EQ(inv.counts_now(1)->sold, 5);
    auto more = inv.hold_now(hold_request{1, 7, "h1", seats({"S-6"}), t0 + ttl});
    ASSERT_FALSE(more.has_value());
    EXPECT_EQ(more.error().code, hold_error::per_user_limit);
    auto report = inv.audit_now(1);
    ASSERT_EQ(report.size(), 1u);
    EXPECT_THAT(report[0], ::testing::HasSubstr("user 7"));
    EXPECT_THAT(report[0], ::testing::HasSubstr("cap"));
}

TEST(memory_inventory, general_admission_sync_core) {
    memory_inventory inv;
    inv.load_now(conformance::general(3, {{"floor", 6}}));
    ASSERT_TRUE(inv.hold_now(hold_request{3, 1, "g1", zone("floor", 4), t0}).has_value());
    auto expired = inv.expire_now(t0);
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].items.zone, "floor");
    EXPECT_EQ(expired[0].items.quantity, 4);
    EXPECT_EQ(inv.snapshot_now(3)->zones[0].available, 6);
}

}  // namespace
}  // namespace tkt::inventory

namespace tkt::inventory {
namespace {

TEST(memory_inventory_versions, start_above_the_base_and_a_reload_marks_every_seat) {
    memory_inventory inv(1'000'000);
    inv.load_now(conformance::reserved(1, 3));
    const auto loaded = inv.snapshot_now(1);
    ASSERT_TRUE(loaded);
    EXPECT_GT(loaded->version, 1'000'000u);
    for (const auto& s : loaded->seats) EXPECT_EQ(s.version, loaded->version);
    ASSERT_TRUE(inv.hold_now({1, 7, "h1", conformance::seats({"S-1"}), conformance::t0}));
    const auto held = inv.version_now(1);
    // The same event loaded again (a new layout): every seat counts as changed after `held`.
    inv.load_now(conformance::reserved(1, 3));
    const auto reloaded = inv.snapshot_now(1);
    EXPECT_GT(reloaded->version, held);
    for (const auto& s : reloaded->seats) EXPECT_GT(s.version, held);
}

}  // namespace
}  // namespace tkt::inventory
