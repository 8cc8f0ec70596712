// The background and administrative half of booking::service: cancel, webhook, sweeper,
// reconciler, rebuild after a start, and the invariant audit.
#include <map>
#include <set>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "booking/detail/problems.hpp"
#include "booking/order_store.hpp"
#include "booking/service.hpp"
#include "common/log.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using detail::db_problem;
using detail::order_data_json;

bool may_cancel(const auth::principal& who, const order& o, const catalog::event* e) {
    if (who.user_id == o.user_id || who.role == auth::role::admin) return true;
    return who.role == auth::role::manager && e != nullptr && e->manager_id == who.user_id;
}

}  // namespace

// The local half of a cancellation the provider has already done: order CANCELLED, tickets
// VOID, payment CANCELED, the user told; then the seats go back on sale.
static awaitable<result<bool>> record_cancel(db::database& db, inventory::inventory& inv,
                                             const order& o, const std::string& text,
                                             const std::string& reason) {
    auto done = co_await db.transact([&](db::connection& c) -> db::expected<bool> {
        store::transition t{.id = o.id,
                            .from = {order_status::paid},
                            .to = order_status::cancelled,
                            .now_text = text};
        auto changed = store::change_status(c, t);
        if (!changed || !*changed) return changed;
        if (auto v = store::void_tickets(c, o.id); !v) return std::unexpected(v.error());
        store::payment_row row{o.payment_key, o.id, o.amount, "CANCELED", "", ""};
        if (auto up = store::upsert_payment(c, row, text); !up) return std::unexpected(up.error());
        store::outbox_message m{
            o.user_id, "ORDER_CANCELLED", "Order cancelled",
            "Your order was cancelled and refunded" + (reason.empty() ? "." : ": " + reason + "."),
            order_data_json(o)};
        if (auto out = store::insert_outbox(c, m, text); !out) return std::unexpected(out.error());
        return true;
    });
    if (!done) co_return std::unexpected(db_problem(done.error()));
    if (*done) {
        auto op = inv.unsell(o.event_id, o.user_id, o.items);
        co_await std::move(op);
    }
    co_return *done;
}

awaitable<result<order>> service::cancel(auth::principal who, std::string order_id,
                                         std::string reason) {
    auto loaded = co_await reload(order_id);
    if (!loaded) co_return std::unexpected(loaded.error());
    order o = std::move(*loaded);
    auto e = deps_.find_event(o.event_id);
    if (!may_cancel(who, o, e.get()))
        co_return std::unexpected(make_problem(problem_code::not_found, "no such order"));
    if (o.status == order_status::cancelled) co_return o;
    if (o.status != order_status::paid) {
        co_return std::unexpected(make_problem(
            problem_code::conflict,
            fmt::format("only a paid order can be cancelled; it is {}", to_string(o.status))));
    }
    for (const auto& t : o.tickets) {
        if (t.status == "USED")
            co_return std::unexpected(
                make_problem(problem_code::conflict, "a ticket was already used"));
    }
    payment::cancel_request request{o.payment_key,
                                    reason.empty() ? std::string("cancelled by request") : reason,
                                    "cancel-" + o.id};
    auto op = deps_.gateway.cancel(std::move(request));
    auto r = co_await std::move(op);
    bool cancelled =
        r.result == payment::outcome::done ||
        (r.result == payment::outcome::declined && r.code == "ALREADY_CANCELED_PAYMENT");
    if (!cancelled && r.result == payment::outcome::declined) {
        co_return std::unexpected(
            make_problem(problem_code::conflict, "the payment provider refused: " + r.message));
    }
    if (!cancelled) {
        auto p = make_problem(problem_code::unavailable,
                              "the payment provider did not answer; try again");
        p.retry_after_seconds = 5;
        co_return std::unexpected(p);
    }
    auto recorded = co_await record_cancel(deps_.db, deps_.inventory, o, now_text(), reason);
    if (!recorded) co_return std::unexpected(recorded.error());
    co_await update_sold_out(o.event_id);
    log::info("booking.cancelled", {{"orderId", o.id}, {"by", who.user_id}});
    co_return co_await reload(o.id);
}

awaitable<result<void>> service::on_webhook(std::string payment_key) {
    auto op = deps_.gateway.get(payment_key);
    auto r = co_await std::move(op);
    if (r.result == payment::outcome::unknown) {
        auto p = make_problem(problem_code::unavailable,
                              "could not read the payment back; send it again");
        p.retry_after_seconds = 5;
        co_return std::unexpected(p);
    }
    if (r.result != payment::outcome::done || !r.payment)
        co_return result<void>{};  // not a payment of ours
    const payment::payment_record p = *r.payment;
    auto loaded = co_await reload(p.order_id);
    if (!loaded) co_return result<void>{};
    order o = std::move(*loaded);
    if (p.status == payment::payment_status::done) {
        if (o.status == order_status::confirming) {
            co_await finish_captured(o, p);
        } else if (o.status != order_status::paid && o.status != order_status::refunded) {
            // Captured for an order that is no longer payable: the money goes back.
            co_await refund_captured(o, p.payment_key, "the order was no longer payable");
        }
    } else if (p.status == payment::payment_status::canceled && o.status == order_status::paid) {
        co_await record_cancel(deps_.db, deps_.inventory, o, now_text(),
                               "cancelled at the payment provider");
    } else if (o.status == order_status::confirming &&
               (p.status == payment::payment_status::aborted ||
                p.status == payment::payment_status::expired)) {
        co_await fail_order(o, "ABORTED", "the payment was not completed");
    }
    co_return result<void>{};
}

awaitable<bool> service::expire_order(const order& o) {
    const auto text = now_text();
    const auto now = now_unix();
    auto changed = co_await deps_.db.transact([&](db::connection& c) -> db::expected<bool> {
        store::transition t{.id = o.id,
                            .from = {order_status::pending_payment},
                            .to = order_status::expired,
                            .now_text = text,
                            .expired_by = now};
        auto ok = store::change_status(c, t);
        if (!ok || !*ok) return ok;
        store::outbox_message m{
            o.user_id, "HOLD_EXPIRED", "Hold expired",
            "Your seats were released because the payment was not completed in time.",
            order_data_json(o)};
        if (auto out = store::insert_outbox(c, m, text); !out) return std::unexpected(out.error());
        return true;
    });
    if (!changed)
        log::error("booking.expire_failed",
                   {{"orderId", o.id}, {"error", changed.error().message}});
    if (changed && *changed) owners_.forget(o.hold_id);
    co_return changed&&* changed;
}

awaitable<int> service::sweep() {
    auto op = deps_.inventory.expire(deps_.clk.now());
    auto expired = co_await std::move(op);
    int count = 0;
    for (const auto& h : expired) {
        auto found = co_await deps_.db.run(
            [&](db::connection& c) { return store::find_order_by_hold(c, h.hold); });
        if (!found) {
            log::error("booking.sweep_failed",
                       {{"hold", h.hold}, {"error", found.error().message}});
            continue;
        }
        if (*found && co_await expire_order(**found)) ++count;
    }
    co_return count;
}

awaitable<int> service::reconcile() {
    const auto now = now_unix();
    auto due =
        co_await deps_.db.run([&](db::connection& c) { return store::confirming_due(c, now, 50); });
    if (!due) co_return 0;
    int settled = 0;
    for (auto& o : *due) {
        auto op = deps_.gateway.find_by_order(o.id);
        auto r = co_await std::move(op);
        if (r.result == payment::outcome::done && r.payment) {
            const auto status = r.payment->status;
            if (status == payment::payment_status::done) {
                co_await finish_captured(o, *r.payment);
                ++settled;
                continue;
            }
            if (status == payment::payment_status::canceled ||
                status == payment::payment_status::aborted ||
                status == payment::payment_status::expired) {
                co_await fail_order(o, "NOT_CAPTURED", "the payment was not completed");
                ++settled;
                continue;
            }
            if ((status == payment::payment_status::ready ||
                 status == payment::payment_status::in_progress) &&
                now - o.confirming_at < options_.unknown_grace_seconds) {
                // The provider never captured (our confirm met a 5xx or was lost before it
                // arrived) and the payment is still payable: confirm again, same idempotency key.
                payment::confirm_request again{o.payment_key, o.id, o.amount, o.id, ""};
                auto retry = deps_.gateway.confirm(std::move(again));
                auto answer = co_await std::move(retry);
                if (answer.result != payment::outcome::unknown) {
                    co_await settle_confirm(o, answer);
                    ++settled;
                    continue;
                }
            }
        }
        const bool never_seen =
            r.result == payment::outcome::declined && r.code == "NOT_FOUND_PAYMENT";
        const bool uncaptured = r.result == payment::outcome::done && r.payment &&
                                (r.payment->status == payment::payment_status::ready ||
                                 r.payment->status == payment::payment_status::in_progress);
        if ((never_seen || uncaptured) && now - o.confirming_at >= options_.unknown_grace_seconds) {
            co_await fail_order(o, "NOT_CAPTURED",
                                "the payment provider never received the payment");
            ++settled;
            continue;
        }
        co_await deps_.db.run([&](db::connection& c) {
            return store::set_next_check(c, o.id, now + options_.reconcile_backoff_seconds);
        });
    }
    co_return settled;
}

awaitable<void> service::rebuild() {
    auto paid = co_await deps_.db.run(
        [](db::connection& c) { return store::orders_in(c, order_status::paid); });
    auto pending = co_await deps_.db.run(
        [](db::connection& c) { return store::orders_in(c, order_status::pending_payment); });
    auto confirming = co_await deps_.db.run(
        [](db::connection& c) { return store::orders_in(c, order_status::confirming); });
    if (!paid || !pending || !confirming)
        throw std::runtime_error("cannot read orders to rebuild the inventory");
    int sold = 0, held = 0;
    for (const auto& o : *paid) {
        auto op = deps_.inventory.mark_sold(o.event_id, o.user_id, o.items);
        if (co_await std::move(op))
            ++sold;
        else
            log::error("booking.rebuild_conflict", {{"orderId", o.id}});
    }
    const auto now = deps_.clk.now();
    auto restore = [&](const order& o, time_point expires) -> awaitable<bool> {
        inventory::hold_request r{o.event_id, o.user_id, o.hold_id, o.items, expires};
        auto op = deps_.inventory.hold(std::move(r));
        auto ok = co_await std::move(op);
        co_return ok.has_value();
    };
    for (const auto& o : *pending) {
        auto expires = time_point{std::chrono::seconds{o.expires_at}};
        if (expires > now && co_await restore(o, expires)) ++held;
        // Past its time (or no longer holdable): the sweeper's next pass would find nothing, so
        // expire it here, and tell the user as the sweeper would.
        else
            co_await expire_order(o);
    }
    for (const auto& o : *confirming) {
        // Its payment may have been captured: keep the seats pinned until the reconciler knows.
        if (co_await restore(o, now + std::chrono::hours(24))) {
            auto pin = deps_.inventory.pin(o.event_id, o.hold_id);
            co_await std::move(pin);
            ++held;
        }
    }
    log::info("booking.rebuilt",
              {{"sold", sold}, {"held", held}, {"confirming", confirming->size()}});
}

}  // namespace tkt::booking
