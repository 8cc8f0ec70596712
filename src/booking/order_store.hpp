#pragma once
// The SQL of orders, payments, tickets and the outbox. Blocking: call only on a DB thread
// (inside database::run / transact). Status changes are compare-and-set on `status`, so two
// racing writers (a user's confirm and the sweeper, say) can never both win.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "booking/money.hpp"
#include "booking/order.hpp"
#include "db/database.hpp"

namespace tkt::booking::store {

db::expected<void> insert_order(db::connection& c, const order& o, const std::string& now_text);
db::expected<std::optional<order>> find_order(db::connection& c, const std::string& id);
// The user whose order `id` is (0 when there is no such order).
db::expected<std::int64_t> order_owner(db::connection& c, const std::string& id);
db::expected<std::optional<order>> find_order_by_hold(db::connection& c,
                                                      const std::string& hold_id);
// The few columns a release needs, without decoding the whole order.
struct hold_row {
    std::string order_id;
    std::int64_t event_id = 0;
    std::int64_t user_id = 0;
    order_status status = order_status::pending_payment;
};
// A hold's id is its order's id with another prefix (`hld_<x>` belongs to `ord_<x>`), so a
// hold is found by its order's primary key (migration 006). Holds made before that migration
// have ids of their own, found through a partial index of exactly those.
inline constexpr std::string_view hold_id_prefix = "hld_";
inline constexpr std::string_view order_id_prefix = "ord_";
// The order id a hold id belongs to (empty when it has not the hold prefix).
std::string order_id_of_hold(std::string_view hold_id);
db::expected<std::optional<hold_row>> find_hold(db::connection& c, const std::string& hold_id);
// A user's purchase history, newest first (at most 200): the orders with a payment attempt
// (CONFIRMING and everything after it, or a refunded capture) and the holds awaiting payment
// (confirming_at tells the first kind, migration 005). A hold released or
// expired before any payment attempt is not listed (find_order still reads it).
db::expected<std::vector<order>> orders_of_user(db::connection& c, std::int64_t user_id);
db::expected<std::vector<order>> orders_of_event(db::connection& c, std::int64_t event_id);
// An event's sales in figures, counted by the database: the rows orders_of_event would read
// (through the same indexes), and the paid orders' tickets, aggregated where they lie, with no
// row sent back or decoded. For the live dashboard, which asks every second or two.
struct sales_totals {
    std::int64_t paid_orders = 0;
    std::int64_t tickets_sold = 0;      // the PAID orders' seats and admissions
    std::int64_t revenue = 0;           // the PAID orders' amounts
    std::int64_t awaiting_payment = 0;  // PENDING_PAYMENT (held) and CONFIRMING
    std::int64_t failed = 0;            // declined
    std::int64_t refunding = 0;
    std::int64_t refunded = 0;  // REFUNDED, and CANCELLED after a payment
    std::int64_t refund_failed = 0;
};
db::expected<sales_totals> sales_of_event(db::connection& c, std::int64_t event_id);
// One event's PAID, PENDING_PAYMENT and CONFIRMING orders, read in one statement (one snapshot:
// an order moving from one to another meanwhile is read once), for the inventory's restore.
db::expected<std::vector<order>> orders_to_restore(db::connection& c, std::int64_t event_id);
// PENDING_PAYMENT orders whose hold ran out before `before` (unix seconds), at most `limit`:
// the sweeper's check for holds that ended without their order hearing of it.
db::expected<std::vector<order>> overdue_pending(db::connection& c, std::int64_t before, int limit);
// Orders in `status` (all events), for the rebuild and the reconciler.
db::expected<std::vector<order>> orders_in(db::connection& c, order_status status);
// CONFIRMING orders the reconciler should ask about now.
db::expected<std::vector<order>> confirming_due(db::connection& c, std::int64_t now, int limit);
// REFUNDING orders whose refund the reconciler should ask for now, the most overdue first.
db::expected<std::vector<order>> refunding_due(db::connection& c, std::int64_t now, int limit);
// The reconciler's claim on one look at an order in `status` whose next look was due at
// `seen_next_check_at` (as it read it): moves the next look to `next_check_at` and counts the
// attempt. True for exactly one of several reconcilers (nodes) that read the same row.
db::expected<bool> claim_check(db::connection& c, const order& o, std::int64_t next_check_at);
// An event's orders in `status` that had a payment attempt (PAID, REFUNDING, ...), through
// orders_event; and its holds awaiting payment, through orders_live.
db::expected<std::vector<order>> attempts_of_event_in(db::connection& c, std::int64_t event_id,
                                                      order_status status);
db::expected<std::vector<order>> holds_of_event(db::connection& c, std::int64_t event_id);
// Events that are CANCELLED but still have PAID orders (a cancellation cut short by a crash).
db::expected<std::vector<std::int64_t>> cancelled_events_with_paid_orders(db::connection& c);
// The event's status as the database has it now (empty when no such event).
db::expected<std::string> event_status_text(db::connection& c, std::int64_t event_id);
// The order whose payment is `payment_key` (its confirm named it, or its payment row does).
db::expected<std::optional<std::string>> order_id_of_payment(db::connection& c,
                                                             const std::string& payment_key);

struct transition {
    std::string id;
    std::vector<order_status> from;
    order_status to = order_status::pending_payment;
    std::string now_text;
    // Only when the order was never PAID (paid_at unset): a released hold may be refunded a
    // capture learned of later, a cancelled sale never again.
    bool unpaid_only = false;
    // Only while the order's event is neither CLOSED nor CANCELLED in the database (a confirm:
    // no capture for an event that will not sell, whatever a node's cache says).
    bool open_event_only = false;
    std::optional<std::int64_t> check_attempts;
    // Optional column updates that go with the change.
    std::optional<std::string> payment_key;
    std::optional<std::int64_t> expires_at;
    std::optional<std::int64_t> confirming_at;
    std::optional<std::int64_t> next_check_at;
    std::optional<std::string> failure_code;
    std::optional<std::string> failure_message;
    // Only when expires_at ≤ this (the sweeper must not expire a hold taken again since).
    std::optional<std::int64_t> expired_by;
};
// The transition that carries out `move` (booking/money.hpp) for order `id`.
transition transition_for(std::string id, money_move move, std::string now_text,
                          paid_before was_paid = paid_before::no);
// True when the order was in one of `from` (and matched the guards) and now is `to`.
db::expected<bool> change_status(db::connection& c, const transition& t);

db::expected<std::vector<ticket_row>> tickets_of_order(db::connection& c,
                                                       const std::string& order_id);
db::expected<void> insert_ticket(db::connection& c, const ticket_row& t);
// VALID tickets of the order → VOID (a cancellation, which a USED ticket refuses), or every live
// one, USED too (the event was cancelled).
enum class void_scope { valid, all_live };
db::expected<std::int64_t> void_tickets(db::connection& c, const std::string& order_id,
                                        void_scope scope = void_scope::valid);
db::expected<std::int64_t> used_tickets(db::connection& c, const std::string& order_id);
// A check-in: VALID → USED for the ticket of that event, stamped `now_text`, only while its order
// is PAID and its event not CANCELLED, in one statement; true when this call made the change (a
// compare-and-set, so of concurrent scans, and of a scan and a cancellation, exactly one wins).
db::expected<bool> use_ticket(db::connection& c, const std::string& ticket_id,
                              std::int64_t event_id, const std::string& now_text);
// Live (VALID or USED) tickets of a zone, for the general-admission capacity guard.
db::expected<std::int64_t> live_zone_tickets(db::connection& c, std::int64_t event_id,
                                             const std::string& zone);
db::expected<std::vector<ticket_row>> live_tickets_of_event(db::connection& c,
                                                            std::int64_t event_id);

struct payment_row {
    std::string payment_key;
    std::string order_id;
    std::int64_t amount = 0;
    std::string status;
    std::string method;
    std::string approved_at;
};
db::expected<void> upsert_payment(db::connection& c, const payment_row& p,
                                  const std::string& now_text);
// The payment rows of the event's orders, and payment rows whose order does not exist (all
// events), for the audit.
db::expected<std::vector<payment_row>> payments_of_event(db::connection& c, std::int64_t event_id);
db::expected<std::vector<std::string>> payments_without_order(db::connection& c);

struct outbox_message {
    std::int64_t user_id = 0;
    std::string
        type;  // BOOKING_CONFIRMED, PAYMENT_FAILED, HOLD_EXPIRED, ORDER_CANCELLED, ORDER_REFUNDED
    std::string title;
    std::string body;
    std::string data_json;
};
db::expected<void> insert_outbox(db::connection& c, const outbox_message& m,
                                 const std::string& now_text);

// Idempotency keys for confirm.
struct idempotent_answer {
    std::string request_hash;
    int status_code = 0;  // 0: the first request is still in flight
    std::string response;
};
db::expected<std::optional<idempotent_answer>> find_idempotency(db::connection& c,
                                                                std::int64_t user_id,
                                                                const std::string& key);
// Claims `key` for this user and request: true when the key was free, or its row may be taken
// over — a first request that never finished (status 0) claimed before `stale_before`, or any
// row created before `expired_before` (keys are kept 24 hours). False when the key is taken.
struct idempotency_claim {
    std::int64_t now = 0;
    std::int64_t stale_before = 0;
    std::int64_t expired_before = 0;
};
db::expected<bool> claim_idempotency(db::connection& c, std::int64_t user_id,
                                     const std::string& key, const std::string& request_hash,
                                     const idempotency_claim& at);
// Forgets keys created before `expired_before`; returns how many.
db::expected<std::int64_t> purge_idempotency(db::connection& c, std::int64_t expired_before);
db::expected<void> store_idempotency(db::connection& c, std::int64_t user_id,
                                     const std::string& key, int status_code,
                                     const std::string& response);
db::expected<void> drop_idempotency(db::connection& c, std::int64_t user_id,
                                    const std::string& key);

}  // namespace tkt::booking::store
