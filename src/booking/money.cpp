#include "booking/money.hpp"

#include <array>

#include "common/assert.hpp"

namespace tkt::booking {
namespace {

using enum order_status;

constexpr std::array pending{pending_payment};
constexpr std::array confirmable{pending_payment, expired};
constexpr std::array confirming_only{confirming};
constexpr std::array paid_only{paid};
constexpr std::array refunding_only{refunding};
// Money captured for an order that is not (or no longer) being paid for: a hold still awaiting
// payment, expired, released (CANCELLED before any sale: the store checks it was never paid),
// a payment that was taken as failed, or a sale that cannot be ticketed.
constexpr std::array capturable{confirming, pending_payment, expired, failed, cancelled};

}  // namespace

std::string_view to_string(money_move m) {
    switch (m) {
        case money_move::expire:
            return "expire";
        case money_move::release:
            return "release";
        case money_move::confirm:
            return "confirm";
        case money_move::sell:
            return "sell";
        case money_move::decline:
            return "decline";
        case money_move::refund_capture:
            return "refund_capture";
        case money_move::cancel:
            return "cancel";
        case money_move::refunded:
            return "refunded";
        case money_move::refund_refused:
            return "refund_refused";
    }
    TKT_ASSERT(false);
    return "";
}

std::span<const order_status> from_states(money_move m) {
    switch (m) {
        case money_move::expire:
        case money_move::release:
            return pending;
        case money_move::confirm:
            return confirmable;
        case money_move::sell:
        case money_move::decline:
            return confirming_only;
        case money_move::refund_capture:
            return capturable;
        case money_move::cancel:
            return paid_only;
        case money_move::refunded:
        case money_move::refund_refused:
            return refunding_only;
    }
    TKT_ASSERT(false);
    return {};
}

order_status target(money_move m, paid_before was_paid) {
    switch (m) {
        case money_move::expire:
            return expired;
        case money_move::release:
            return cancelled;
        case money_move::confirm:
            return confirming;
        case money_move::sell:
            return paid;
        case money_move::decline:
            return failed;
        case money_move::refund_capture:
        case money_move::cancel:
            return refunding;
        case money_move::refunded:
            return was_paid == paid_before::yes ? cancelled : refunded;
        case money_move::refund_refused:
            return refund_failed;
    }
    TKT_ASSERT(false);
    return failed;
}

bool allowed(order_status s, money_move m) {
    for (auto from : from_states(m)) {
        if (from == s) return true;
    }
    return false;
}

std::int64_t refund_backoff_seconds(std::int64_t attempts, std::int64_t base_s,
                                    std::int64_t max_s) {
    TKT_ASSERT(attempts >= 1 && base_s >= 1 && max_s >= base_s);
    std::int64_t delay = base_s;
    for (std::int64_t i = 1; i < attempts && delay < max_s; ++i) delay *= 2;
    return delay < max_s ? delay : max_s;
}

}  // namespace tkt::booking
