#pragma once
// Holds → orders → payment → tickets: selling each seat once (DESIGN.md §5).
//
// The rules, in the order a sale meets them:
// - hold: the event must be on sale; ≤ 4 seats (or a GA quantity ≤ 4) per hold, held + owned ≤
//   the event's maxPerUser; the inventory holds all-or-nothing; the order row (PENDING_PAYMENT,
//   price from the event's grades, never from the client) is written next — if that write
//   fails, the hold is released.
// - money: every move of money is a move of booking/money.hpp, won by one compare-and-set in
//   the database before the provider is called; only the winner calls it, and the reconciler
//   finishes what a crash, a timeout or an outage left in CONFIRMING or REFUNDING.
// - confirm: the order must be the caller's, PENDING and the amount equal, its event neither
//   CLOSED nor CANCELLED; it becomes CONFIRMING (committed) before the provider is called, with
//   Idempotency-Key = orderId. DONE → one transaction moves it to PAID first, then writes
//   payment, tickets and an outbox row; a refusal of the unique key on (event, seat) — or the
//   zone's capacity for GA, or an event cancelled meanwhile — rolls that back, and the order
//   moves CONFIRMING → REFUNDING and its payment is refunded (REFUNDED). Declined → FAILED,
//   seats back at once. Unknown → stays CONFIRMING and the reconciler asks the provider by
//   orderId until it knows.
// - late payment: a confirm after the hold expired first takes the same seats again; only if
//   that fails is it refused with HOLD_EXPIRED, and the provider is never asked to capture.
// - expiry: the sweeper ends holds past their time; their orders become EXPIRED.
// - cancel: PAID → REFUNDING with its tickets VOID in one transaction (refused if a ticket is
//   USED), seats AVAILABLE, then the provider refunds (Idempotency-Key refund-<orderId>) →
//   CANCELLED; refused for good → REFUND_FAILED, for the manager and the audit to see.
// - an event's cancellation does that for every paid order of the event and releases its holds.
// Every coroutine may run on any I/O thread concurrently; no state of its own is shared except
// through the database (compare-and-set on order status) and the inventory (atomic per event).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/user.hpp"
#include "booking/hold_owners.hpp"
#include "booking/money.hpp"
#include "booking/order.hpp"
#include "booking/order_store.hpp"
#include "catalog/event.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"
#include "inventory/inventory.hpp"
#include "payment/gateway.hpp"

namespace tkt::booking {

struct service_options {
    // How long a CONFIRMING order waits between questions to the provider; a REFUNDING order's
    // first pause, doubled after each unanswered attempt up to refund_backoff_max_seconds.
    std::int64_t reconcile_backoff_seconds = 2;
    std::int64_t refund_backoff_max_seconds = 300;
    // The reconciler's first look comes after the confirm call's own deadline (5 s) has passed,
    // so it does not race a confirm that is still waiting for its answer.
    std::int64_t first_check_seconds = 6;
    // A confirm the provider says it never saw (or still holds uncaptured) is taken as failed
    // only after this long: a request still in flight at the provider could capture later.
    std::int64_t unknown_grace_seconds = 60;
    // An Idempotency-Key is kept this long; a claim whose request never answered (a crash) may
    // be taken over after idempotency_stale_seconds (longer than any confirm runs).
    std::int64_t idempotency_ttl_seconds = 24 * 3600;
    std::int64_t idempotency_stale_seconds = 60;
};

struct dependencies {
    db::database& db;
    inventory::inventory& inventory;
    payment::gateway& gateway;
    const clock& clk;
    // The event by id (nullptr when unknown); cheap, called on every hold.
    std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event;
    // A signed ticket code for (ticket id, event id).
    std::function<std::string(const std::string&, std::int64_t)> sign_ticket;
    // The event's lifecycle: SOLD_OUT once nothing is left to hold, ON_SALE again when a
    // cancellation returns seats. Optional (tests may leave them empty).
    std::function<boost::asio::awaitable<bool>(std::int64_t)> mark_sold_out;
    std::function<boost::asio::awaitable<bool>(std::int64_t)> mark_back_on_sale;
};

struct hold_body {
    std::vector<std::string> seats;
    std::string zone;
    std::int32_t quantity = 0;
};

struct confirm_body {
    std::string payment_key;
    std::string order_id;
    std::int64_t amount = 0;
    std::string test_code;  // Toss test mode header, passed through (sandbox, tests)
};

// A confirm's or a cancel's answer: the order, or a problem; plus the HTTP status to send with
// the order (200 settled, 202 still confirming or refunding).
struct order_answer {
    int status = 200;
    order body;
};

// A stored answer for an Idempotency-Key.
struct store_answer {
    std::string request_hash;
    int status_code = 0;  // 0 while the first request runs
    std::string response;
};

// How a refund begins (service::begin_refund).
struct refund_start {
    money_move move = money_move::cancel;  // cancel (a PAID order) or refund_capture
    std::string payment_key;
    std::string code;  // failure_code while refunding: CANCELLED, EVENT_CANCELLED, SEAT_TAKEN, ...
    std::string reason;  // for the provider and the user
    // cancel only: a USED ticket refuses a user's or manager's cancellation; an event's
    // cancellation (or one made at the provider) voids USED tickets too.
    enum class used_tickets { refuse, void_them } used = used_tickets::refuse;
};
// What the provider is known to have done to a payment before we ask it to refund.
enum class provider_state { unknown, cancelled };

// An event's sale as the live dashboard shows it: the inventory's counts (memory or Redis) and
// the database's sales figures, without reading the orders or checking the invariants.
struct event_stats {
    inventory::counts counts;
    bool loaded = true;  // false: the inventory has no layout for the event (cancelled)
    store::sales_totals sales;
};

struct audit_report {
    inventory::counts counts;
    std::int64_t refunding = 0;      // orders whose refund is under way
    std::int64_t refund_failed = 0;  // refunds the provider refused for good
    std::vector<std::string> violations;
};

class service {
public:
    service(dependencies deps, service_options options);

    boost::asio::awaitable<result<order>> hold(auth::principal who, std::int64_t event_id,
                                               hold_body body);
    boost::asio::awaitable<result<void>> release(auth::principal who, std::string hold_id);
    boost::asio::awaitable<result<std::vector<order>>> orders_of(auth::principal who);
    boost::asio::awaitable<result<order>> order_of(auth::principal who, std::string order_id);
    boost::asio::awaitable<result<order_answer>> confirm(auth::principal who, confirm_body body);
    boost::asio::awaitable<result<order_answer>> cancel(auth::principal who, std::string order_id,
                                                        std::string reason);
    // The provider says a payment changed. The payment must be one of ours (its orderId or
    // paymentKey in our records; otherwise nothing is asked); it is then read back from the
    // provider, at most one read per payment at a time, and acted on.
    boost::asio::awaitable<result<void>> on_webhook(std::string payment_key, std::string order_id);
    // An event was cancelled: every PAID order → REFUNDING with its tickets VOID, every hold
    // released, in one transaction; the reconciler then asks for the refunds. Returns how many
    // orders are to be refunded. Safe to repeat.
    boost::asio::awaitable<result<int>> cancel_event(std::int64_t event_id);

    // Ends expired holds; returns how many orders expired. Every few seconds it also expires
    // PENDING_PAYMENT orders past their time whose hold the inventory no longer has (its expiry
    // answered nothing: a Redis timeout after the script ran, a failed read of the order, a
    // hold Redis lost), so every order ends and its user is told.
    boost::asio::awaitable<int> sweep();
    // Asks the provider about CONFIRMING and REFUNDING orders that are due, and finishes
    // cancellations of events cut short; returns how many orders were settled.
    boost::asio::awaitable<int> reconcile();
    // Puts events' inventories back from the database (at start, and after Redis lost its
    // data): restore_event for each; returns how many were restored.
    boost::asio::awaitable<int> rebuild(std::vector<std::int64_t> events,
                                        inventory::restore_mode mode);
    // One event (not CANCELLED), in one inventory::restore: its layout, the seats of its PAID
    // orders, the holds of its PENDING_PAYMENT orders still in time and, pinned, of its
    // CONFIRMING ones. Orders whose hold ran out meanwhile, or could not be taken back, expire
    // (the user is told, as by the sweeper). With only_if_absent an event the inventory has
    // already (another node restored it, or it never went away) is left alone: false.
    boost::asio::awaitable<result<bool>> restore_event(std::int64_t event_id,
                                                       inventory::restore_mode mode);
    // Orders whose move the inventory could not be told of (Redis unreachable): a sale (its seats
    // stay under the order's pinned hold, so nobody else gets them) or a cancellation (its seats
    // stay taken). This tells the inventory again — every second on api and queue nodes — what
    // each order is now: PAID, the hold becomes SOLD; cancelled, the seats go back. Returns how
    // many it told; inventory_owed() is how many still wait on this node.
    boost::asio::awaitable<int> retry_inventory();
    std::size_t inventory_owed() const;
    // The invariants of DESIGN.md §5 for one event, checked now.
    boost::asio::awaitable<result<audit_report>> audit(std::int64_t event_id);
    // The event's sale in figures (what the dashboard polls; cheaper than audit() and the list).
    boost::asio::awaitable<result<event_stats>> stats(std::int64_t event_id);
    // The event's orders and sales totals, for its manager.
    boost::asio::awaitable<result<std::vector<order>>> orders_of_event(std::int64_t event_id);

    // Whether `who` runs the event (its manager, or an admin).
    bool manages(const auth::principal& who, std::int64_t event_id) const;

    // Idempotency-Key bookkeeping for confirm: nullopt when the key was free (or its first
    // request never finished, or it is older than a day) and is now claimed by this request;
    // otherwise what was stored for it. The order must be the caller's before anything is
    // claimed (another user's: NOT_FOUND, and no key is spent).
    boost::asio::awaitable<result<std::optional<store_answer>>> claim_idempotency(
        auth::principal who, std::string key, std::string request_hash, std::string order_id);
    // Stores the answer for a claimed key (5xx answers release the key so a retry can run).
    boost::asio::awaitable<void> remember(auth::principal who, std::string key, int status,
                                          std::string body);

private:
    boost::asio::awaitable<result<order>> load_owned(auth::principal who,
                                                     const std::string& order_id);
    boost::asio::awaitable<result<order>> take_for_confirm(order o, const catalog::event& e);
    boost::asio::awaitable<result<order_answer>> settle_confirm(order o,
                                                                const payment::gateway_result& r);
    boost::asio::awaitable<result<order>> finish_captured(order o, payment::payment_record p);
    // Money captured for `o` that cannot be ticketed: refund_capture, then the refund.
    boost::asio::awaitable<result<order>> refund_capture(order o, std::string payment_key,
                                                         problem why);
    // The compare-and-set into REFUNDING (see refund_start); true when this call won it.
    boost::asio::awaitable<result<bool>> begin_refund(const order& o, const refund_start& start);
    // A cancelled sale's seats back on sale, whether or not its sale reached the inventory yet.
    boost::asio::awaitable<void> unsell_paid(const order& o);
    // Asks the provider to refund a REFUNDING order (unless it already has) and records the end.
    boost::asio::awaitable<result<order>> finish_refund(order o, provider_state state);
    // What the webhook does with the payment as the provider has it now.
    boost::asio::awaitable<void> act_on_payment(payment::payment_record p);
    boost::asio::awaitable<int> reconcile_confirming(std::int64_t now);
    boost::asio::awaitable<int> reconcile_refunding(std::int64_t now);
    boost::asio::awaitable<void> fail_order(const order& o, std::string code, std::string message);
    // What the inventory still has of an order it was not told about: its hold, pinned (a sale
    // whose commit, or a release, did not reach it), or its seats SOLD (a cancellation whose
    // unsell did not).
    enum class still_there { pinned_hold, sold_seats };
    // Remembers it for retry_inventory, once per order: the first entry wins (a sale that never
    // reached the inventory, cancelled since, still has only its pinned hold there).
    void owe_inventory(const std::string& order_id, still_there what, const unavailable_error& e);
    boost::asio::awaitable<result<order>> reload(const std::string& order_id);
    // Moves the event to SOLD_OUT when every seat is sold, or back to ON_SALE when it is not.
    boost::asio::awaitable<void> update_sold_out(std::int64_t event_id);
    // PENDING_PAYMENT → EXPIRED (only if its time has come) with the user's notice; true if it did.
    boost::asio::awaitable<bool> expire_order(const order& o);
    std::string now_text() const;
    std::int64_t now_unix() const;

    dependencies deps_;
    service_options options_;
    hold_owners owners_;  // the holds this process made, for one-statement releases
    std::mutex webhooks_mutex_;
    // Payment keys a webhook is reading back now, each with whether another delivery came
    // meanwhile (then it reads once more).
    std::unordered_map<std::string, bool> webhooks_in_flight_;
    std::atomic<std::int64_t> idempotency_purged_at_{0};  // unix seconds
    std::atomic<std::int64_t> overdue_checked_at_{0};     // unix seconds (sweep)
    mutable std::mutex owed_mutex_;
    std::map<std::string, still_there> owed_;  // by order id
};

}  // namespace tkt::booking
