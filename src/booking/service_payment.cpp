// The confirm half of booking::service: confirm, the sale, a decline. Refunds are in
// service_refund.cpp, the webhook and the reconciler in service_ops.cpp.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "booking/detail/problems.hpp"
#include "booking/order_store.hpp"
#include "booking/service.hpp"
#include "common/failpoint.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using detail::db_problem;
using detail::order_data_json;

problem conflict(std::string detail) {
    return make_problem(problem_code::conflict, std::move(detail));
}

// What finishing a captured payment inside one transaction came to.
enum class finish_outcome { paid, seat_taken, event_cancelled, not_confirming };

struct finish_error {
    finish_outcome outcome = finish_outcome::seat_taken;
    std::optional<db::error> failure;
    finish_error(finish_outcome o) : outcome(o) {}        // NOLINT: implicit by design
    finish_error(db::error e) : failure(std::move(e)) {}  // NOLINT: for the transaction's commit
};

std::vector<ticket_row> make_tickets(
    const order& o, const catalog::event& e,
    const std::function<std::string(const std::string&, std::int64_t)>& sign,
    const std::string& now) {
    std::vector<ticket_row> tickets;
    auto add = [&](std::string seat, std::string zone, std::string grade, std::int64_t price) {
        ticket_row t;
        t.id = random_id("tkt_");
        t.order_id = o.id;
        t.event_id = o.event_id;
        t.user_id = o.user_id;
        t.seat = std::move(seat);
        t.zone = std::move(zone);
        t.grade = std::move(grade);
        t.price = price;
        t.code = sign(t.id, o.event_id);
        t.created_at = now;
        tickets.push_back(std::move(t));
    };
    for (const auto& s : o.items.seats) {
        add(s, "", std::string(catalog::seat_grade(e, s)), catalog::seat_price(e, s).value_or(0));
    }
    for (std::int32_t i = 0; o.items.seats.empty() && i < o.items.quantity; ++i) {
        std::string grade;
        for (const auto& z : e.zones) {
            if (z.name == o.items.zone) grade = z.grade;
        }
        add("", o.items.zone, grade, catalog::zone_price(e, o.items.zone).value_or(0));
    }
    return tickets;
}

}  // namespace

awaitable<result<order_answer>> service::confirm(auth::principal who, confirm_body body) {
    if (body.order_id.empty())
        co_return std::unexpected(validation_error("orderId", "is required"));
    if (body.payment_key.empty())
        co_return std::unexpected(validation_error("paymentKey", "is required"));
    auto loaded = co_await load_owned(who, body.order_id);
    if (!loaded) co_return std::unexpected(loaded.error());
    order o = std::move(*loaded);
    if (body.amount != o.amount) {
        auto p =
            make_problem(problem_code::amount_mismatch,
                         fmt::format("the order's amount is {}, not {}", o.amount, body.amount));
        co_return std::unexpected(p);
    }
    if (o.status == order_status::paid && o.payment_key == body.payment_key)
        co_return order_answer{200, std::move(o)};
    if (o.status == order_status::confirming)
        co_return std::unexpected(conflict("the payment is being confirmed"));
    if (!allowed(o.status, money_move::confirm))
        co_return std::unexpected(conflict(fmt::format("the order is {}", to_string(o.status))));
    auto e = deps_.find_event(o.event_id);
    if (!e) co_return std::unexpected(make_problem(problem_code::not_found, "no such event"));
    // Refused before anything is captured: nobody pays for an event that will not sell.
    if (e->status == catalog::event_status::closed || e->status == catalog::event_status::cancelled)
        co_return std::unexpected(conflict(
            fmt::format("the event is {}; no payment was taken", catalog::to_string(e->status))));
    o.payment_key = body.payment_key;
    auto taken = co_await take_for_confirm(o, *e);
    if (!taken) co_return std::unexpected(taken.error());
    // Crash tests stop here: CONFIRMING committed, the provider not asked yet.
    failpoint("booking.before_provider_confirm");

    payment::confirm_request request{body.payment_key, o.id, o.amount, o.id, body.test_code};
    auto op = deps_.gateway.confirm(std::move(request));
    auto answer = co_await std::move(op);
    // Crash tests stop here: captured at the provider, nothing recorded yet.
    failpoint("booking.after_provider_confirm");
    co_return co_await settle_confirm(std::move(*taken), answer);
}

// Makes sure the order's seats are held and pinned, then commits CONFIRMING. A hold that
// expired is taken again (same seats) before anything is paid; if that fails: HOLD_EXPIRED.
awaitable<result<order>> service::take_for_confirm(order o, const catalog::event& e) {
    auto pin_op = deps_.inventory.pin(o.event_id, o.hold_id);
    auto pinned = co_await std::move(pin_op);
    // Whether this call took the seats again itself (the hold had expired, or was sold by another
    // confirm of the same order that won): that hold is this call's to give back if it loses.
    const bool re_held = !pinned;
    if (!pinned) {
        inventory::hold_request again{o.event_id, o.user_id, o.hold_id, o.items,
                                      deps_.clk.now() + std::chrono::seconds(e.hold_seconds)};
        auto hold_op = deps_.inventory.hold(std::move(again));
        auto held = co_await std::move(hold_op);
        if (!held && held.error().code == inventory::hold_error::unknown_event) {
            // The inventory lost the event (Redis restarted empty) and its restore, which brings
            // this order's hold back, has not run yet: nothing is decided, try again.
            auto p = make_problem(problem_code::unavailable,
                                  "this event's seats are being restored; no payment was taken, "
                                  "try again in a moment");
            p.retry_after_seconds = 1;
            co_return std::unexpected(std::move(p));
        }
        if (!held) {
            auto t = store::transition_for(o.id, money_move::expire, now_text());
            co_await deps_.db.run([&](db::connection& c) { return store::change_status(c, t); });
            co_return std::unexpected(
                make_problem(problem_code::hold_expired,
                             "the hold expired and its seats are no longer free; "
                             "no payment was taken"));
        }
        auto repin = deps_.inventory.pin(o.event_id, o.hold_id);
        co_await std::move(repin);
    }
    const auto now = now_unix();
    auto t = store::transition_for(o.id, money_move::confirm, now_text());
    t.payment_key = o.payment_key;
    t.confirming_at = now;
    t.next_check_at = now + options_.first_check_seconds;
    auto changed =
        co_await deps_.db.run([&](db::connection& c) { return store::change_status(c, t); });
    if (!changed) co_return std::unexpected(db_problem(changed.error()));
    if (*changed)
        owners_.forget(o.hold_id);  // paid for now, or failed: no longer released by its user
    if (!*changed) {
        auto now_order = co_await reload(o.id);
        if (re_held || (now_order && now_order->status != order_status::confirming &&
                        now_order->status != order_status::paid)) {
            auto undo = deps_.inventory.release(o.event_id, o.hold_id);
            co_await std::move(undo);
        }
        // Lost to another path, or its event closed or was cancelled meanwhile (the move wants
        // the event open in the database, not only in this node's cache).
        co_return std::unexpected(
            conflict("the order or its event changed meanwhile; no payment was taken"));
    }
    o.status = order_status::confirming;
    o.confirming_at = now;
    o.next_check_at = now + options_.first_check_seconds;
    co_return o;
}

awaitable<result<order_answer>> service::settle_confirm(order o, const payment::gateway_result& r) {
    if (r.result == payment::outcome::done && r.payment) {
        auto op = finish_captured(o, *r.payment);
        auto paid = co_await std::move(op);
        if (!paid) co_return std::unexpected(paid.error());
        co_return order_answer{paid->status == order_status::paid ? 200 : 202, std::move(*paid)};
    }
    if (r.result == payment::outcome::declined) {
        co_await fail_order(o, r.code, r.message);
        auto p =
            make_problem(problem_code::payment_declined,
                         r.message.empty() ? std::string("the payment was declined") : r.message);
        p.extra["orderId"] = o.id;
        p.extra["providerCode"] = r.code;
        co_return std::unexpected(p);
    }
    // Unknown: the order stays CONFIRMING and its seats pinned; the reconciler finishes it. It
    // may already have (a slow answer outlives the reconciler's first look): say what is true.
    log::warn("booking.confirm_unknown",
              {{"orderId", o.id}, {"code", r.code}, {"message", r.message}});
    auto now_order = co_await reload(o.id);
    if (!now_order) co_return std::unexpected(now_order.error());
    const int status = now_order->status == order_status::paid ? 200 : 202;
    co_return order_answer{status, std::move(*now_order)};
}

// The sale. Confirm, the webhook and the reconciler may all get here for the same order at once;
// the transaction's first statement, CONFIRMING → PAID, lets exactly one of them through. So a
// refusal of the seat's unique key afterwards always means another order holds the seat (never
// this order's own tickets written by a second settler), and only then is the payment refunded.
awaitable<result<order>> service::finish_captured(order o, payment::payment_record p) {
    auto e = deps_.find_event(o.event_id);
    if (!e || p.order_id != o.id || p.total_amount != o.amount) {
        auto op = refund_capture(
            o, p.payment_key,
            make_problem(problem_code::conflict, "the payment does not match the order"));
        co_return co_await std::move(op);
    }
    const auto text = now_text();
    auto tickets = make_tickets(o, *e, deps_.sign_ticket, text);
    std::int64_t zone_capacity = 0;
    for (const auto& z : e->zones) {
        if (z.name == o.items.zone) zone_capacity = z.capacity;
    }
    auto done = co_await deps_.db.transact(
        [&](db::connection& c) -> std::expected<finish_outcome, finish_error> {
            auto t = store::transition_for(o.id, money_move::sell, text);
            t.payment_key = p.payment_key;
            auto sold = store::change_status(c, t);
            if (!sold) return std::unexpected(sold.error());
            if (!*sold) return std::unexpected(finish_outcome::not_confirming);
            // The event as the database has it now: a cancellation commits before it refunds
            // the event's paid orders, so a sale that commits after it must not stand.
            auto event_status = store::event_status_text(c, o.event_id);
            if (!event_status) return std::unexpected(event_status.error());
            if (*event_status == "CANCELLED")
                return std::unexpected(finish_outcome::event_cancelled);
            if (o.items.seats.empty()) {
                // General admission has no seat to key on: the zone's capacity is the guard.
                auto live = store::live_zone_tickets(c, o.event_id, o.items.zone);
                if (!live) return std::unexpected(live.error());
                if (*live + o.items.quantity > zone_capacity)
                    return std::unexpected(finish_outcome::seat_taken);
            }
            store::payment_row row{p.payment_key, o.id,     p.total_amount,
                                   "DONE",        p.method, p.approved_at};
            if (auto up = store::upsert_payment(c, row, text); !up)
                return std::unexpected(up.error());
            for (const auto& ticket : tickets) {
                auto in = store::insert_ticket(c, ticket);
                if (!in && in.error().code == db::errc::constraint_unique)
                    return std::unexpected(finish_outcome::seat_taken);
                if (!in) return std::unexpected(in.error());
            }
            store::outbox_message m{o.user_id, "BOOKING_CONFIRMED", "Booking confirmed",
                                    fmt::format("Your {} ticket(s) are ready.", tickets.size()),
                                    order_data_json(o)};
            if (auto out = store::insert_outbox(c, m, text); !out)
                return std::unexpected(out.error());
            return finish_outcome::paid;
        });
    if (!done && done.error().failure) co_return std::unexpected(db_problem(*done.error().failure));
    if (!done && done.error().outcome == finish_outcome::seat_taken) {
        log::error("booking.seat_refused", {{"orderId", o.id}, {"eventId", o.event_id}});
        auto why = make_problem(problem_code::seat_unavailable, "the seat was already sold");
        why.extra["seats"] = boost::json::array(o.items.seats.begin(), o.items.seats.end());
        auto op = refund_capture(o, p.payment_key, std::move(why));
        co_return co_await std::move(op);
    }
    if (!done && done.error().outcome == finish_outcome::event_cancelled) {
        auto op = refund_capture(o, p.payment_key,
                                 make_problem(problem_code::conflict, "the event was cancelled"));
        co_return co_await std::move(op);
    }
    if (!done) {
        auto now_order = co_await reload(o.id);
        if (!now_order) co_return now_order;
        // Sold by someone else meanwhile (PAID), or being refunded: nothing to do. But a capture
        // that lands after the order stopped waiting for it (the reconciler took a payment Toss
        // still called READY for failed, and a confirm it had sent captured later) is money for
        // no ticket: it goes back.
        if (now_order->paid_at.empty() && allowed(now_order->status, money_move::refund_capture)) {
            auto op =
                refund_capture(std::move(*now_order), p.payment_key,
                               make_problem(problem_code::conflict,
                                            "the payment was captured after the order had ended"));
            co_return co_await std::move(op);
        }
        co_return now_order;
    }
    if (failpoint_armed("booking.resell_sold_seats")) {
        // A planted fault for the load generator's test: the seats just sold go back on sale,
        // so the inventory offers a seat the database has sold (the audit must say so).
        auto undo = deps_.inventory.release(o.event_id, o.hold_id);
        co_await std::move(undo);
        co_return co_await reload(o.id);
    }
    // The sale is committed and the money taken: whatever the inventory answers now, the buyer
    // is answered PAID. An inventory that cannot be reached (Redis down) keeps the seats pinned
    // — never sold to anyone else — and is told again by retry_inventory().
    try {
        auto commit_op = deps_.inventory.commit(o.event_id, o.hold_id);
        if (!co_await std::move(commit_op)) {
            // The hold is gone: a restart lost it — or a cancellation that committed right
            // after this sale released it (its seats were still under the hold). Record the sale
            // directly only if the order is still PAID.
            auto again = co_await reload(o.id);
            if (!again || again->status != order_status::paid) co_return again;
            auto sold_op = deps_.inventory.mark_sold(o.event_id, o.user_id, o.items);
            auto sold = co_await std::move(sold_op);
            if (!sold) log::error("booking.inventory_mark_sold_failed", {{"orderId", o.id}});
        }
    } catch (const unavailable_error& e) {
        owe_inventory(o.id, still_there::pinned_hold, e);
    }
    log::info("booking.paid", {{"orderId", o.id}, {"eventId", o.event_id}, {"amount", o.amount}});
    co_await update_sold_out(o.event_id);
    co_return co_await reload(o.id);
}

void service::owe_inventory(const std::string& order_id, still_there what,
                            const unavailable_error& e) {
    log::error("booking.inventory_unreachable",
               {{"orderId", order_id},
                {"left", what == still_there::pinned_hold ? "pinned hold" : "sold seats"},
                {"error", e.what()}});
    std::lock_guard lock(owed_mutex_);
    owed_.try_emplace(order_id, what);
}

awaitable<int> service::retry_inventory() {
    std::map<std::string, still_there> owed;
    {
        std::lock_guard lock(owed_mutex_);
        owed.swap(owed_);
    }
    int told = 0;
    std::map<std::string, still_there> again;
    std::set<std::int64_t> events;
    for (const auto& [id, what] : owed) {
        auto o = co_await reload(id);
        if (!o) {
            // The database did not answer: next time. An order that is gone owes nothing.
            if (o.error().code != problem_code::not_found) again.emplace(id, what);
            continue;
        }
        try {
            if (what == still_there::sold_seats) {
                // A cancellation of a sale the inventory had: the seats go back.
                auto op = unsell_paid(*o);
                co_await std::move(op);
            } else if (o->status == order_status::paid) {
                // The pinned hold becomes SOLD. No hold means the sale is there already
                // (committed before a lost answer, or put back by the event's restore from the
                // database): nothing is marked sold twice.
                auto op = deps_.inventory.commit(o->event_id, o->hold_id);
                co_await std::move(op);
            } else {
                // Ended since (cancelled, refunded): the pinned hold ends; its seats were never
                // sold.
                owners_.forget(o->hold_id);
                auto op = deps_.inventory.release(o->event_id, o->hold_id);
                co_await std::move(op);
            }
            ++told;
            events.insert(o->event_id);
            log::info("booking.inventory_told",
                      {{"orderId", id}, {"status", to_string(o->status)}});
        } catch (const unavailable_error&) {
            again.emplace(id, what);
        }
    }
    if (!again.empty()) {
        std::lock_guard lock(owed_mutex_);
        for (auto& [id, what] : again) owed_.try_emplace(id, what);
    }
    for (auto e : events) co_await update_sold_out(e);
    co_return told;
}

std::size_t service::inventory_owed() const {
    std::lock_guard lock(owed_mutex_);
    return owed_.size();
}

awaitable<void> service::fail_order(const order& o, std::string code, std::string message) {
    const auto text = now_text();
    auto changed = co_await deps_.db.transact([&](db::connection& c) -> db::expected<bool> {
        auto t = store::transition_for(o.id, money_move::decline, text);
        t.failure_code = code;
        t.failure_message = message;
        auto ok = store::change_status(c, t);
        if (!ok || !*ok) return ok;
        store::outbox_message m{
            o.user_id, "PAYMENT_FAILED", "Payment failed",
            message.empty() ? std::string("The payment did not go through.") : message,
            order_data_json(o)};
        if (auto out = store::insert_outbox(c, m, text); !out) return std::unexpected(out.error());
        return true;
    });
    if (changed && *changed) {
        // The seats go back the moment the payment fails.
        auto op = deps_.inventory.release(o.event_id, o.hold_id);
        co_await std::move(op);
        log::info("booking.payment_failed", {{"orderId", o.id}, {"code", code}});
    }
}

awaitable<void> service::update_sold_out(std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e || !deps_.mark_sold_out || !deps_.mark_back_on_sale) co_return;
    std::optional<inventory::counts> counts;
    try {
        auto counts_op = deps_.inventory.counts_of(event_id);
        counts = co_await std::move(counts_op);
    } catch (const unavailable_error&) {
        co_return;  // the next sale or refund looks again
    }
    if (!counts) co_return;
    const bool all_sold = counts->available == 0 && counts->held == 0;
    if (all_sold && e->status == catalog::event_status::on_sale) {
        co_await deps_.mark_sold_out(event_id);
    } else if (!all_sold && e->status == catalog::event_status::sold_out) {
        co_await deps_.mark_back_on_sale(event_id);
    }
}

}  // namespace tkt::booking
