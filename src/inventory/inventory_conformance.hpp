#pragma once
// The conformance suite of the `inventory` port: every promise in inventory.hpp, written against
// the port only, so every engine (memory, Redis) runs the same cases. Include this header in
// exactly one test source per test executable and instantiate it once per engine, at global
// namespace scope:
//
//   TKT_INSTANTIATE_INVENTORY_CONFORMANCE(memory, []() -> std::unique_ptr<inventory> { ... })
//
// Each case starts from a fresh engine made by the factory. After every write the fixture
// checks that audit() is empty for every event it loaded.
#include <algorithm>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "inventory/inventory.hpp"

namespace tkt::inventory::conformance {

// Drives one awaitable to completion on its own io_context.
template <class T>
T run(boost::asio::awaitable<T> op) {
    boost::asio::io_context io;
    auto result = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
    io.run();
    return result.get();
}

struct engine {
    std::string name;
    std::function<std::unique_ptr<inventory>()> make;

    friend void PrintTo(const engine& e, std::ostream* os) { *os << e.name; }
};

inline const time_point t0{std::chrono::seconds{1'800'000'000}};
inline constexpr std::chrono::minutes ttl{5};

inline hold_items seats(std::initializer_list<const char*> ids) {
    hold_items items;
    for (const char* id : ids) items.seats.emplace_back(id);
    return items;
}

inline hold_items zone(std::string name, std::int32_t quantity) {
    hold_items items;
    items.zone = std::move(name);
    items.quantity = quantity;
    return items;
}

// "S-1" .. "S-<n>", in layout order.
inline layout reserved(event_id e, int n, std::int32_t max_per_user = 4) {
    layout l;
    l.event = e;
    l.max_per_user = max_per_user;
    for (int i = 1; i <= n; ++i) l.seats.push_back("S-" + std::to_string(i));
    return l;
}

inline layout general(event_id e, std::vector<zone_spec> zones, std::int32_t max_per_user = 4) {
    layout l;
    l.event = e;
    l.max_per_user = max_per_user;
    l.zones = std::move(zones);
    return l;
}

class inventory_conformance : public ::testing::TestWithParam<engine> {
protected:
    void SetUp() override { inv_ = GetParam().make(); }

    void load(layout l) {
        loaded_.insert(l.event);
        auto op = inv_->load(std::move(l));
        run(std::move(op));
        expect_clean();
    }

    std::expected<hold_info, hold_failure> hold(event_id e, user_id u, std::string id,
                                                hold_items items,
                                                time_point expires_at = t0 + ttl) {
        auto op = inv_->hold(hold_request{e, u, std::move(id), std::move(items), expires_at});
        auto result = run(std::move(op));
        expect_clean();
        return result;
    }

    // The failure code of a hold expected to fail.
    hold_error refused(event_id e, user_id u, std::string id, hold_items items) {
        auto result = hold(e, u, std::move(id), std::move(items));
        EXPECT_FALSE(result.has_value());
        return result ? hold_error{} : result.error().code;
    }

    bool release(event_id e, std::string id) {
        return after_write(inv_->release(e, std::move(id)));
    }
    bool commit(event_id e, std::string id) { return after_write(inv_->commit(e, std::move(id))); }
    std::optional<hold_info> pin(event_id e, std::string id) {
        return after_write(inv_->pin(e, std::move(id)));
    }
    std::expected<void, hold_failure> mark_sold(event_id e, user_id u, hold_items items) {
        return after_write(inv_->mark_sold(e, u, std::move(items)));
    }
    bool unsell(event_id e, user_id u, hold_items items) {
        return after_write(inv_->unsell(e, u, std::move(items)));
    }
    std::vector<hold_info> expire(time_point now) { return after_write(inv_->expire(now)); }
    restore_outcome restore(restoration r, restore_mode mode = restore_mode::replace) {
        loaded_.insert(r.l.event);
        return after_write(inv_->restore(std::move(r), mode));
    }

    std::optional<hold_info> find(event_id e, std::string id) {
        return run(inv_->find(e, std::move(id)));
    }
    std::uint64_t version(event_id e) { return run(inv_->version_of(e)); }
    std::optional<snapshot> snap(event_id e) { return run(inv_->snapshot_of(e)); }
    std::optional<counts> count(event_id e) { return run(inv_->counts_of(e)); }

    seat_status status(event_id e, const std::string& seat) {
        auto s = snap(e);
        EXPECT_TRUE(s.has_value());
        if (!s) return seat_status::available;
        auto it = std::find_if(s->seats.begin(), s->seats.end(),
                               [&](const seat_state& x) { return x.id == seat; });
        EXPECT_NE(it, s->seats.end()) << seat;
        return it == s->seats.end() ? seat_status::available : it->status;
    }

    zone_state zone_of(event_id e, std::size_t index = 0) {
        auto s = snap(e);
        EXPECT_TRUE(s.has_value());
        if (!s || index >= s->zones.size()) return {};
        return s->zones[index];
    }

    void expect_clean() {
        for (const event_id e : loaded_) {
            EXPECT_THAT(run(inv_->audit(e)), ::testing::IsEmpty()) << "event " << e;
            auto c = run(inv_->counts_of(e));
            ASSERT_TRUE(c.has_value());
            EXPECT_EQ(c->available + c->held + c->sold, c->capacity) << "event " << e;
        }
    }

    template <class T>
    T after_write(boost::asio::awaitable<T> op) {
        T result = run(std::move(op));
        expect_clean();
        return result;
    }

    std::unique_ptr<inventory> inv_;
    std::set<event_id> loaded_;
};

// --- hold: all or nothing -----------------------------------------------------------------

TEST_P(inventory_conformance, hold_returns_the_hold_and_marks_seats_held) {
    load(reserved(1, 10));
    const auto v0 = version(1);
    auto held = hold(1, 7, "h1", seats({"S-2", "S-3"}));
    ASSERT_TRUE(held.has_value());
    EXPECT_EQ(held->event, 1);
    EXPECT_EQ(held->user, 7);
    EXPECT_EQ(held->hold, "h1");
    EXPECT_EQ(held->items.seats, (std::vector<std::string>{"S-2", "S-3"}));
    EXPECT_EQ(held->expires_at, t0 + ttl);
    EXPECT_EQ(held->state, hold_state::held);
    EXPECT_EQ(status(1, "S-2"), seat_status::held);
    EXPECT_EQ(status(1, "S-3"), seat_status::held);
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_GT(version(1), v0);
    auto found = find(1, "h1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->user, 7);
    EXPECT_EQ(found->items.seats, (std::vector<std::string>{"S-2", "S-3"}));
    EXPECT_EQ(found->state, hold_state::held);
}

TEST_P(inventory_conformance, one_taken_seat_fails_the_whole_hold_and_is_listed) {
    load(reserved(1, 10));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-2"})).has_value());
    const auto v = version(1);
    auto second = hold(1, 2, "h2", seats({"S-1", "S-2", "S-3"}));
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, hold_error::seat_unavailable);
    EXPECT_EQ(second.error().seats, std::vector<std::string>{"S-2"});
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(status(1, "S-3"), seat_status::available);
    EXPECT_EQ(version(1), v);
    EXPECT_FALSE(find(1, "h2").has_value());
    // The same user is not charged for the failed hold: 4 more fit.
    EXPECT_TRUE(hold(1, 2, "h3", seats({"S-3", "S-4", "S-5", "S-6"})).has_value());
}

TEST_P(inventory_conformance, a_sold_seat_is_unavailable_too) {
    load(reserved(1, 10));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"})).has_value());
    ASSERT_TRUE(commit(1, "h1"));
    auto again = hold(1, 2, "h2", seats({"S-1", "S-4"}));
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, hold_error::seat_unavailable);
    EXPECT_EQ(again.error().seats, std::vector<std::string>{"S-1"});
}

TEST_P(inventory_conformance, per_hold_limit_is_four) {
    load(reserved(1, 10, 10));
    load(general(2, {{"floor", 100}}, 10));
    EXPECT_EQ(refused(1, 1, "h1", seats({"S-1", "S-2", "S-3", "S-4", "S-5"})),
              hold_error::per_hold_limit);
    EXPECT_EQ(refused(2, 1, "h1", zone("floor", 5)), hold_error::per_hold_limit);
    EXPECT_TRUE(hold(1, 1, "h2", seats({"S-1", "S-2", "S-3", "S-4"})).has_value());
    EXPECT_TRUE(hold(2, 1, "h2", zone("floor", 4)).has_value());
}

TEST_P(inventory_conformance, per_user_cap_counts_holds_and_sales) {
    load(reserved(1, 10));
    ASSERT_TRUE(hold(1, 7, "h1", seats({"S-1", "S-2"})).has_value());
    ASSERT_TRUE(commit(1, "h1"));
    ASSERT_TRUE(hold(1, 7, "h2", seats({"S-3", "S-4"})).has_value());
    const auto v = version(1);
    EXPECT_EQ(refused(1, 7, "h3", seats({"S-5"})), hold_error::per_user_limit);
    EXPECT_EQ(status(1, "S-5"), seat_status::available);
    EXPECT_EQ(version(1), v);
    // Another user is not affected.
    EXPECT_TRUE(hold(1, 8, "h4", seats({"S-5"})).has_value());
}

TEST_P(inventory_conformance, per_user_cap_applies_to_general_admission) {
    // The original project skipped the cap for general admission; it must not.
    load(general(1, {{"floor", 100}, {"balcony", 100}}));
    ASSERT_TRUE(hold(1, 7, "h1", zone("floor", 2)).has_value());
    ASSERT_TRUE(commit(1, "h1"));
    ASSERT_TRUE(hold(1, 7, "h2", zone("balcony", 2)).has_value());
    EXPECT_EQ(refused(1, 7, "h3", zone("floor", 1)), hold_error::per_user_limit);
    EXPECT_EQ(refused(1, 7, "h4", zone("balcony", 1)), hold_error::per_user_limit);
    EXPECT_EQ(zone_of(1, 0).held, 0);
    EXPECT_EQ(zone_of(1, 0).sold, 2);
}

TEST_P(inventory_conformance, per_user_cap_is_per_event) {
    load(reserved(1, 10));
    load(reserved(2, 10));
    ASSERT_TRUE(hold(1, 7, "h1", seats({"S-1", "S-2", "S-3", "S-4"})).has_value());
    EXPECT_TRUE(hold(2, 7, "h1", seats({"S-1", "S-2", "S-3", "S-4"})).has_value());
}

TEST_P(inventory_conformance, per_user_cap_frees_on_release_expiry_and_unsell) {
    load(reserved(1, 10));
    ASSERT_TRUE(hold(1, 7, "h1", seats({"S-1", "S-2"})).has_value());
    ASSERT_TRUE(hold(1, 7, "h2", seats({"S-3"}), t0 + std::chrono::seconds{10}).has_value());
    ASSERT_TRUE(hold(1, 7, "h3", seats({"S-4"})).has_value());
    ASSERT_TRUE(commit(1, "h3"));
    EXPECT_EQ(refused(1, 7, "x1", seats({"S-5"})), hold_error::per_user_limit);

    ASSERT_TRUE(release(1, "h1"));
    ASSERT_TRUE(hold(1, 7, "h4", seats({"S-5", "S-6"})).has_value());
    EXPECT_EQ(refused(1, 7, "x2", seats({"S-7"})), hold_error::per_user_limit);

    ASSERT_EQ(expire(t0 + std::chrono::seconds{10}).size(), 1u);
    ASSERT_TRUE(hold(1, 7, "h5", seats({"S-7"})).has_value());
    EXPECT_EQ(refused(1, 7, "x3", seats({"S-8"})), hold_error::per_user_limit);

    ASSERT_TRUE(unsell(1, 7, seats({"S-4"})));
    EXPECT_TRUE(hold(1, 7, "h6", seats({"S-8"})).has_value());
}

TEST_P(inventory_conformance, general_admission_cap_frees_on_unsell) {
    load(general(1, {{"floor", 100}}));
    ASSERT_TRUE(hold(1, 7, "h1", zone("floor", 4)).has_value());
    ASSERT_TRUE(commit(1, "h1"));
    EXPECT_EQ(refused(1, 7, "x1", zone("floor", 1)), hold_error::per_user_limit);
    ASSERT_TRUE(unsell(1, 7, zone("floor", 3)));
    EXPECT_EQ(zone_of(1).sold, 1);
    EXPECT_EQ(zone_of(1).available, 99);
    EXPECT_TRUE(hold(1, 7, "h2", zone("floor", 3)).has_value());
}

// --- refusals -----------------------------------------------------------------------------

TEST_P(inventory_conformance, unknown_event_seat_and_zone) {
    load(reserved(1, 3));
    load(general(2, {{"floor", 10}}));
    EXPECT_EQ(refused(9, 1, "h1", seats({"S-1"})), hold_error::unknown_event);
    auto seat = hold(1, 1, "h1", seats({"S-1", "Z-9", "S-2", "Q-1"}));
    ASSERT_FALSE(seat.has_value());
    EXPECT_EQ(seat.error().code, hold_error::unknown_seat);
    EXPECT_EQ(seat.error().seats, (std::vector<std::string>{"Z-9", "Q-1"}));
    auto area = hold(2, 1, "h1", zone("pit", 1));
    ASSERT_FALSE(area.has_value());
    EXPECT_EQ(area.error().code, hold_error::unknown_seat);
    EXPECT_EQ(area.error().seats, std::vector<std::string>{"pit"});
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(zone_of(2).available, 10);

    EXPECT_FALSE(run(inv_->has_event(9)));
    EXPECT_TRUE(run(inv_->has_event(1)));
    EXPECT_FALSE(release(9, "h1"));
    EXPECT_FALSE(commit(9, "h1"));
    EXPECT_FALSE(pin(9, "h1").has_value());
    EXPECT_FALSE(find(9, "h1").has_value());
    EXPECT_FALSE(snap(9).has_value());
    EXPECT_FALSE(count(9).has_value());
    EXPECT_EQ(version(9), 0u);
    auto sold = mark_sold(9, 1, seats({"S-1"}));
    ASSERT_FALSE(sold.has_value());
    EXPECT_EQ(sold.error().code, hold_error::unknown_event);
    EXPECT_FALSE(unsell(9, 1, seats({"S-1"})));
}

TEST_P(inventory_conformance, invalid_requests) {
    load(reserved(1, 5));
    load(general(2, {{"floor", 10}}));
    const auto v1 = version(1);
    const auto v2 = version(2);
    EXPECT_EQ(refused(1, 1, "h1", hold_items{}), hold_error::invalid);
    hold_items both = seats({"S-1"});
    both.zone = "floor";
    both.quantity = 1;
    EXPECT_EQ(refused(1, 1, "h1", both), hold_error::invalid);
    EXPECT_EQ(refused(2, 1, "h1", zone("floor", 0)), hold_error::invalid);
    EXPECT_EQ(refused(2, 1, "h1", zone("floor", -2)), hold_error::invalid);
    EXPECT_EQ(refused(1, 1, "h1", seats({"S-1", "S-1"})), hold_error::invalid);
    EXPECT_EQ(refused(1, 1, "", seats({"S-1"})), hold_error::invalid);
    EXPECT_EQ(version(1), v1);
    EXPECT_EQ(version(2), v2);
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
}

TEST_P(inventory_conformance, duplicate_hold_id_is_refused) {
    load(reserved(1, 5));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"})).has_value());
    EXPECT_EQ(refused(1, 2, "h1", seats({"S-2"})), hold_error::duplicate_hold);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);
    auto kept = find(1, "h1");
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->user, 1);
    // Once the hold ends its id may be used again.
    ASSERT_TRUE(release(1, "h1"));
    EXPECT_TRUE(hold(1, 2, "h1", seats({"S-2"})).has_value());
}

// --- general admission --------------------------------------------------------------------

TEST_P(inventory_conformance, general_admission_sold_out_and_exact_fill) {
    load(general(1, {{"floor", 10}}, 10));
    ASSERT_TRUE(hold(1, 1, "h1", zone("floor", 4)).has_value());
    ASSERT_TRUE(hold(1, 2, "h2", zone("floor", 4)).has_value());
    const auto v = version(1);
    EXPECT_EQ(refused(1, 3, "h3", zone("floor", 3)), hold_error::sold_out);
    EXPECT_EQ(version(1), v);
    EXPECT_EQ(zone_of(1).available, 2);
    ASSERT_TRUE(hold(1, 3, "h4", zone("floor", 2)).has_value());
    auto z = zone_of(1);
    EXPECT_EQ(z.name, "floor");
    EXPECT_EQ(z.capacity, 10);
    EXPECT_EQ(z.available, 0);
    EXPECT_EQ(z.held, 10);
    EXPECT_EQ(z.sold, 0);
    EXPECT_EQ(refused(1, 4, "h5", zone("floor", 1)), hold_error::sold_out);
    ASSERT_TRUE(commit(1, "h1"));
    z = zone_of(1);
    EXPECT_EQ(z.held, 6);
    EXPECT_EQ(z.sold, 4);
    EXPECT_EQ(z.available, 0);
}

// --- release, commit, pin -----------------------------------------------------------------

TEST_P(inventory_conformance, release_returns_seats_and_bumps_version) {
    load(reserved(1, 5));
    load(general(2, {{"floor", 10}}));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1", "S-2"})).has_value());
    ASSERT_TRUE(hold(2, 1, "h1", zone("floor", 3)).has_value());
    const auto v = version(1);
    EXPECT_TRUE(release(1, "h1"));
    EXPECT_GT(version(1), v);
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);
    EXPECT_FALSE(find(1, "h1").has_value());
    EXPECT_FALSE(release(1, "h1"));
    EXPECT_TRUE(release(2, "h1"));
    EXPECT_EQ(zone_of(2).available, 10);
    EXPECT_EQ(zone_of(2).held, 0);
    EXPECT_FALSE(release(1, "never"));
}

TEST_P(inventory_conformance, commit_sells_and_ends_the_hold) {
    load(reserved(1, 5));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1", "S-2"})).has_value());
    const auto v = version(1);
    EXPECT_TRUE(commit(1, "h1"));
    EXPECT_GT(version(1), v);
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);
    EXPECT_EQ(status(1, "S-2"), seat_status::sold);
    EXPECT_FALSE(find(1, "h1").has_value());
    const auto v2 = version(1);
    EXPECT_FALSE(commit(1, "h1"));
    EXPECT_FALSE(release(1, "h1"));
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);
    EXPECT_EQ(version(1), v2);
    auto c = count(1);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->sold, 2);
    EXPECT_EQ(c->held, 0);
    EXPECT_EQ(c->available, 3);
}

TEST_P(inventory_conformance, pinned_hold_never_expires_and_commits) {
    load(reserved(1, 5));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"}), t0 + std::chrono::seconds{1}).has_value());
    ASSERT_TRUE(hold(1, 2, "h2", seats({"S-2"}), t0 + std::chrono::seconds{1}).has_value());
    auto pinned = pin(1, "h1");
    ASSERT_TRUE(pinned.has_value());
    EXPECT_EQ(pinned->state, hold_state::pinned);
    EXPECT_EQ(pinned->items.seats, std::vector<std::string>{"S-1"});
    EXPECT_EQ(find(1, "h1")->state, hold_state::pinned);
    auto pinned_again = pin(1, "h1");
    ASSERT_TRUE(pinned_again.has_value());
    EXPECT_EQ(pinned_again->state, hold_state::pinned);

    auto expired = expire(t0 + std::chrono::hours{1});
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].hold, "h2");
    EXPECT_EQ(status(1, "S-1"), seat_status::held);
    EXPECT_TRUE(commit(1, "h1"));
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);
    EXPECT_FALSE(pin(1, "h1").has_value());
    EXPECT_FALSE(pin(1, "never").has_value());
}

TEST_P(inventory_conformance, a_pinned_hold_can_be_released) {
    load(general(1, {{"floor", 10}}));
    ASSERT_TRUE(hold(1, 1, "h1", zone("floor", 2)).has_value());
    ASSERT_TRUE(pin(1, "h1").has_value());
    EXPECT_TRUE(release(1, "h1"));
    EXPECT_EQ(zone_of(1).available, 10);
    EXPECT_TRUE(expire(t0 + std::chrono::hours{1}).empty());
}

// --- expiry -------------------------------------------------------------------------------

TEST_P(inventory_conformance, expire_returns_exactly_the_due_unpinned_holds_across_events) {
    using std::chrono::seconds;
    load(reserved(1, 10));
    load(general(2, {{"floor", 10}}));
    ASSERT_TRUE(hold(1, 1, "a", seats({"S-1"}), t0 + seconds{10}).has_value());
    ASSERT_TRUE(hold(1, 2, "b", seats({"S-2", "S-3"}), t0 + seconds{20}).has_value());
    ASSERT_TRUE(hold(1, 3, "c", seats({"S-4"}), t0 + seconds{30}).has_value());
    ASSERT_TRUE(hold(1, 4, "d", seats({"S-5"}), t0 + seconds{5}).has_value());
    ASSERT_TRUE(hold(1, 5, "e", seats({"S-6"}), t0 + seconds{5}).has_value());
    ASSERT_TRUE(hold(2, 1, "f", zone("floor", 2), t0 + seconds{20}).has_value());
    ASSERT_TRUE(hold(2, 2, "g", zone("floor", 3), t0 + seconds{40}).has_value());
    ASSERT_TRUE(pin(1, "d").has_value());
    ASSERT_TRUE(release(1, "e"));
    const auto v1 = version(1);

    auto due = expire(t0 + seconds{20});  // expires_at ≤ now is due
    std::set<std::string> ids;
    for (const auto& h : due) ids.insert(std::to_string(h.event) + "/" + h.hold);
    EXPECT_EQ(ids, (std::set<std::string>{"1/a", "1/b", "2/f"}));
    for (const auto& h : due) {
        EXPECT_EQ(h.state, hold_state::held);
        if (h.hold == "b") {
            EXPECT_EQ(h.user, 2);
            EXPECT_EQ(h.items.seats, (std::vector<std::string>{"S-2", "S-3"}));
            EXPECT_EQ(h.expires_at, t0 + seconds{20});
        }
        if (h.hold == "f") {
            EXPECT_EQ(h.items.zone, "floor");
            EXPECT_EQ(h.items.quantity, 2);
        }
    }
    EXPECT_GT(version(1), v1);
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);
    EXPECT_EQ(status(1, "S-4"), seat_status::held);
    EXPECT_EQ(status(1, "S-5"), seat_status::held);
    EXPECT_EQ(zone_of(2).held, 3);
    EXPECT_FALSE(find(1, "a").has_value());
    EXPECT_FALSE(release(1, "a"));
    EXPECT_FALSE(commit(2, "f"));

    EXPECT_TRUE(expire(t0 + seconds{20}).empty());
    EXPECT_TRUE(expire(t0 + seconds{29}).empty());
    auto later = expire(t0 + seconds{3600});
    ids.clear();
    for (const auto& h : later) ids.insert(std::to_string(h.event) + "/" + h.hold);
    EXPECT_EQ(ids, (std::set<std::string>{"1/c", "2/g"}));
    EXPECT_TRUE(expire(t0 + seconds{3600}).empty());
}

TEST_P(inventory_conformance, expire_survives_many_ended_holds) {
    // Many holds end before they expire; the few still live must expire, no more, no less.
    load(reserved(1, 8, 1000));
    for (int i = 0; i < 500; ++i) {
        const std::string id = "h" + std::to_string(i);
        ASSERT_TRUE(
            hold(1, i % 7, id, seats({"S-1", "S-2"}), t0 + std::chrono::seconds{i}).has_value());
        if (i % 3 == 0) {
            ASSERT_TRUE(pin(1, id).has_value());
        }
        ASSERT_TRUE(release(1, id));
    }
    ASSERT_TRUE(hold(1, 1, "last", seats({"S-3"}), t0 + std::chrono::seconds{1}).has_value());
    auto due = expire(t0 + std::chrono::seconds{1000});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].hold, "last");
}

// --- rebuild and refunds ------------------------------------------------------------------

TEST_P(inventory_conformance, mark_sold_makes_seats_unavailable) {
    load(reserved(1, 5));
    load(general(2, {{"floor", 10}}));
    const auto v = version(1);
    ASSERT_TRUE(mark_sold(1, 7, seats({"S-1", "S-2"})).has_value());
    EXPECT_GT(version(1), v);
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);
    auto taken = hold(1, 8, "h1", seats({"S-2", "S-3"}));
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code, hold_error::seat_unavailable);
    EXPECT_EQ(taken.error().seats, std::vector<std::string>{"S-2"});
    // The rebuilt sale counts towards the cap.
    ASSERT_TRUE(hold(1, 7, "h2", seats({"S-3", "S-4"})).has_value());
    EXPECT_EQ(refused(1, 7, "h3", seats({"S-5"})), hold_error::per_user_limit);

    ASSERT_TRUE(mark_sold(2, 7, zone("floor", 3)).has_value());
    EXPECT_EQ(zone_of(2).sold, 3);
    EXPECT_EQ(refused(2, 7, "h4", zone("floor", 2)), hold_error::per_user_limit);
}

TEST_P(inventory_conformance, mark_sold_fails_like_hold) {
    load(reserved(1, 5));
    load(general(2, {{"floor", 3}}));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"})).has_value());
    auto taken = mark_sold(1, 2, seats({"S-1", "S-2"}));
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code, hold_error::seat_unavailable);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);
    auto unknown = mark_sold(1, 2, seats({"S-77"}));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, hold_error::unknown_seat);
    auto twice = mark_sold(1, 2, seats({"S-3", "S-3"}));
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error().code, hold_error::invalid);
    auto short_zone = mark_sold(2, 2, zone("floor", 4));
    ASSERT_FALSE(short_zone.has_value());
    EXPECT_EQ(short_zone.error().code, hold_error::sold_out);
    EXPECT_EQ(zone_of(2).sold, 0);
}

TEST_P(inventory_conformance, unsell_returns_seats_sold_to_that_user_only) {
    load(reserved(1, 6));
    ASSERT_TRUE(mark_sold(1, 7, seats({"S-1", "S-2"})).has_value());
    ASSERT_TRUE(hold(1, 8, "h1", seats({"S-3"})).has_value());
    const auto v = version(1);
    EXPECT_FALSE(unsell(1, 8, seats({"S-1"})));         // sold to someone else
    EXPECT_FALSE(unsell(1, 8, seats({"S-3"})));         // held, not sold
    EXPECT_FALSE(unsell(1, 7, seats({"S-4"})));         // available
    EXPECT_FALSE(unsell(1, 7, seats({"S-1", "S-4"})));  // all or nothing
    EXPECT_FALSE(unsell(1, 7, seats({"S-99"})));        // unknown
    EXPECT_FALSE(unsell(1, 7, hold_items{}));           // invalid
    EXPECT_EQ(version(1), v);
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);

    EXPECT_TRUE(unsell(1, 7, seats({"S-1", "S-2"})));
    EXPECT_GT(version(1), v);
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);
    EXPECT_FALSE(unsell(1, 7, seats({"S-1"})));
    EXPECT_TRUE(hold(1, 9, "h2", seats({"S-1"})).has_value());
}

TEST_P(inventory_conformance, unsell_general_admission) {
    load(general(1, {{"floor", 10}, {"balcony", 10}}));
    ASSERT_TRUE(hold(1, 7, "h1", zone("floor", 2)).has_value());
    ASSERT_TRUE(commit(1, "h1"));
    EXPECT_FALSE(unsell(1, 8, zone("floor", 1)));
    EXPECT_FALSE(unsell(1, 7, zone("floor", 3)));
    EXPECT_FALSE(unsell(1, 7, zone("balcony", 1)));
    EXPECT_TRUE(unsell(1, 7, zone("floor", 2)));
    EXPECT_EQ(zone_of(1).sold, 0);
    EXPECT_EQ(zone_of(1).available, 10);
    EXPECT_FALSE(unsell(1, 7, zone("floor", 1)));
}

// --- views --------------------------------------------------------------------------------

TEST_P(inventory_conformance, snapshot_lists_seats_in_layout_order) {
    layout l;
    l.event = 1;
    l.seats = {"B-2", "A-1", "C-9", "A-2"};
    load(std::move(l));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"C-9"})).has_value());
    ASSERT_TRUE(hold(1, 2, "h2", seats({"A-2"})).has_value());
    ASSERT_TRUE(commit(1, "h2"));
    auto s = snap(1);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->event, 1);
    EXPECT_EQ(s->version, version(1));
    EXPECT_TRUE(s->zones.empty());
    ASSERT_EQ(s->seats.size(), 4u);
    const std::vector<std::pair<std::string, seat_status>> expected{{"B-2", seat_status::available},
                                                                    {"A-1", seat_status::available},
                                                                    {"C-9", seat_status::held},
                                                                    {"A-2", seat_status::sold}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(s->seats[i].id, expected[i].first);
        EXPECT_EQ(s->seats[i].status, expected[i].second) << expected[i].first;
    }
    auto c = count(1);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->capacity, 4);
    EXPECT_EQ(c->available, 2);
    EXPECT_EQ(c->held, 1);
    EXPECT_EQ(c->sold, 1);
}

TEST_P(inventory_conformance, snapshot_lists_zones_in_layout_order) {
    load(general(1, {{"pit", 5}, {"floor", 10}, {"balcony", 20}}, 10));
    ASSERT_TRUE(hold(1, 1, "h1", zone("floor", 3)).has_value());
    ASSERT_TRUE(hold(1, 1, "h2", zone("balcony", 4)).has_value());
    ASSERT_TRUE(commit(1, "h2"));
    ASSERT_TRUE(hold(1, 1, "h3", zone("balcony", 1)).has_value());
    auto s = snap(1);
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->seats.empty());
    ASSERT_EQ(s->zones.size(), 3u);
    EXPECT_EQ(s->zones[0].name, "pit");
    EXPECT_EQ(s->zones[0].available, 5);
    EXPECT_EQ(s->zones[1].name, "floor");
    EXPECT_EQ(s->zones[1].held, 3);
    EXPECT_EQ(s->zones[1].available, 7);
    EXPECT_EQ(s->zones[2].name, "balcony");
    EXPECT_EQ(s->zones[2].capacity, 20);
    EXPECT_EQ(s->zones[2].held, 1);
    EXPECT_EQ(s->zones[2].sold, 4);
    EXPECT_EQ(s->zones[2].available, 15);
    auto c = count(1);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->capacity, 35);
    EXPECT_EQ(c->held, 4);
    EXPECT_EQ(c->sold, 4);
    EXPECT_EQ(c->available, 27);
}

TEST_P(inventory_conformance, every_change_bumps_the_version_and_reads_do_not) {
    load(reserved(1, 5));
    std::uint64_t v = version(1);
    EXPECT_GT(v, 0u);
    const auto bumped = [&] {
        const auto now = version(1);
        const bool up = now > v;
        v = now;
        return up;
    };
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"}), t0).has_value());
    EXPECT_TRUE(bumped());
    ASSERT_TRUE(hold(1, 1, "h2", seats({"S-2"})).has_value());
    EXPECT_TRUE(bumped());
    ASSERT_TRUE(commit(1, "h2"));
    EXPECT_TRUE(bumped());
    ASSERT_EQ(expire(t0).size(), 1u);
    EXPECT_TRUE(bumped());
    ASSERT_TRUE(mark_sold(1, 2, seats({"S-3"})).has_value());
    EXPECT_TRUE(bumped());
    ASSERT_TRUE(unsell(1, 2, seats({"S-3"})));
    EXPECT_TRUE(bumped());
    snap(1);
    count(1);
    find(1, "h1");
    EXPECT_TRUE(expire(t0).empty());
    EXPECT_FALSE(bumped());
}

// --- load ---------------------------------------------------------------------------------

TEST_P(inventory_conformance, load_replaces_state) {
    load(reserved(1, 5));
    ASSERT_TRUE(hold(1, 1, "h1", seats({"S-1"}), t0).has_value());
    ASSERT_TRUE(mark_sold(1, 1, seats({"S-2"})).has_value());
    const auto v = version(1);

    layout l;
    l.event = 1;
    l.seats = {"S-1", "S-2", "T-1"};
    load(std::move(l));
    EXPECT_GT(version(1), v);  // a cached seat map of the old layout is stale
    EXPECT_FALSE(find(1, "h1").has_value());
    auto s = snap(1);
    ASSERT_TRUE(s.has_value());
    ASSERT_EQ(s->seats.size(), 3u);
    for (const auto& seat : s->seats) EXPECT_EQ(seat.status, seat_status::available) << seat.id;
    EXPECT_TRUE(expire(t0 + std::chrono::hours{1}).empty());
    // The user's old hold and sale are gone with the old state.
    EXPECT_TRUE(hold(1, 1, "h1", seats({"S-1", "S-2", "T-1"})).has_value());
    EXPECT_EQ(refused(1, 1, "h9", seats({"S-5"})), hold_error::unknown_seat);
}

TEST_P(inventory_conformance, load_can_switch_to_general_admission) {
    load(reserved(1, 5));
    load(general(1, {{"floor", 2}}));
    auto s = snap(1);
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->seats.empty());
    ASSERT_EQ(s->zones.size(), 1u);
    EXPECT_EQ(s->zones[0].available, 2);
}

TEST_P(inventory_conformance, each_seat_and_zone_carries_the_version_that_last_changed_it) {
    load(reserved(1, 4));
    load(general(2, {{"floor", 10}, {"balcony", 5}}));
    ASSERT_TRUE(hold(1, 7, "h1", seats({"S-1", "S-2"})));
    const auto held_at = version(1);
    ASSERT_TRUE(hold(1, 7, "h2", seats({"S-4"})));
    EXPECT_TRUE(release(1, "h1"));
    const auto s = snap(1);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->seats[0].version, s->version);  // released last
    EXPECT_EQ(s->seats[1].version, s->version);
    EXPECT_GT(s->seats[3].version, held_at);  // held after h1
    EXPECT_LT(s->seats[3].version, s->version);
    EXPECT_LT(s->seats[2].version, held_at);  // never touched
    ASSERT_TRUE(hold(2, 7, "g1", zone("balcony", 2)));
    const auto g = snap(2);
    EXPECT_EQ(g->zones[1].version, g->version);
    EXPECT_LT(g->zones[0].version, g->version);
}

// --- restore ------------------------------------------------------------------------------

inline hold_info held_for(user_id u, std::string id, hold_items items, time_point expires_at,
                          hold_state state = hold_state::held) {
    return hold_info{0, u, std::move(id), std::move(items), expires_at, state};
}

TEST_P(inventory_conformance, restore_makes_the_state_of_load_mark_sold_and_hold) {
    using std::chrono::seconds;
    restoration r;
    r.l = reserved(1, 10);
    r.sold.emplace_back(7, seats({"S-1", "S-2"}));
    r.holds.push_back(held_for(8, "h1", seats({"S-3", "S-4"}), t0 + seconds{10}));
    r.holds.push_back(held_for(9, "h2", seats({"S-5"}), t0 + seconds{10}, hold_state::pinned));
    auto done = restore(std::move(r));
    EXPECT_TRUE(done.restored);
    EXPECT_THAT(done.holds_refused, ::testing::IsEmpty());
    EXPECT_EQ(done.sold_refused, 0);
    EXPECT_TRUE(run(inv_->has_event(1)));
    EXPECT_EQ(status(1, "S-1"), seat_status::sold);
    EXPECT_EQ(status(1, "S-2"), seat_status::sold);
    EXPECT_EQ(status(1, "S-3"), seat_status::held);
    EXPECT_EQ(status(1, "S-5"), seat_status::held);
    EXPECT_EQ(status(1, "S-6"), seat_status::available);
    auto h1 = find(1, "h1");
    ASSERT_TRUE(h1.has_value());
    EXPECT_EQ(h1->event, 1);
    EXPECT_EQ(h1->user, 8);
    EXPECT_EQ(h1->items.seats, (std::vector<std::string>{"S-3", "S-4"}));
    EXPECT_EQ(h1->expires_at, t0 + seconds{10});
    EXPECT_EQ(h1->state, hold_state::held);
    EXPECT_EQ(find(1, "h2")->state, hold_state::pinned);
    // The sold seats count towards their buyer's cap; the pinned hold does not expire.
    EXPECT_EQ(refused(1, 7, "x1", seats({"S-6", "S-7", "S-8"})), hold_error::per_user_limit);
    auto due = expire(t0 + std::chrono::hours{1});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].hold, "h1");
    EXPECT_TRUE(commit(1, "h2"));
    EXPECT_TRUE(unsell(1, 7, seats({"S-1"})));
    auto c = count(1);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->sold, 2);
    EXPECT_EQ(c->held, 0);
    EXPECT_EQ(c->available, 8);
}

TEST_P(inventory_conformance, restore_general_admission) {
    restoration r;
    r.l = general(2, {{"floor", 10}, {"balcony", 5}});
    r.sold.emplace_back(7, zone("floor", 3));
    r.sold.emplace_back(8, zone("balcony", 1));
    r.holds.push_back(held_for(7, "g1", zone("floor", 1), t0 + ttl));
    r.holds.push_back(held_for(9, "g2", zone("balcony", 4), t0 + ttl, hold_state::pinned));
    auto done = restore(std::move(r));
    EXPECT_TRUE(done.restored);
    EXPECT_THAT(done.holds_refused, ::testing::IsEmpty());
    EXPECT_EQ(zone_of(2, 0).sold, 3);
    EXPECT_EQ(zone_of(2, 0).held, 1);
    EXPECT_EQ(zone_of(2, 1).available, 0);
    EXPECT_EQ(refused(2, 7, "x", zone("floor", 1)), hold_error::per_user_limit);
    EXPECT_TRUE(unsell(2, 7, zone("floor", 3)));
    EXPECT_EQ(find(2, "g2")->state, hold_state::pinned);
}

TEST_P(inventory_conformance, restore_only_if_absent_leaves_a_loaded_event_alone) {
    load(reserved(1, 5));
    ASSERT_TRUE(hold(1, 7, "h1", seats({"S-1"})).has_value());
    const auto v = version(1);
    restoration r;
    r.l = reserved(1, 8);
    r.sold.emplace_back(8, seats({"S-2"}));
    r.holds.push_back(held_for(9, "h9", seats({"S-3"}), t0 + ttl));
    auto kept = restore(r, restore_mode::only_if_absent);
    EXPECT_FALSE(kept.restored);
    EXPECT_THAT(kept.holds_refused, ::testing::IsEmpty());
    EXPECT_EQ(kept.sold_refused, 0);
    EXPECT_EQ(version(1), v);
    EXPECT_TRUE(find(1, "h1").has_value());
    EXPECT_FALSE(find(1, "h9").has_value());
    EXPECT_EQ(snap(1)->seats.size(), 5u);
    EXPECT_EQ(status(1, "S-2"), seat_status::available);

    // An absent event is restored; `replace` drops whatever was there.
    restoration absent;
    absent.l = reserved(2, 3);
    EXPECT_TRUE(restore(std::move(absent), restore_mode::only_if_absent).restored);
    EXPECT_TRUE(run(inv_->has_event(2)));
    auto replaced = restore(std::move(r), restore_mode::replace);
    EXPECT_TRUE(replaced.restored);
    EXPECT_GT(version(1), v);
    EXPECT_FALSE(find(1, "h1").has_value());
    EXPECT_TRUE(find(1, "h9").has_value());
    EXPECT_EQ(status(1, "S-1"), seat_status::available);
    EXPECT_EQ(status(1, "S-2"), seat_status::sold);
    EXPECT_EQ(snap(1)->seats.size(), 8u);
}

TEST_P(inventory_conformance, restore_reports_conflicts_and_keeps_the_rest) {
    restoration r;
    r.l = reserved(1, 6, 10);
    r.sold.emplace_back(7, seats({"S-1", "S-2"}));
    r.sold.emplace_back(8, seats({"S-2", "S-99", "S-3"}));  // S-2 taken, S-99 unknown
    r.holds.push_back(held_for(9, "hA", seats({"S-1", "S-4"}), t0 + ttl));  // S-1 is sold
    r.holds.push_back(held_for(9, "hB", seats({"S-4"}), t0 + ttl));
    r.holds.push_back(held_for(10, "hC", seats({"S-4", "S-5"}), t0 + ttl));  // S-4 is held
    r.holds.push_back(held_for(11, "hB", seats({"S-6"}), t0 + ttl));         // a duplicate id
    auto done = restore(std::move(r));
    EXPECT_TRUE(done.restored);
    EXPECT_EQ(done.sold_refused, 2);
    EXPECT_EQ(done.holds_refused, (std::vector<std::string>{"hA", "hC", "hB"}));
    EXPECT_EQ(status(1, "S-3"), seat_status::sold);
    EXPECT_EQ(status(1, "S-4"), seat_status::held);
    EXPECT_EQ(status(1, "S-5"), seat_status::available);
    EXPECT_EQ(status(1, "S-6"), seat_status::available);
    EXPECT_EQ(find(1, "hB")->user, 9);
    EXPECT_TRUE(unsell(1, 8, seats({"S-3"})));
    EXPECT_FALSE(unsell(1, 8, seats({"S-2"})));

    restoration g;
    g.l = general(2, {{"floor", 5}});
    g.sold.emplace_back(1, zone("floor", 4));
    g.sold.emplace_back(2, zone("floor", 3));  // one fits
    g.sold.emplace_back(3, zone("pit", 2));    // no such zone
    g.holds.push_back(held_for(4, "g1", zone("floor", 1), t0 + ttl));
    auto ga = restore(std::move(g));
    EXPECT_EQ(ga.sold_refused, 4);
    EXPECT_EQ(ga.holds_refused, std::vector<std::string>{"g1"});
    EXPECT_EQ(zone_of(2).sold, 5);
    EXPECT_TRUE(unsell(2, 2, zone("floor", 1)));
}

TEST_P(inventory_conformance, restore_versions_pass_the_floor_and_the_version_before) {
    restoration r;
    r.l = reserved(1, 4);
    r.sold.emplace_back(7, seats({"S-1"}));
    r.version_floor = 5'000'000'000;
    ASSERT_TRUE(restore(r).restored);
    auto s = snap(1);
    ASSERT_TRUE(s.has_value());
    EXPECT_GT(s->version, 5'000'000'000u);
    EXPECT_EQ(version(1), s->version);
    for (const auto& seat : s->seats) EXPECT_EQ(seat.version, s->version) << seat.id;
    ASSERT_TRUE(hold(1, 8, "h1", seats({"S-2"})).has_value());
    const auto before = version(1);
    r.version_floor = 0;
    ASSERT_TRUE(restore(r).restored);
    EXPECT_GT(version(1), before);
    const auto after = snap(1);  // kept: a range-for over a temporary's member would dangle
    ASSERT_TRUE(after.has_value());
    for (const auto& seat : after->seats) EXPECT_GT(seat.version, before) << seat.id;
}

}  // namespace tkt::inventory::conformance

// Runs the suite against one engine; `factory` returns a fresh std::unique_ptr<inventory>.
// Use it at global namespace scope: gtest pastes the suite name into identifiers, so the
// instantiation has to sit in the suite's own namespace.
#define TKT_INSTANTIATE_INVENTORY_CONFORMANCE(instance, factory)                \
    namespace tkt::inventory::conformance {                                     \
    INSTANTIATE_TEST_SUITE_P(instance, inventory_conformance,                   \
                             ::testing::Values(engine{#instance, factory}),     \
                             [](const ::testing::TestParamInfo<engine>& info) { \
                                 return info.param.name;                        \
                             });                                                \
    }
