#include "booking/service.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "booking/detail/problems.hpp"
#include "booking/order_store.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using detail::db_problem;
using detail::order_data_json;
using namespace std::chrono_literals;

problem not_found(std::string_view what) {
    return make_problem(problem_code::not_found, fmt::format("no such {}", what));
}

// A hold failure as the client sees it.
problem hold_problem(const inventory::hold_failure& f) {
    using inventory::hold_error;
    boost::json::array seats;
    for (const auto& s : f.seats) seats.emplace_back(s);
    switch (f.code) {
        case hold_error::seat_unavailable: {
            auto p = make_problem(problem_code::seat_unavailable, "some seats are held or sold");
            p.extra["seats"] = std::move(seats);
            return p;
        }
        case hold_error::sold_out:
            return make_problem(problem_code::sold_out, "not enough tickets left in the zone");
        case hold_error::per_hold_limit:
            return make_problem(problem_code::hold_limit_exceeded, "at most 4 tickets per hold");
        case hold_error::per_user_limit:
            return make_problem(problem_code::hold_limit_exceeded,
                                "this would pass the event's limit per user");
        case hold_error::unknown_seat: {
            auto p = validation_error("seats", "unknown seat or zone");
            p.extra["seats"] = std::move(seats);
            return p;
        }
        case hold_error::unknown_event: {
            // The catalog knows the event (it was found before the hold), so the inventory lost
            // it (Redis restarted empty) and is being rebuilt from the database.
            auto p = make_problem(problem_code::unavailable,
                                  "this event's seats are being restored; try again in a moment");
            p.retry_after_seconds = 1;
            return p;
        }
        case hold_error::duplicate_hold:
        case hold_error::invalid:
            break;
    }
    return validation_error("seats", "invalid hold request");
}

// Sum of the grades' prices; an unknown seat or zone is a validation error.
result<std::int64_t> price_of(const catalog::event& e, const hold_body& body) {
    if (!body.seats.empty()) {
        std::int64_t total = 0;
        for (const auto& s : body.seats) {
            auto price = catalog::seat_price(e, s);
            if (!price) {
                auto p = validation_error("seats", fmt::format("unknown seat {}", s));
                p.extra["seats"] = boost::json::array{boost::json::value(s)};
                return std::unexpected(p);
            }
            total += *price;
        }
        return total;
    }
    auto price = catalog::zone_price(e, body.zone);
    if (!price)
        return std::unexpected(validation_error("zone", fmt::format("unknown zone {}", body.zone)));
    return *price * body.quantity;
}

result<void> check_shape(const hold_body& body) {
    if (body.seats.empty() == body.zone.empty()) {
        return std::unexpected(validation_error("seats", "give either seats or zone and quantity"));
    }
    if (!body.seats.empty()) {
        if (body.seats.size() > inventory::seats_per_hold_max) {
            return std::unexpected(
                make_problem(problem_code::hold_limit_exceeded, "at most 4 seats per hold"));
        }
        std::set<std::string> unique(body.seats.begin(), body.seats.end());
        if (unique.size() != body.seats.size())
            return std::unexpected(validation_error("seats", "a seat is listed twice"));
        return {};
    }
    if (body.quantity < 1)
        return std::unexpected(validation_error("quantity", "must be at least 1"));
    if (body.quantity > inventory::seats_per_hold_max) {
        return std::unexpected(
            make_problem(problem_code::hold_limit_exceeded, "at most 4 tickets per hold"));
    }
    return {};
}

bool sales_open(const catalog::event& e, time_point now) {
    return catalog::on_sale(e, now);
}

}  // namespace

service::service(dependencies deps, service_options options)
    : deps_(std::move(deps)), options_(options) {}

std::int64_t service::now_unix() const {
    return unix_seconds(deps_.clk.now());
}
std::string service::now_text() const {
    return auth::format_rfc3339(deps_.clk.now());
}

awaitable<result<order>> service::hold(auth::principal who, std::int64_t event_id, hold_body body) {
    auto e = deps_.find_event(event_id);
    if (!e || e->status == catalog::event_status::draft)
        co_return std::unexpected(not_found("event"));
    if (auto shape = check_shape(body); !shape) co_return std::unexpected(shape.error());
    if (e->status == catalog::event_status::sold_out) {
        co_return std::unexpected(make_problem(problem_code::sold_out, "the event is sold out"));
    }
    if (!sales_open(*e, deps_.clk.now())) {
        co_return std::unexpected(
            make_problem(problem_code::sales_not_open, "sales are not open for this event"));
    }
    auto amount = price_of(*e, body);
    if (!amount) co_return std::unexpected(amount.error());

    order o;
    const auto now = deps_.clk.now();
    o.hold_id = sortable_id(store::hold_id_prefix, now);
    o.event_id = event_id;
    o.user_id = who.user_id;
    o.items = inventory::hold_items{body.seats, body.zone, body.seats.empty() ? body.quantity : 0};
    o.amount = *amount;
    // Rounded up to the next whole second, so a hold never lasts less than holdSeconds.
    o.expires_at =
        unix_seconds(now) + e->hold_seconds +
        (now.time_since_epoch() % std::chrono::seconds(1) != time_point::duration::zero() ? 1 : 0);

    inventory::hold_request request{event_id, who.user_id, o.hold_id, o.items,
                                    time_point{std::chrono::seconds{o.expires_at}}};
    auto op = deps_.inventory.hold(std::move(request));
    auto held = co_await std::move(op);
    if (!held) co_return std::unexpected(hold_problem(held.error()));
    o.id = store::order_id_of_hold(o.hold_id);  // hld_<x> belongs to ord_<x>

    auto text = now_text();
    // Group-committed with the other holds and releases of the moment (db::database::write).
    // One INSERT: no savepoint needed (db::write_kind::one_statement).
    auto written =
        co_await deps_.db.write([&](db::connection& c) { return store::insert_order(c, o, text); },
                                db::write_kind::one_statement);
    if (!written) {
        // No order, no hold: give the seats back before answering.
        auto undo = deps_.inventory.release(event_id, o.hold_id);
        co_await std::move(undo);
        co_return std::unexpected(db_problem(written.error()));
    }
    o.created_at = text;
    owners_.remember(o.hold_id, {.event_id = event_id, .user_id = who.user_id});
    log::info("booking.held", [&] {
        return boost::json::object{{"orderId", o.id},
                                   {"eventId", event_id},
                                   {"userId", who.user_id},
                                   {"count", o.items.count()}};
    });
    co_return o;
}

awaitable<result<void>> service::release(auth::principal who, std::string hold_id) {
    // A hold this process made for this user: one statement, the compare-and-set on its order's
    // status, decides. Anything else (not ours to know, not PENDING_PAYMENT any more) takes the
    // path below, which reads the order to say why.
    if (auto owner = owners_.find(hold_id); owner && owner->user_id == who.user_id) {
        const auto order_id = store::order_id_of_hold(hold_id);
        const auto text = now_text();
        auto cancelled = co_await deps_.db.write(
            [&](db::connection& c) {
                return store::change_status(
                    c, store::transition_for(order_id, money_move::release, text));
            },
            db::write_kind::one_statement);
        if (!cancelled) co_return std::unexpected(db_problem(cancelled.error()));
        // Either way the hold is no longer PENDING_PAYMENT, and never will be again (order
        // states only move forward): nothing more to release through this entry.
        owners_.forget(hold_id);
        if (*cancelled) {
            auto op = deps_.inventory.release(owner->event_id, hold_id);
            co_await std::move(op);
            co_return result<void>{};
        }
    }
    // One trip to the writer: find the order, check it, cancel it (compare-and-set on status).
    struct outcome {
        std::optional<store::hold_row> found;  // empty: no such hold of this user
        bool cancelled = false;
    };
    const auto text = now_text();
    auto done = co_await deps_.db.write(
        [&](db::connection& c) -> db::expected<outcome> {
            auto found = store::find_hold(c, hold_id);
            if (!found) return std::unexpected(found.error());
            if (!*found || (*found)->user_id != who.user_id) return outcome{};
            if ((*found)->status != order_status::pending_payment)
                return outcome{std::move(*found)};
            auto changed = store::change_status(
                c, store::transition_for((*found)->order_id, money_move::release, text));
            if (!changed) return std::unexpected(changed.error());
            return outcome{std::move(*found), *changed};
        },
        db::write_kind::one_statement);  // its one change is the UPDATE, and nothing fails after it
    if (!done) co_return std::unexpected(db_problem(done.error()));
    if (!done->found) co_return std::unexpected(not_found("hold"));
    const auto& o = *done->found;
    if (!done->cancelled) {
        co_return std::unexpected(make_problem(
            problem_code::conflict, fmt::format("the order is {}", to_string(o.status))));
    }
    owners_.forget(hold_id);
    auto op = deps_.inventory.release(o.event_id, hold_id);
    co_await std::move(op);
    co_return result<void>{};
}

awaitable<result<order>> service::reload(const std::string& order_id) {
    auto found =
        co_await deps_.db.run([&](db::connection& c) -> db::expected<std::optional<order>> {
            auto o = store::find_order(c, order_id);
            if (!o || !*o) return o;
            auto tickets = store::tickets_of_order(c, order_id);
            if (!tickets) return std::unexpected(tickets.error());
            (*o)->tickets = std::move(*tickets);
            return o;
        });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    if (!*found) co_return std::unexpected(not_found("order"));
    co_return std::move(**found);
}

awaitable<result<order>> service::load_owned(auth::principal who, const std::string& order_id) {
    auto o = co_await reload(order_id);
    if (!o) co_return o;
    // Another user's order is "not found", not "forbidden": its existence is not theirs to know.
    if (o->user_id != who.user_id) co_return std::unexpected(not_found("order"));
    co_return o;
}

awaitable<result<std::vector<order>>> service::orders_of(auth::principal who) {
    auto found = co_await deps_.db.run([&](db::connection& c) -> db::expected<std::vector<order>> {
        auto orders = store::orders_of_user(c, who.user_id);
        if (!orders) return orders;
        for (auto& o : *orders) {
            auto tickets = store::tickets_of_order(c, o.id);
            if (!tickets) return std::unexpected(tickets.error());
            o.tickets = std::move(*tickets);
        }
        return orders;
    });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    co_return std::move(*found);
}

awaitable<result<order>> service::order_of(auth::principal who, std::string order_id) {
    co_return co_await load_owned(who, order_id);
}

awaitable<result<std::vector<order>>> service::orders_of_event(std::int64_t event_id) {
    auto found = co_await deps_.db.run(
        [&](db::connection& c) { return store::orders_of_event(c, event_id); });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    co_return std::move(*found);
}

bool service::manages(const auth::principal& who, std::int64_t event_id) const {
    if (who.role == auth::role::admin) return true;
    auto e = deps_.find_event(event_id);
    return e && who.role == auth::role::manager && e->manager_id == who.user_id;
}

awaitable<result<std::optional<store_answer>>> service::claim_idempotency(auth::principal who,
                                                                          std::string key,
                                                                          std::string request_hash,
                                                                          std::string order_id) {
    const auto now = now_unix();
    const store::idempotency_claim at{.now = now,
                                      .stale_before = now - options_.idempotency_stale_seconds,
                                      .expired_before = now - options_.idempotency_ttl_seconds};
    struct outcome {
        bool owned = false;
        std::optional<store_answer> prior;
    };
    auto found = co_await deps_.db.transact([&](db::connection& c) -> db::expected<outcome> {
        auto o = store::order_owner(c, order_id);
        if (!o) return std::unexpected(o.error());
        if (*o != who.user_id) return outcome{};
        auto claimed = store::claim_idempotency(c, who.user_id, key, request_hash, at);
        if (!claimed) return std::unexpected(claimed.error());
        if (*claimed) return outcome{.owned = true, .prior = std::nullopt};
        auto prior = store::find_idempotency(c, who.user_id, key);
        if (!prior) return std::unexpected(prior.error());
        if (!*prior) return std::unexpected(db::error{db::errc::busy, "idempotency key vanished"});
        return outcome{.owned = true,
                       .prior = store_answer{(*prior)->request_hash, (*prior)->status_code,
                                             (*prior)->response}};
    });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    if (!found->owned) co_return std::unexpected(not_found("order"));
    co_return std::move(found->prior);
}

awaitable<void> service::remember(auth::principal who, std::string key, int status,
                                  std::string body) {
    co_await deps_.db.run([&](db::connection& c) {
        return status >= 500 ? store::drop_idempotency(c, who.user_id, key)
                             : store::store_idempotency(c, who.user_id, key, status, body);
    });
}

}  // namespace tkt::booking
