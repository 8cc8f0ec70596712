#include "booking/money.hpp"

#include <map>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace tkt::booking {
namespace {

using enum order_status;

const std::vector<order_status> all_states{pending_payment, confirming, paid,
                                           failed,          expired,    cancelled,
                                           refunded,        refunding,  refund_failed};

// DESIGN.md §5, written out by hand: the states each move may start from and where it ends.
struct expected_move {
    std::set<order_status> from;
    order_status to;
};
const std::map<money_move, expected_move> design{
    {money_move::expire, {{pending_payment}, expired}},
    {money_move::release, {{pending_payment}, cancelled}},
    {money_move::confirm, {{pending_payment, expired}, confirming}},
    {money_move::sell, {{confirming}, paid}},
    {money_move::decline, {{confirming}, failed}},
    {money_move::refund_capture,
     {{confirming, pending_payment, expired, failed, cancelled}, refunding}},
    {money_move::cancel, {{paid}, refunding}},
    {money_move::refunded, {{refunding}, refunded}},
    {money_move::refund_refused, {{refunding}, refund_failed}},
};

TEST(money, every_move_is_allowed_exactly_from_its_states) {
    for (const auto& [move, want] : design) {
        for (auto s : all_states) {
            EXPECT_EQ(allowed(s, move), want.from.contains(s))
                << to_string(move) << " from " << to_string(s);
        }
        EXPECT_EQ(target(move), want.to) << to_string(move);
    }
}

TEST(money, no_move_leaves_a_refund_or_a_failed_refund) {
    for (const auto& [move, want] : design) {
        EXPECT_FALSE(allowed(refunded, move)) << to_string(move);
        EXPECT_FALSE(allowed(refund_failed, move)) << to_string(move);
    }
}

TEST(money, a_paid_order_moves_only_by_cancel) {
    std::vector<money_move> from_paid;
    for (const auto& [move, want] : design) {
        if (allowed(paid, move)) from_paid.push_back(move);
    }
    EXPECT_EQ(from_paid, std::vector<money_move>{money_move::cancel});
}

TEST(money, a_refund_ends_cancelled_for_a_paid_order_and_refunded_otherwise) {
    EXPECT_EQ(target(money_move::refunded, paid_before::yes), cancelled);
    EXPECT_EQ(target(money_move::refunded, paid_before::no), refunded);
    EXPECT_EQ(target(money_move::refund_refused, paid_before::yes), refund_failed);
}

TEST(money, refund_backoff_doubles_up_to_its_cap) {
    EXPECT_EQ(refund_backoff_seconds(1, 2, 300), 2);
    EXPECT_EQ(refund_backoff_seconds(2, 2, 300), 4);
    EXPECT_EQ(refund_backoff_seconds(5, 2, 300), 32);
    EXPECT_EQ(refund_backoff_seconds(9, 2, 300), 300);
    EXPECT_EQ(refund_backoff_seconds(1'000'000, 2, 300), 300);
    EXPECT_EQ(refund_backoff_seconds(3, 5, 5), 5);
}

TEST(money, every_status_reads_back_from_its_name) {
    for (auto s : all_states) EXPECT_EQ(parse_order_status(to_string(s)), s);
    EXPECT_FALSE(parse_order_status("REFUND"));
}

}  // namespace
}  // namespace tkt::booking
