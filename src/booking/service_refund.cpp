// The refund half of booking::service: a user's or manager's cancellation, an event's
// cancellation, money captured that cannot be ticketed — each a move into REFUNDING won by one
// compare-and-set before the provider is asked (booking/money.hpp), and the provider's answer
// recorded as CANCELLED, REFUNDED or REFUND_FAILED. What stays REFUNDING (no answer, a crash) is
// finished by the reconciler (service_ops.cpp).
#include <fmt/format.h>

#include <boost/json/array.hpp>

#include "booking/detail/problems.hpp"
#include "booking/order_store.hpp"
#include "booking/service.hpp"
#include "common/assert.hpp"
#include "common/failpoint.hpp"
#include "common/log.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using detail::db_problem;
using detail::order_data_json;

// Why a move into REFUNDING did not happen inside its transaction.
enum class refund_refusal { ticket_used };

struct refund_error {
    std::optional<refund_refusal> refusal;
    std::optional<db::error> failure;
    refund_error(refund_refusal r) : refusal(r) {}        // NOLINT: implicit by design
    refund_error(db::error e) : failure(std::move(e)) {}  // NOLINT: for the transaction's commit
};

bool may_cancel(const auth::principal& who, const order& o, const catalog::event* e) {
    if (who.user_id == o.user_id || who.role == auth::role::admin) return true;
    return who.role == auth::role::manager && e != nullptr && e->manager_id == who.user_id;
}

paid_before was_paid(const order& o) {
    return o.paid_at.empty() ? paid_before::no : paid_before::yes;
}

// The message the user gets when the refund is done.
store::outbox_message refunded_message(const order& o) {
    if (was_paid(o) == paid_before::yes) {
        const auto& reason = o.failure_message;
        return {
            o.user_id,
            o.failure_code == "EVENT_CANCELLED" ? "EVENT_CANCELLED" : "BOOKING_CANCELLED",
            "Order cancelled",
            "Your order was cancelled and refunded" + (reason.empty() ? "." : ": " + reason + "."),
            order_data_json(o)};
    }
    return {
        o.user_id, "ORDER_REFUNDED", "Payment refunded",
        "We could not issue your tickets (" + o.failure_message + "); the payment was refunded.",
        order_data_json(o)};
}

// A cancellation's answer: 200 when refunded, 202 while the refund is under way.
result<order_answer> cancel_answer(order o) {
    if (o.status == order_status::cancelled) return order_answer{200, std::move(o)};
    if (o.status == order_status::refunding) return order_answer{202, std::move(o)};
    if (o.status == order_status::refund_failed) {
        auto p =
            make_problem(problem_code::conflict,
                         fmt::format("the tickets are void, but the payment provider refused the "
                                     "refund ({}: {}); the event's manager sees it",
                                     o.failure_code, o.failure_message));
        p.extra["orderId"] = o.id;
        return std::unexpected(p);
    }
    return std::unexpected(make_problem(
        problem_code::conflict,
        fmt::format("only a paid order can be cancelled; it is {}", to_string(o.status))));
}

}  // namespace

// The seats of a paid order go back on sale. Its sale may have committed in the database while
// its seats are still under the order's pinned hold in the inventory (the sale commits the hold
// right after its transaction, or could not reach the inventory): then the hold is released,
// and the sale, finding its hold gone, sees the order no longer PAID and leaves the seats be.
// The hold first: a general-admission unsell would otherwise take the user's units of another
// order of the same zone while this order's pinned hold stayed.
awaitable<void> service::unsell_paid(const order& o) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto release = deps_.inventory.release(o.event_id, o.hold_id);
        if (co_await std::move(release)) co_return;
        auto unsell = deps_.inventory.unsell(o.event_id, o.user_id, o.items);
        if (co_await std::move(unsell)) co_return;
    }
    log::error("booking.unsell_failed", {{"orderId", o.id}, {"eventId", o.event_id}});
}

awaitable<result<bool>> service::begin_refund(const order& o, const refund_start& start) {
    const auto text = now_text();
    const auto now = now_unix();
    auto won =
        co_await deps_.db.transact([&](db::connection& c) -> std::expected<bool, refund_error> {
            auto t = store::transition_for(o.id, start.move, text);
            t.payment_key = start.payment_key;
            t.failure_code = start.code;
            t.failure_message = start.reason;
            // A captured payment is a payment attempt: the purchase history lists the order
            // (orders_user, migration 005) even when the hold never reached CONFIRMING.
            if (o.confirming_at == 0) t.confirming_at = now;
            // The winner asks the provider itself; the reconciler looks only once that call's own
            // deadline has passed.
            t.next_check_at = now + options_.first_check_seconds;
            t.check_attempts = 0;
            auto changed = store::change_status(c, t);
            if (!changed) return std::unexpected(changed.error());
            if (!*changed) return false;
            if (start.move == money_move::cancel) {
                // In the same transaction as the move out of PAID: a check-in (one statement that
                // wants the order PAID) is either before it, and refuses the cancellation here, or
                // after it, and refused itself.
                if (start.used == refund_start::used_tickets::refuse) {
                    auto used = store::used_tickets(c, o.id);
                    if (!used) return std::unexpected(used.error());
                    if (*used > 0) return std::unexpected(refund_refusal::ticket_used);
                }
                const auto scope = start.used == refund_start::used_tickets::refuse
                                       ? store::void_scope::valid
                                       : store::void_scope::all_live;
                if (auto v = store::void_tickets(c, o.id, scope); !v)
                    return std::unexpected(v.error());
            }
            // The money is at the provider until the refund is done.
            store::payment_row row{start.payment_key, o.id, o.amount, "DONE", "", ""};
            if (auto up = store::upsert_payment(c, row, text); !up)
                return std::unexpected(up.error());
            return true;
        });
    if (!won && won.error().failure) co_return std::unexpected(db_problem(*won.error().failure));
    if (!won)
        co_return std::unexpected(
            make_problem(problem_code::conflict, "a ticket was already used"));
    if (!*won) co_return false;
    // The seats go back on sale the moment the cancellation is decided; the money follows. An
    // inventory that cannot be reached is told later (retry_inventory): a cancelled sale's seats
    // are SOLD there (or still under its pinned hold, which the sale's own entry says); a capture
    // refunded before any sale only has its hold.
    const bool sold = start.move == money_move::cancel;
    try {
        if (sold) {
            co_await unsell_paid(o);
        } else {
            owners_.forget(o.hold_id);
            auto op = deps_.inventory.release(o.event_id, o.hold_id);
            co_await std::move(op);
        }
    } catch (const unavailable_error& e) {
        owe_inventory(o.id, sold ? still_there::sold_seats : still_there::pinned_hold, e);
    }
    co_await update_sold_out(o.event_id);
    log::info("booking.refunding",
              {{"orderId", o.id}, {"move", to_string(start.move)}, {"code", start.code}});
    co_return true;
}

awaitable<result<order>> service::finish_refund(order o, provider_state state) {
    // Whoever won the move into REFUNDING re-reads the order before calling here; the reconciler
    // may have claimed it and finished the refund in between (it looks at once when
    // first_check_seconds is 0, or when the winner was slow). Then there is nothing left to do.
    if (o.status != order_status::refunding) co_return o;
    payment::gateway_result r{
        .result = payment::outcome::done, .payment = std::nullopt, .code = "", .message = ""};
    if (state != provider_state::cancelled) {
        // Crash tests stop here: REFUNDING committed, the provider not asked yet.
        failpoint("booking.before_provider_cancel");
        payment::cancel_request request{o.payment_key,
                                        o.failure_message.empty() ? "refund" : o.failure_message,
                                        "refund-" + o.id};
        auto op = deps_.gateway.cancel(std::move(request));
        r = co_await std::move(op);
        // Crash tests stop here: refunded at the provider, nothing recorded yet.
        failpoint("booking.after_provider_cancel");
    }
    if (r.result == payment::outcome::unknown) {
        // Still REFUNDING; its next look is already set (by the move into it or the reconciler's
        // claim), so the reconciler asks again with backoff.
        log::warn("booking.refund_unknown",
                  {{"orderId", o.id}, {"code", r.code}, {"message", r.message}});
        co_return co_await reload(o.id);
    }
    const bool done = r.result == payment::outcome::done;
    const auto text = now_text();
    auto recorded = co_await deps_.db.transact([&](db::connection& c) -> db::expected<bool> {
        auto t = store::transition_for(
            o.id, done ? money_move::refunded : money_move::refund_refused, text, was_paid(o));
        if (!done) {
            t.failure_code = r.code;
            t.failure_message = r.message;
        }
        auto changed = store::change_status(c, t);
        if (!changed || !*changed) return changed;
        if (!done) return true;
        store::payment_row row{o.payment_key, o.id, o.amount, "CANCELED", "", ""};
        if (auto up = store::upsert_payment(c, row, text); !up) return std::unexpected(up.error());
        if (auto out = store::insert_outbox(c, refunded_message(o), text); !out)
            return std::unexpected(out.error());
        return true;
    });
    if (!recorded) co_return std::unexpected(db_problem(recorded.error()));
    if (*recorded && done)
        log::info("booking.refunded", {{"orderId", o.id}, {"reason", o.failure_message}});
    if (*recorded && !done) {
        log::error("booking.refund_refused",
                   {{"orderId", o.id}, {"code", r.code}, {"message", r.message}});
    }
    co_return co_await reload(o.id);
}

awaitable<result<order>> service::refund_capture(order o, std::string payment_key, problem why) {
    refund_start start{.move = money_move::refund_capture,
                       .payment_key = payment_key,
                       .code = std::string(name_of(why.code)),
                       .reason = why.detail};
    auto won = co_await begin_refund(o, start);
    if (!won) co_return std::unexpected(won.error());
    auto now_order = co_await reload(o.id);
    if (!now_order) co_return now_order;
    if (!*won) co_return now_order;  // someone else settled it, or is refunding it
    auto finish = finish_refund(std::move(*now_order), provider_state::unknown);
    auto finished = co_await std::move(finish);
    if (!finished) co_return finished;
    why.detail += finished->status == order_status::refunded ? "; the payment was refunded"
                                                             : "; the payment will be refunded";
    why.extra["orderId"] = o.id;
    co_return std::unexpected(why);
}

awaitable<result<order_answer>> service::cancel(auth::principal who, std::string order_id,
                                                std::string reason) {
    auto loaded = co_await reload(order_id);
    if (!loaded) co_return std::unexpected(loaded.error());
    order o = std::move(*loaded);
    auto e = deps_.find_event(o.event_id);
    if (!may_cancel(who, o, e.get()))
        co_return std::unexpected(make_problem(problem_code::not_found, "no such order"));
    if (o.status != order_status::paid) co_return cancel_answer(std::move(o));
    refund_start start{.move = money_move::cancel,
                       .payment_key = o.payment_key,
                       .code = "CANCELLED",
                       .reason = reason.empty() ? std::string("cancelled by request") : reason};
    auto won = co_await begin_refund(o, start);
    if (!won) co_return std::unexpected(won.error());
    auto now_order = co_await reload(o.id);
    if (!now_order) co_return std::unexpected(now_order.error());
    // Lost the move: another cancellation (a second tab, the manager, the event's) has it.
    if (!*won) co_return cancel_answer(std::move(*now_order));
    log::info("booking.cancelled", {{"orderId", o.id}, {"by", who.user_id}});
    auto finish = finish_refund(std::move(*now_order), provider_state::unknown);
    auto finished = co_await std::move(finish);
    if (!finished) co_return std::unexpected(finished.error());
    co_return cancel_answer(std::move(*finished));
}

awaitable<result<int>> service::cancel_event(std::int64_t event_id) {
    const auto text = now_text();
    const auto now = now_unix();
    struct moved {
        std::vector<order> paid;
        std::vector<order> holds;
    };
    auto done = co_await deps_.db.transact([&](db::connection& c) -> db::expected<moved> {
        moved out;
        auto paid = store::attempts_of_event_in(c, event_id, order_status::paid);
        if (!paid) return std::unexpected(paid.error());
        for (auto& o : *paid) {
            auto t = store::transition_for(o.id, money_move::cancel, text);
            t.failure_code = std::string("EVENT_CANCELLED");
            t.failure_message = std::string("the event was cancelled");
            t.next_check_at = now;  // the reconciler asks for the refunds right away
            t.check_attempts = 0;
            auto changed = store::change_status(c, t);
            if (!changed) return std::unexpected(changed.error());
            if (!*changed) continue;
            if (auto v = store::void_tickets(c, o.id, store::void_scope::all_live); !v)
                return std::unexpected(v.error());
            out.paid.push_back(std::move(o));
        }
        auto holds = store::holds_of_event(c, event_id);
        if (!holds) return std::unexpected(holds.error());
        for (auto& o : *holds) {
            auto t = store::transition_for(o.id, money_move::release, text);
            t.failure_code = std::string("EVENT_CANCELLED");
            t.failure_message = std::string("the event was cancelled");
            auto changed = store::change_status(c, t);
            if (!changed) return std::unexpected(changed.error());
            if (!*changed) continue;
            store::outbox_message m{o.user_id, "EVENT_CANCELLED", "Event cancelled",
                                    "The event was cancelled; your held seats were released and "
                                    "no payment was taken.",
                                    order_data_json(o)};
            if (auto put = store::insert_outbox(c, m, text); !put)
                return std::unexpected(put.error());
            out.holds.push_back(std::move(o));
        }
        return out;
    });
    if (!done) co_return std::unexpected(db_problem(done.error()));
    for (const auto& o : done->paid) co_await unsell_paid(o);
    for (const auto& o : done->holds) {
        owners_.forget(o.hold_id);
        auto op = deps_.inventory.release(o.event_id, o.hold_id);
        co_await std::move(op);
    }
    log::info("booking.event_cancelled", {{"eventId", event_id},
                                          {"refunding", done->paid.size()},
                                          {"released", done->holds.size()}});
    co_return static_cast<int>(done->paid.size());
}

}  // namespace tkt::booking
