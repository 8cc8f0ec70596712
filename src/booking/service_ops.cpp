// The background half of booking::service: the webhook, the sweeper, the reconciler and the
// rebuild after a start.
#include <algorithm>

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

// Webhooks read back from the provider at once, at most (each a Toss request with our key).
constexpr std::size_t webhooks_in_flight_max = 1024;
// Orders the reconciler takes per query, and queries per pass.
constexpr int reconcile_batch = 100;
constexpr int reconcile_batches_max = 2;
// A call to the provider ends within its 5 s deadline; one second more for the answer's commit.
constexpr std::int64_t provider_call_seconds = 6;

problem webhook_busy() {
    auto p =
        make_problem(problem_code::unavailable, "could not read the payment back; send it again");
    p.retry_after_seconds = 5;
    return p;
}

}  // namespace

awaitable<result<void>> service::on_webhook(std::string payment_key, std::string order_id) {
    // Our own records first: a payment we never heard of costs no request to the provider. An
    // order named by the webhook counts only if it has no payment yet or this one.
    auto known =
        co_await deps_.db.run([&](db::connection& c) -> db::expected<std::optional<std::string>> {
            if (!order_id.empty()) {
                auto o = store::find_order(c, order_id);
                if (!o) return std::unexpected(o.error());
                if (*o && ((*o)->payment_key.empty() || (*o)->payment_key == payment_key))
                    return std::optional<std::string>{(*o)->id};
            }
            return store::order_id_of_payment(c, payment_key);
        });
    if (!known) co_return std::unexpected(db_problem(known.error()));
    if (!*known) co_return result<void>{};
    {
        // One read per payment at a time: a burst of webhooks for one payment costs one request.
        // A delivery that comes while a read is in flight may carry newer news than that read
        // saw: it asks the reader to read once more when it is done, and is answered at once.
        std::lock_guard lock(webhooks_mutex_);
        if (auto it = webhooks_in_flight_.find(payment_key); it != webhooks_in_flight_.end()) {
            it->second = true;
            co_return result<void>{};
        }
        if (webhooks_in_flight_.size() >= webhooks_in_flight_max)
            co_return std::unexpected(webhook_busy());
        webhooks_in_flight_.emplace(payment_key, false);
    }
    struct done_reading {
        service& s;
        const std::string& key;
        ~done_reading() {
            std::lock_guard lock(s.webhooks_mutex_);
            s.webhooks_in_flight_.erase(key);
        }
    } guard{*this, payment_key};
    for (;;) {
        auto op = deps_.gateway.get(payment_key);
        auto r = co_await std::move(op);
        if (r.result == payment::outcome::unknown) co_return std::unexpected(webhook_busy());
        if (r.result == payment::outcome::done && r.payment) {
            auto act = act_on_payment(*r.payment);
            co_await std::move(act);
        }
        std::lock_guard lock(webhooks_mutex_);
        auto& again = webhooks_in_flight_[payment_key];
        if (!again) break;
        again = false;
    }
    co_return result<void>{};
}

awaitable<void> service::act_on_payment(payment::payment_record p) {
    auto loaded = co_await reload(p.order_id);
    if (!loaded) co_return;  // the provider's payment is for no order of ours
    order o = std::move(*loaded);
    if (p.status == payment::payment_status::done) {
        if (o.status == order_status::confirming) {
            auto op = finish_captured(o, p);
            co_await std::move(op);
        } else if (allowed(o.status, money_move::refund_capture) && o.paid_at.empty()) {
            // Captured for an order that is no longer payable: the money goes back.
            auto op = refund_capture(
                o, p.payment_key,
                make_problem(problem_code::conflict, "the order was no longer payable"));
            co_await std::move(op);
        }
    } else if (p.status == payment::payment_status::canceled && o.status == order_status::paid &&
               o.payment_key == p.payment_key) {
        // Cancelled at the provider (its console): the money is back already; the order follows.
        refund_start start{.move = money_move::cancel,
                           .payment_key = p.payment_key,
                           .code = "CANCELLED",
                           .reason = "cancelled at the payment provider",
                           .used = refund_start::used_tickets::void_them};
        auto won = co_await begin_refund(o, start);
        if (won && *won) {
            auto now_order = co_await reload(o.id);
            if (now_order) {
                auto op = finish_refund(std::move(*now_order), provider_state::cancelled);
                co_await std::move(op);
            }
        }
    } else if (o.status == order_status::confirming &&
               (p.status == payment::payment_status::aborted ||
                p.status == payment::payment_status::expired)) {
        co_await fail_order(o, "ABORTED", "the payment was not completed");
    }
}

awaitable<bool> service::expire_order(const order& o) {
    const auto text = now_text();
    const auto now = now_unix();
    auto changed = co_await deps_.db.transact([&](db::connection& c) -> db::expected<bool> {
        auto t = store::transition_for(o.id, money_move::expire, text);
        t.expired_by = now;
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
    // Orders whose hold ended without them (see sweep()), 5 s past their time, every 5 s.
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(deps_.clk.now().time_since_epoch())
            .count();
    if (now - overdue_checked_at_.load() >= 5) {
        overdue_checked_at_ = now;
        auto overdue = co_await deps_.db.run(
            [now](db::connection& c) { return store::overdue_pending(c, now - 5, 100); });
        if (overdue) {
            for (const auto& o : *overdue) {
                auto find = deps_.inventory.find(o.event_id, o.hold_id);
                if (co_await std::move(find)) continue;  // the inventory's expiry ends it
                if (co_await expire_order(o)) {
                    log::warn("booking.expired_without_hold", {{"orderId", o.id}});
                    ++count;
                }
            }
        }
    }
    co_return count;
}

awaitable<int> service::reconcile() {
    const auto now = now_unix();
    int settled = co_await reconcile_confirming(now);
    settled += co_await reconcile_refunding(now);
    // An event cancelled while its paid orders were being moved (a crash, a busy database):
    // move the rest now; their refunds follow on the next pass.
    auto events = co_await deps_.db.run(
        [](db::connection& c) { return store::cancelled_events_with_paid_orders(c); });
    if (events) {
        for (auto id : *events) co_await cancel_event(id);
    }
    // Idempotency keys older than a day, once a minute.
    if (now - idempotency_purged_at_.load() >= 60) {
        idempotency_purged_at_ = now;
        co_await deps_.db.run([&](db::connection& c) {
            return store::purge_idempotency(c, now - options_.idempotency_ttl_seconds);
        });
    }
    co_return settled;
}

awaitable<int> service::reconcile_confirming(std::int64_t now) {
    auto due = co_await deps_.db.run(
        [&](db::connection& c) { return store::confirming_due(c, now, reconcile_batch); });
    if (!due) co_return 0;
    int settled = 0;
    for (auto& o : *due) {
        // This reconciler's look (another node's may have read the same row): the next one is
        // due after the backoff whatever this one learns.
        auto claimed = co_await deps_.db.run([&](db::connection& c) {
            return store::claim_check(c, o, now + options_.reconcile_backoff_seconds);
        });
        if (!claimed || !*claimed) continue;
        auto op = deps_.gateway.find_by_order(o.id);
        auto r = co_await std::move(op);
        if (r.result == payment::outcome::done && r.payment) {
            const auto status = r.payment->status;
            if (status == payment::payment_status::done) {
                auto op = finish_captured(o, *r.payment);
                co_await std::move(op);
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
            // Confirm again only while the answer can still come before the grace ends: a confirm
            // sent later could capture after the order was taken for failed.
            if ((status == payment::payment_status::ready ||
                 status == payment::payment_status::in_progress) &&
                now - o.confirming_at + provider_call_seconds < options_.unknown_grace_seconds) {
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
        }
    }
    co_return settled;
}

awaitable<int> service::reconcile_refunding(std::int64_t now) {
    int settled = 0;
    for (int batch = 0; batch < reconcile_batches_max; ++batch) {
        auto due = co_await deps_.db.run(
            [&](db::connection& c) { return store::refunding_due(c, now, reconcile_batch); });
        if (!due || due->empty()) break;
        for (auto& o : *due) {
            const auto pause =
                refund_backoff_seconds(o.check_attempts + 1, options_.reconcile_backoff_seconds,
                                       options_.refund_backoff_max_seconds);
            auto claimed = co_await deps_.db.run(
                [&](db::connection& c) { return store::claim_check(c, o, now + pause); });
            if (!claimed || !*claimed) continue;
            auto op = finish_refund(std::move(o), provider_state::unknown);
            auto finished = co_await std::move(op);
            if (finished && finished->status != order_status::refunding) ++settled;
        }
        if (due->size() < static_cast<std::size_t>(reconcile_batch)) break;
    }
    co_return settled;
}

awaitable<int> service::rebuild(std::vector<std::int64_t> events, inventory::restore_mode mode) {
    int restored = 0;
    for (const auto id : events) {
        auto op = restore_event(id, mode);
        auto done = co_await std::move(op);
        if (!done)
            log::error("booking.restore_failed", {{"eventId", id}, {"error", done.error().detail}});
        else if (*done)
            ++restored;
    }
    co_return restored;
}

awaitable<result<bool>> service::restore_event(std::int64_t event_id,
                                               inventory::restore_mode mode) {
    const auto e = deps_.find_event(event_id);
    if (!e || e->status == catalog::event_status::cancelled) co_return false;
    // The common case of the watcher: nothing lost, and no database read.
    if (mode == inventory::restore_mode::only_if_absent &&
        co_await deps_.inventory.has_event(event_id))
        co_return false;
    auto rows = co_await deps_.db.run(
        [event_id](db::connection& c) { return store::orders_to_restore(c, event_id); });
    if (!rows) co_return std::unexpected(db_problem(rows.error()));

    const auto now = deps_.clk.now();
    inventory::restoration r;
    r.l = catalog::to_layout(*e);
    // Versions grow across a loss: a client holding a seat map from before is caught up or
    // told to re-read it, never left behind.
    r.version_floor = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
    std::vector<const order*> lapsed;
    int pinned = 0;
    for (const auto& o : *rows) {
        if (o.status == order_status::paid) {
            r.sold.emplace_back(o.user_id, o.items);
        } else if (o.status == order_status::pending_payment) {
            const auto expires = time_point{std::chrono::seconds{o.expires_at}};
            if (expires > now)
                r.holds.push_back(inventory::hold_info{o.event_id, o.user_id, o.hold_id, o.items,
                                                       expires, inventory::hold_state::held});
            else
                lapsed.push_back(&o);
        } else {
            // Its payment may have been captured: the seats stay pinned until the reconciler
            // knows.
            r.holds.push_back(inventory::hold_info{o.event_id, o.user_id, o.hold_id, o.items,
                                                   now + std::chrono::hours(24),
                                                   inventory::hold_state::pinned});
            ++pinned;
        }
    }
    const auto sold = r.sold.size();
    const auto held = r.holds.size();
    auto op = deps_.inventory.restore(std::move(r), mode);
    const auto out = co_await std::move(op);
    if (!out.restored) co_return false;
    for (const auto* o : lapsed) co_await expire_order(*o);
    for (const auto& hold_id : out.holds_refused) {
        const auto it = std::ranges::find(*rows, hold_id, &order::hold_id);
        if (it == rows->end()) continue;
        if (it->status == order_status::pending_payment) {
            co_await expire_order(*it);
        } else {
            // A CONFIRMING order whose seats a PAID one holds: if its payment was captured the
            // reconciler refunds it when the sale's unique key refuses it.
            log::error("booking.restore_conflict", {{"orderId", it->id}, {"eventId", event_id}});
        }
    }
    if (out.sold_refused > 0)
        log::error("booking.restore_sold_conflict",
                   {{"eventId", event_id}, {"refused", out.sold_refused}});
    log::info("booking.restored", {{"eventId", event_id},
                                   {"sold", static_cast<std::int64_t>(sold)},
                                   {"held", static_cast<std::int64_t>(held)},
                                   {"pinned", pinned},
                                   {"expired", static_cast<std::int64_t>(lapsed.size())}});
    co_return true;
}

}  // namespace tkt::booking
