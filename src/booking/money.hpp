#pragma once
// The order's money states (DESIGN.md §5) and the moves between them: the one place that knows
// which move may start from which state and where it ends. Sans-io.
//
//  PENDING_PAYMENT ─confirm─► CONFIRMING ─sell─► PAID ─cancel─► REFUNDING ─refunded─► CANCELLED
//    │ expire ► EXPIRED          │ decline ► FAILED                  │ refund_refused
//    │ release ► CANCELLED       │ refund_capture                    ▼
//    ▼ (EXPIRED: confirm again)  └────────────► REFUNDING ─refunded─► REFUNDED   REFUND_FAILED
//
// The rule the service follows: every move is one compare-and-set on the order's status in the
// database (store::change_status with the move's `from` states). Of any number of paths that try
// the same move at once (a user's confirm, a second tab, the webhook, the reconciler, the
// sweeper, a manager, another node) exactly one wins, and only the winner of `confirm` asks the
// provider to capture, and only the winner of `cancel` or `refund_capture` asks it to refund.
// Whoever is left in CONFIRMING or REFUNDING by a crash, a timeout or an outage is finished by the
// reconciler, with backoff, until the order is in a final state.
#include <cstdint>
#include <span>
#include <string_view>

#include "booking/order.hpp"

namespace tkt::booking {

enum class money_move {
    expire,   // its hold's time passed (sweeper, start-up, a late confirm that lost its seats)
    release,  // its user let the hold go, or its event was cancelled
    confirm,  // committed before the provider is asked to capture
    sell,     // the provider captured: the first statement of the sale's transaction
    decline,  // the provider declined, or never captured
    refund_capture,  // captured, but cannot be ticketed: committed before the refund is asked
    cancel,          // a paid order cancelled (user, manager, event): before the refund is asked
    refunded,        // the provider refunded
    refund_refused,  // the provider refused the refund for good
};

std::string_view to_string(money_move m);

// The states a move may start from.
std::span<const order_status> from_states(money_move m);

// Where a move ends. `refunded` ends in CANCELLED for an order that was PAID (`was_paid`) and in
// REFUNDED for money captured for an order that never was.
enum class paid_before { no, yes };
order_status target(money_move m, paid_before was_paid = paid_before::no);

// Whether `m` may start from `s`.
bool allowed(order_status s, money_move m);

// When the reconciler looks again at a REFUNDING order it has looked at `attempts` times
// (attempts ≥ 1): base, 2·base, 4·base … capped at `max_s`.
std::int64_t refund_backoff_seconds(std::int64_t attempts, std::int64_t base_s, std::int64_t max_s);

}  // namespace tkt::booking
