#include "catalog/seat_delta.hpp"

#include <map>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "inventory/memory_inventory.hpp"

namespace tkt::catalog {
namespace {

using inventory::hold_items;
using inventory::seat_status;

const time_point t0{std::chrono::seconds{1'800'000'000}};

inventory::layout seats_layout(int n) {
    inventory::layout l;
    l.event = 1;
    l.max_per_user = 100;
    for (int i = 1; i <= n; ++i) l.seats.push_back("A-1-" + std::to_string(i));
    return l;
}

hold_items seats(std::initializer_list<const char*> ids) {
    hold_items items;
    for (const char* id : ids) items.seats.emplace_back(id);
    return items;
}

void hold(inventory::memory_inventory& inv, std::string id, hold_items items, int user = 1) {
    ASSERT_TRUE(
        inv.hold_now({1, user, std::move(id), std::move(items), t0 + std::chrono::minutes(5)}));
}

// Applies a delta to statuses by id, as a client does.
void apply_delta(std::map<std::string, seat_status>& state, const seat_delta& d) {
    for (const auto& s : d.seats) state[s.id] = s.status;
}

std::map<std::string, seat_status> states(const inventory::snapshot& s) {
    std::map<std::string, seat_status> out;
    for (const auto& seat : s.seats) out[seat.id] = seat.status;
    return out;
}

TEST(seat_delta, lists_exactly_the_seats_changed_after_the_version) {
    inventory::memory_inventory inv;
    inv.load_now(seats_layout(10));
    const auto v0 = inv.snapshot_now(1)->version;
    hold(inv, "h1", seats({"A-1-1", "A-1-2"}));
    hold(inv, "h2", seats({"A-1-5"}));
    const auto v1 = inv.snapshot_now(1)->version;
    inv.release_now(1, "h1");
    const auto snap = *inv.snapshot_now(1);
    auto all = delta_since(snap, v0);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->from, v0);
    EXPECT_EQ(all->version, snap.version);
    // A-1-1 and A-1-2 were held and released: their state now (AVAILABLE) is in the delta.
    std::vector<std::string> ids;
    for (const auto& s : all->seats) ids.push_back(s.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"A-1-1", "A-1-2", "A-1-5"}));
    auto later = delta_since(snap, v1);
    ASSERT_EQ(later->seats.size(), 2u);
    EXPECT_EQ(later->seats[0].status, seat_status::available);
    EXPECT_TRUE(delta_since(snap, snap.version)->seats.empty());
    EXPECT_FALSE(delta_since(snap, snap.version + 1));  // ahead: a version from another life
}

TEST(seat_delta, applied_to_any_snapshot_in_its_range_gives_the_latest) {
    inventory::memory_inventory inv;
    inv.load_now(seats_layout(20));
    std::vector<inventory::snapshot> history{*inv.snapshot_now(1)};
    // A churn of holds, releases and sales; a snapshot after each step.
    for (int round = 0; round < 30; ++round) {
        const std::string seat = "A-1-" + std::to_string(1 + (round * 7) % 20);
        const std::string id = "h" + std::to_string(round);
        if (inv.hold_now(
                {1, 1 + round % 3, id, seats({seat.c_str()}), t0 + std::chrono::minutes(5)})) {
            if (round % 3 == 0) inv.release_now(1, id);
            if (round % 3 == 1) inv.commit_now(1, id);
        }
        history.push_back(*inv.snapshot_now(1));
    }
    const auto& last = history.back();
    for (const auto& from : history) {
        auto d = delta_since(last, from.version);
        ASSERT_TRUE(d);
        // Every client version v with from ≤ v ≤ last lands on the latest state.
        for (const auto& client : history) {
            if (client.version < from.version) continue;
            auto state = states(client);
            apply_delta(state, *d);
            EXPECT_EQ(state, states(last))
                << "from " << from.version << " client " << client.version;
        }
    }
}

TEST(seat_delta, zones_carry_what_is_available) {
    inventory::memory_inventory inv;
    inventory::layout l;
    l.event = 1;
    l.max_per_user = 10;
    l.zones = {{"Floor", 100}, {"Balcony", 50}};
    inv.load_now(l);
    const auto v0 = inv.snapshot_now(1)->version;
    hold_items floor;
    floor.zone = "Floor";
    floor.quantity = 3;
    hold(inv, "h1", floor);
    auto d = delta_since(*inv.snapshot_now(1), v0);
    ASSERT_EQ(d->zones.size(), 1u);
    EXPECT_EQ(d->zones[0].name, "Floor");
    EXPECT_EQ(d->zones[0].available, 97);
    auto json = boost::json::parse(seats_event_data(*d)).as_object();
    EXPECT_EQ(json.at("from").as_int64(), static_cast<std::int64_t>(v0));
    EXPECT_EQ(json.at("zones").as_array().at(0).as_object().at("available").as_int64(), 97);
    EXPECT_FALSE(json.contains("changes"));
}

TEST(seat_delta, the_event_data_is_the_documented_json) {
    seat_delta d{
        .from = 4, .version = 9, .seats = {{"A-1-\"2", seat_status::sold, 9}}, .zones = {}};
    EXPECT_EQ(seats_event_data(d),
              R"({"version":9,"from":4,"changes":[{"id":"A-1-\"2","status":"SOLD"}]})");
    seat_delta empty{.from = 9, .version = 9, .seats = {}, .zones = {}};
    EXPECT_EQ(seats_event_data(empty), R"({"version":9,"from":9,"changes":[]})");
}

}  // namespace
}  // namespace tkt::catalog
