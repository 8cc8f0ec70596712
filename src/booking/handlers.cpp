#include "booking/handlers.hpp"

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.hpp"
#include "common/ids.hpp"
#include "common/json_body.hpp"
#include "http/rate_limiter.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

struct context {
    service& svc;
    auth::service& auth;
    http::rate_limiter& webhook_limit;
    const hold_gate* gate;
};

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

result<hold_body> read_hold(const request& req) {
    auto body = parse_json_body(req.body);
    if (!body) return std::unexpected(body.error());
    hold_body out;
    if (const auto* seats = body->find("seats"); seats != nullptr && !seats->is_null()) {
        if (!seats->is_array())
            return std::unexpected(validation_error("seats", "must be an array of seat ids"));
        for (const auto& s : seats->as_array()) {
            if (!s.is_string())
                return std::unexpected(validation_error("seats", "must be an array of seat ids"));
            out.seats.emplace_back(s.as_string());
        }
        if (out.seats.empty())
            return std::unexpected(validation_error("seats", "must not be empty"));
    }
    auto zone = body->optional_string("zone");
    if (!zone) return std::unexpected(zone.error());
    auto quantity = body->optional_int("quantity");
    if (!quantity) return std::unexpected(quantity.error());
    if (*zone) {
        if (!*quantity)
            return std::unexpected(validation_error("quantity", "is required with zone"));
        if (**quantity < 1 || **quantity > 1000)
            return std::unexpected(validation_error("quantity", "must be 1 to 4"));
        out.zone = **zone;
        out.quantity = static_cast<std::int32_t>(**quantity);
    }
    if (out.seats.empty() && out.zone.empty()) {
        return std::unexpected(validation_error("seats", "give seats, or zone and quantity"));
    }
    return out;
}

awaitable<response> create_hold(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id)
        co_return http::problem_response(make_problem(problem_code::not_found, "no such event"));
    auto body = read_hold(req);
    if (!body) co_return fail(body);
    std::int64_t ticket = 0;
    if (ctx.gate && ctx.gate->check) {
        auto check = ctx.gate->check(*who, *event_id, std::string(req.header("Queue-Token")));
        auto passed = co_await std::move(check);
        if (!passed) co_return fail(passed);
        ticket = *passed;
    }
    auto op = ctx.svc.hold(*who, *event_id, std::move(*body));
    auto held = co_await std::move(op);
    if (!held) co_return fail(held);
    if (ticket != 0 && ctx.gate->used) {
        auto used = ctx.gate->used(*who, *event_id, ticket, held->hold_id);
        co_await std::move(used);
    }
    co_return http::json_text_response(201, hold_json(*held));
}

awaitable<response> delete_hold(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto op = ctx.svc.release(*who, std::string(req.param("holdId")));
    auto done = co_await std::move(op);
    if (!done) co_return fail(done);
    co_return http::no_content();
}

awaitable<response> list_orders(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto orders = co_await ctx.svc.orders_of(*who);
    if (!orders) co_return fail(orders);
    boost::json::array items;
    for (const auto& o : *orders) items.emplace_back(to_json(o));
    co_return http::json_response(200, boost::json::object{{"items", std::move(items)}});
}

awaitable<response> get_order(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto op = ctx.svc.order_of(*who, std::string(req.param("id")));
    auto o = co_await std::move(op);
    if (!o) co_return fail(o);
    co_return http::json_response(200, to_json(*o));
}

result<confirm_body> read_confirm(const request& req) {
    auto body = parse_json_body(req.body);
    if (!body) return std::unexpected(body.error());
    auto key = body->required_string("paymentKey");
    if (!key) return std::unexpected(key.error());
    auto order_id = body->required_string("orderId");
    if (!order_id) return std::unexpected(order_id.error());
    auto amount = body->required_int("amount");
    if (!amount) return std::unexpected(amount.error());
    if (key->empty() || key->size() > 200)
        return std::unexpected(validation_error("paymentKey", "must be 1 to 200 characters"));
    return confirm_body{*key, *order_id, *amount,
                        std::string(req.header("TossPayments-Test-Code"))};
}

response answer_of(const result<order_answer>& r) {
    if (!r) return http::problem_response(r.error());
    return http::json_response(r->status, to_json(r->body));
}

awaitable<response> replay_or_claim(context ctx, const auth::principal& who, const std::string& key,
                                    const std::string& hash, const std::string& order_id,
                                    bool& claimed);

// POST /payments/confirm with an optional Idempotency-Key: the first answer for a key is stored
// and sent again for a repeat of the same request; another request under the same key is 409.
awaitable<response> confirm(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto body = read_confirm(req);
    if (!body) co_return fail(body);
    std::string key(req.header("Idempotency-Key"));
    if (key.size() > 200)
        co_return http::problem_response(
            validation_error("Idempotency-Key", "at most 200 characters"));
    if (key.empty()) {
        auto op = ctx.svc.confirm(*who, std::move(*body));
        co_return answer_of(co_await std::move(op));
    }
    const std::string hash = sha256_hex(req.body);
    bool claimed = false;
    auto replay = co_await replay_or_claim(ctx, *who, key, hash, body->order_id, claimed);
    if (!claimed) co_return replay;
    auto op = ctx.svc.confirm(*who, std::move(*body));
    auto answer = answer_of(co_await std::move(op));
    auto op2 = ctx.svc.remember(*who, key, answer.status, answer.body);
    co_await std::move(op2);
    co_return answer;
}

awaitable<response> replay_or_claim(context ctx, const auth::principal& who, const std::string& key,
                                    const std::string& hash, const std::string& order_id,
                                    bool& claimed) {
    auto op = ctx.svc.claim_idempotency(who, key, hash, order_id);
    auto prior = co_await std::move(op);
    if (!prior) co_return http::problem_response(prior.error());
    if (!*prior) {
        claimed = true;
        co_return response{};
    }
    const auto& p = **prior;
    if (p.request_hash != hash) {
        co_return http::problem_response(make_problem(
            problem_code::conflict, "this Idempotency-Key was used for another request"));
    }
    if (p.status_code == 0) {
        co_return http::problem_response(make_problem(
            problem_code::conflict, "the first request with this key is still running"));
    }
    response r;
    r.status = p.status_code;
    r.body = p.response;
    if (r.status >= 400) r.content_type = "application/problem+json";
    r.with_header("Idempotent-Replayed", "true");
    co_return r;
}

awaitable<response> cancel_order(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    std::string reason;
    if (!req.body.empty()) {
        auto body = parse_json_body(req.body);
        if (!body) co_return fail(body);
        auto r = body->optional_string("reason");
        if (!r) co_return fail(r);
        if (*r) reason = **r;
        if (reason.size() > 200)
            co_return http::problem_response(validation_error("reason", "at most 200 characters"));
    }
    auto op = ctx.svc.cancel(*who, std::string(req.param("id")), reason);
    co_return answer_of(co_await std::move(op));
}

// A string member of the webhook's `data` ("" when absent or not a string).
std::string data_member(const json_body& body, std::string_view name) {
    const auto* data = body.find("data");
    if (data == nullptr || !data->is_object()) return {};
    const auto* v = data->as_object().if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

// Toss calls this on a status change. The body is never trusted: its paymentKey and orderId
// only name a payment, which must be one of ours before it is read back from Toss. All callers
// share one rate limit: each call may cost a request to Toss with the merchant's key.
awaitable<response> webhook(context ctx, request& req) {
    if (auto wait = ctx.webhook_limit.acquire("webhook", std::chrono::steady_clock::now())) {
        auto p = make_problem(problem_code::rate_limited, "too many webhook calls; send it again");
        p.retry_after_seconds = *wait;
        co_return http::problem_response(p);
    }
    auto body = parse_json_body(req.body);
    if (!body) co_return fail(body);
    std::string key = data_member(*body, "paymentKey");
    if (key.empty()) {
        auto k = body->optional_string("paymentKey");
        if (k && *k) key = **k;
    }
    if (key.empty())
        co_return http::problem_response(validation_error("data.paymentKey", "is required"));
    if (key.size() > 200)
        co_return http::problem_response(
            validation_error("data.paymentKey", "at most 200 characters"));
    auto order_id = data_member(*body, "orderId");
    if (order_id.size() > 64) order_id.clear();  // no order of ours has such an id
    auto op = ctx.svc.on_webhook(key, std::move(order_id));
    auto done = co_await std::move(op);
    if (!done) co_return fail(done);
    co_return http::json_response(200, boost::json::object{{"received", true}});
}

awaitable<result<std::int64_t>> managed_event(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::manager);
    if (!who) co_return std::unexpected(who.error());
    auto id = parse_id(req.param("id"));
    if (!id) co_return std::unexpected(make_problem(problem_code::not_found, "no such event"));
    if (!ctx.svc.manages(*who, *id))
        co_return std::unexpected(make_problem(problem_code::not_found, "no such event"));
    co_return *id;
}

awaitable<response> event_orders(context ctx, request& req) {
    auto id = co_await managed_event(ctx, req);
    if (!id) co_return fail(id);
    auto orders = co_await ctx.svc.orders_of_event(*id);
    if (!orders) co_return fail(orders);
    boost::json::array items;
    std::int64_t revenue = 0, tickets = 0, paid = 0, refunding = 0, refunded = 0, refund_failed = 0;
    for (const auto& o : *orders) {
        items.emplace_back(to_json(o));
        if (o.status == order_status::paid) {
            revenue += o.amount;
            tickets += o.items.count();
            ++paid;
        }
        // A cancellation's progress: REFUNDING until the provider refunds (CANCELLED, REFUNDED).
        if (o.status == order_status::refunding) ++refunding;
        if (o.status == order_status::refund_failed) ++refund_failed;
        if (o.status == order_status::refunded ||
            (o.status == order_status::cancelled && !o.paid_at.empty()))
            ++refunded;
    }
    co_return http::json_response(
        200, boost::json::object{{"items", std::move(items)},
                                 {"totals", boost::json::object{{"paidOrders", paid},
                                                                {"ticketsSold", tickets},
                                                                {"revenue", revenue},
                                                                {"currency", "KRW"},
                                                                {"refunding", refunding},
                                                                {"refunded", refunded},
                                                                {"refundFailed", refund_failed}}}});
}

awaitable<response> event_audit(context ctx, request& req) {
    auto id = co_await managed_event(ctx, req);
    if (!id) co_return fail(id);
    auto report = co_await ctx.svc.audit(*id);
    if (!report) co_return fail(report);
    boost::json::array violations;
    for (const auto& v : report->violations) violations.emplace_back(v);
    co_return http::json_response(200, boost::json::object{{"eventId", *id},
                                                           {"capacity", report->counts.capacity},
                                                           {"available", report->counts.available},
                                                           {"held", report->counts.held},
                                                           {"sold", report->counts.sold},
                                                           {"refunding", report->refunding},
                                                           {"refundFailed", report->refund_failed},
                                                           {"violations", std::move(violations)}});
}

awaitable<response> stats_of_event(context ctx, request& req) {
    auto id = co_await managed_event(ctx, req);
    if (!id) co_return fail(id);
    auto stats = co_await ctx.svc.stats(*id);
    if (!stats) co_return fail(stats);
    const auto& c = stats->counts;
    const auto& s = stats->sales;
    boost::json::object body{{"eventId", *id},
                             {"capacity", c.capacity},
                             {"available", c.available},
                             {"held", c.held},
                             {"sold", c.sold},
                             {"paidOrders", s.paid_orders},
                             {"ticketsSold", s.tickets_sold},
                             {"revenue", s.revenue},
                             {"currency", "KRW"},
                             {"awaitingPayment", s.awaiting_payment},
                             {"failed", s.failed},
                             {"refunding", s.refunding},
                             {"refunded", s.refunded},
                             {"refundFailed", s.refund_failed}};
    if (!stats->loaded) {
        for (const char* key : {"capacity", "available", "held", "sold"}) body[key] = nullptr;
    }
    co_return http::json_response(200, body);
}

using route_fn = awaitable<response> (*)(context, request&);

// The closure only forwards; `context` is two references, copied into each coroutine frame.
http::handler bind(context ctx, route_fn fn) {
    return [ctx, fn](request& req) { return fn(ctx, req); };
}

}  // namespace

void register_routes(http::router& router, service& svc, auth::service& auth,
                     http::rate_limiter& webhook_limit, const hold_gate* gate) {
    const context ctx{svc, auth, webhook_limit, gate};
    router.add(http::verb::post, "/api/v1/events/{id}/holds", bind(ctx, create_hold));
    router.add(http::verb::delete_, "/api/v1/holds/{holdId}", bind(ctx, delete_hold));
    router.add(http::verb::get, "/api/v1/orders", bind(ctx, list_orders));
    router.add(http::verb::get, "/api/v1/orders/{id}", bind(ctx, get_order));
    router.add(http::verb::post, "/api/v1/orders/{id}/cancel", bind(ctx, cancel_order));
    router.add(http::verb::post, "/api/v1/payments/confirm", bind(ctx, confirm));
    router.add(http::verb::post, "/api/v1/payments/webhook", bind(ctx, webhook));
    router.add(http::verb::get, "/api/v1/manager/events/{id}/orders", bind(ctx, event_orders));
    router.add(http::verb::get, "/api/v1/manager/events/{id}/audit", bind(ctx, event_audit));
    router.add(http::verb::get, "/api/v1/manager/events/{id}/stats", bind(ctx, stats_of_event));
}

}  // namespace tkt::booking
