// The invariants of DESIGN.md §5, checked for one event against both the inventory and the
// database: the manager's audit endpoint, the race tests and the load generator all call this.
#include <map>
#include <set>

#include <fmt/format.h>

#include "booking/order_store.hpp"
#include "booking/service.hpp"
#include "db/problem.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;

struct db_view {
    std::vector<ticket_row> live;
    std::vector<order> orders;
    std::vector<store::payment_row> payments;
    std::vector<std::string> orphan_payments;
};

// Invariant 2 of DESIGN.md §5 as far as our own records tell it: a PAID order's payment is
// captured and not cancelled; a refunded or cancelled sale's payment is not still captured; no
// payment belongs to no order; a REFUNDING order is not left behind by the reconciler; a refund
// the provider refused for good is money someone has to give back by hand.
void check_money(const db_view& v, std::int64_t now, std::int64_t overdue_after_s,
                 std::vector<std::string>& out) {
    std::map<std::string, const store::payment_row*> payment_of;
    for (const auto& p : v.payments) payment_of[p.order_id] = &p;
    for (const auto& o : v.orders) {
        const auto* p = payment_of.contains(o.id) ? payment_of[o.id] : nullptr;
        const std::string paid_status = p != nullptr ? p->status : "none";
        if (o.status == order_status::paid && paid_status != "DONE") {
            out.push_back(fmt::format("paid order {} has payment status {}", o.id, paid_status));
        }
        if ((o.status == order_status::refunded || o.status == order_status::cancelled) &&
            paid_status == "DONE") {
            out.push_back(
                fmt::format("{} order {} has its payment still DONE", to_string(o.status), o.id));
        }
        if (o.status == order_status::refunding && o.next_check_at + overdue_after_s < now) {
            out.push_back(fmt::format("order {} is REFUNDING past its next look ({} s overdue)",
                                      o.id, now - o.next_check_at));
        }
        if (o.status == order_status::refund_failed) {
            out.push_back(fmt::format("order {}: the provider refused its refund ({}: {})", o.id,
                                      o.failure_code, o.failure_message));
        }
    }
    for (const auto& key : v.orphan_payments)
        out.push_back(fmt::format("payment {} has no order", key));
}

void check_tickets(const catalog::event& e, const db_view& v, std::vector<std::string>& out) {
    std::map<std::string, int> per_seat;
    std::map<std::string, std::int64_t> per_zone;
    for (const auto& t : v.live) {
        if (!t.seat.empty())
            ++per_seat[t.seat];
        else
            ++per_zone[t.zone];
    }
    for (const auto& [seat, n] : per_seat) {
        if (n > 1) out.push_back(fmt::format("seat {} has {} live tickets", seat, n));
    }
    for (const auto& z : e.zones) {
        if (per_zone[z.name] > z.capacity) {
            out.push_back(
                fmt::format("zone {} sold {} of {}", z.name, per_zone[z.name], z.capacity));
        }
    }
}

void check_orders(const catalog::event& e, const db_view& v, std::vector<std::string>& out) {
    std::map<std::string, std::int64_t> tickets_per_order;
    for (const auto& t : v.live) ++tickets_per_order[t.order_id];
    // The orders read are the payment attempts and the holds awaiting payment: a live ticket of
    // any other order (one that never reached CONFIRMING) is a ticket issued without a payment.
    std::set<std::string> listed;
    for (const auto& o : v.orders) listed.insert(o.id);
    for (const auto& [order_id, n] : tickets_per_order) {
        if (!listed.contains(order_id)) {
            out.push_back(
                fmt::format("order {} has {} live tickets and no payment attempt", order_id, n));
        }
    }
    std::map<std::int64_t, std::int64_t> per_user;
    for (const auto& o : v.orders) {
        if (o.status == order_status::paid && tickets_per_order[o.id] != o.items.count()) {
            out.push_back(fmt::format("paid order {} has {} live tickets for {} items", o.id,
                                      tickets_per_order[o.id], o.items.count()));
        }
        if (o.status != order_status::paid && tickets_per_order[o.id] > 0) {
            out.push_back(fmt::format("{} order {} has live tickets", to_string(o.status), o.id));
        }
        if (o.status == order_status::paid || o.status == order_status::confirming ||
            o.status == order_status::pending_payment) {
            per_user[o.user_id] += o.items.count();
        }
    }
    for (const auto& [user, n] : per_user) {
        if (n > e.max_per_user)
            out.push_back(fmt::format("user {} holds and owns {} > {}", user, n, e.max_per_user));
    }
}

}  // namespace

awaitable<result<event_stats>> service::stats(std::int64_t event_id) {
    if (!deps_.find_event(event_id))
        co_return std::unexpected(make_problem(problem_code::not_found, "no such event"));
    auto counts_op = deps_.inventory.counts_of(event_id);
    auto counts = co_await std::move(counts_op);
    auto sales = co_await deps_.db.run(
        [&](db::connection& c) { return store::sales_of_event(c, event_id); });
    if (!sales) co_return std::unexpected(db::as_problem(sales.error(), "booking"));
    event_stats out;
    out.loaded = counts.has_value();
    if (counts) out.counts = *counts;
    out.sales = *sales;
    co_return out;
}

awaitable<result<audit_report>> service::audit(std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e) co_return std::unexpected(make_problem(problem_code::not_found, "no such event"));
    auto counts_op = deps_.inventory.counts_of(event_id);
    auto counts = co_await std::move(counts_op);
    auto audit_op = deps_.inventory.audit(event_id);
    audit_report report;
    report.violations = co_await std::move(audit_op);
    if (counts)
        report.counts = *counts;
    else if (e->status != catalog::event_status::cancelled)  // a cancelled event is not loaded
        report.violations.push_back("the inventory has no layout for this event");

    auto view = co_await deps_.db.run([&](db::connection& c) -> db::expected<db_view> {
        auto live = store::live_tickets_of_event(c, event_id);
        if (!live) return std::unexpected(live.error());
        auto orders = store::orders_of_event(c, event_id);
        if (!orders) return std::unexpected(orders.error());
        auto payments = store::payments_of_event(c, event_id);
        if (!payments) return std::unexpected(payments.error());
        auto orphans = store::payments_without_order(c);
        if (!orphans) return std::unexpected(orphans.error());
        return db_view{std::move(*live), std::move(*orders), std::move(*payments),
                       std::move(*orphans)};
    });
    if (!view)
        co_return std::unexpected(make_problem(problem_code::unavailable, "the database is busy"));
    check_tickets(*e, *view, report.violations);
    check_orders(*e, *view, report.violations);
    // A REFUNDING order's next look is overdue once the reconciler has had a minute past it.
    check_money(*view, now_unix(), 60, report.violations);
    for (const auto& o : view->orders) {
        if (o.status == order_status::refunding) ++report.refunding;
        if (o.status == order_status::refund_failed) ++report.refund_failed;
    }
    if (counts && counts->sold != static_cast<std::int64_t>(view->live.size())) {
        report.violations.push_back(
            fmt::format("inventory sold {} but the database has {} live tickets", counts->sold,
                        view->live.size()));
    }
    if (counts && counts->sold + counts->held + counts->available != counts->capacity) {
        report.violations.push_back("sold + held + available != capacity");
    }
    co_return report;
}

}  // namespace tkt::booking
