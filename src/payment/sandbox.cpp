#include "payment/sandbox.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/encoding.hpp"
#include "common/json_body.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "payment/sandbox_widget.hpp"

namespace tkt::payment {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

sandbox_reply toss_error(int status, std::string_view code, std::string_view message) {
    return sandbox_reply{
        status, json::object{{"code", code}, {"message", message}}, {}, delivery::answer};
}

sandbox_reply invalid(std::string_view message) {
    return toss_error(400, "INVALID_REQUEST", message);
}

// Toss's "try again": nothing was decided (a fault, or an outage).
sandbox_reply internal_error() {
    return toss_error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING",
                      "내부 시스템 처리 작업이 실패했습니다.");
}

sandbox_reply not_found() {
    return toss_error(404, "NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.");
}

// The status Toss answers an error code with, for `TossPayments-Test-Code`.
int status_of(std::string_view code) {
    if (code == "UNAUTHORIZED_KEY") return 401;
    if (code.starts_with("NOT_FOUND")) return 404;
    if (code.starts_with("REJECT_") || code.starts_with("FORBIDDEN") ||
        code.starts_with("EXCEED_MAX") || code == "NOT_CANCELABLE_PAYMENT") {
        return 403;
    }
    if (code.starts_with("FAILED_") || code == "UNKNOWN_PAYMENT_ERROR") return 500;
    return 400;
}

// RFC 3339 in Korea Standard Time, as Toss writes its timestamps.
std::string kst_time(std::chrono::system_clock::time_point now) {
    const std::time_t t = std::chrono::system_clock::to_time_t(now) + 9 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32] = {};
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
    return text;
}

std::string random_key(std::string_view prefix, std::size_t bytes) {
    return std::string(prefix) + hex_encode(random_bytes(bytes));
}

bool valid_order_id(std::string_view id) {
    if (id.size() < 6 || id.size() > 64) return false;
    return std::ranges::all_of(id, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

std::optional<sandbox_outcome> parse_outcome(std::string_view text) {
    if (text == "approve") return sandbox_outcome::approve;
    if (text == "decline") return sandbox_outcome::decline;
    if (text == "error") return sandbox_outcome::error;
    if (text == "timeout") return sandbox_outcome::timeout;
    return std::nullopt;
}

// The three fields every confirm carries.
struct confirm_fields {
    std::string payment_key;
    std::string order_id;
    std::int64_t amount = 0;
};

std::optional<confirm_fields> parse_confirm(std::string_view text) {
    auto body = parse_json_body(text);
    if (!body) return std::nullopt;
    auto key = body->required_string("paymentKey");
    auto order = body->required_string("orderId");
    auto amount = body->required_int("amount");
    if (!key || !order || !amount) return std::nullopt;
    return confirm_fields{std::move(*key), std::move(*order), *amount};
}

}  // namespace

std::string toss_authorization(std::string_view secret_key) {
    return http::basic_authorization(secret_key, "");
}

sandbox::sandbox(sandbox_options options) : options_(std::move(options)) {}

json::value sandbox::to_json(const payment& p) {
    const bool captured = !p.approved_at.empty();
    json::value cancels = nullptr;
    if (!p.cancels.empty()) {
        json::array list;
        for (const auto& c : p.cancels) {
            list.push_back(json::object{{"transactionKey", c.transaction_key},
                                        {"cancelReason", c.reason},
                                        {"cancelAmount", c.amount},
                                        {"taxFreeAmount", 0},
                                        {"refundableAmount", p.balance},
                                        {"canceledAt", c.canceled_at},
                                        {"cancelStatus", "DONE"}});
        }
        cancels = std::move(list);
    }
    const std::int64_t vat = p.amount / 11;
    return json::object{
        {"mId", "tosspayments_sandbox"},
        {"version", "2022-11-16"},
        {"paymentKey", p.payment_key},
        {"type", "NORMAL"},
        {"orderId", p.order_id},
        {"orderName", p.order_name.empty() ? json::value(nullptr) : json::value(p.order_name)},
        {"currency", "KRW"},
        {"method", captured ? json::value("카드") : json::value(nullptr)},
        {"status", p.status},
        {"requestedAt", p.requested_at},
        {"approvedAt", captured ? json::value(p.approved_at) : json::value(nullptr)},
        {"lastTransactionKey", p.last_transaction_key.empty()
                                   ? json::value(nullptr)
                                   : json::value(p.last_transaction_key)},
        {"totalAmount", p.amount},
        {"balanceAmount", p.balance},
        {"suppliedAmount", p.amount - vat},
        {"vat", vat},
        {"taxFreeAmount", 0},
        {"taxExemptionAmount", 0},
        {"useEscrow", false},
        {"cultureExpense", false},
        {"isPartialCancelable", true},
        {"cancels", std::move(cancels)},
        {"failure", nullptr},
        {"country", "KR"},
        {"sandbox", json::object{{"cancelRequests", p.cancel_requests}}},
    };
}

void sandbox::remember(std::string key, const sandbox_reply& reply) {
    // Bounded like the payments: past the bound a repeat is judged afresh, as without a key.
    if (replies_.size() >= 2 * options_.max_payments) return;
    sandbox_reply stored = reply;
    stored.delay = std::chrono::milliseconds(0);
    stored.how = delivery::answer;
    replies_.insert_or_assign(std::move(key), std::move(stored));
}

sandbox_reply sandbox::create(std::string_view text, time_point now) {
    auto body = parse_json_body(text);
    if (!body) return invalid("the body must be a JSON object");
    auto order_id = body->required_string("orderId");
    auto amount = body->required_int("amount");
    auto order_name = body->optional_string("orderName");
    auto outcome_text = body->optional_string("outcome");
    if (!order_id || !valid_order_id(*order_id)) {
        return invalid("orderId must be 6 to 64 characters of A-Z, a-z, 0-9, - and _");
    }
    if (!amount || *amount <= 0) return invalid("amount must be a positive integer");
    if (!order_name || !outcome_text) return invalid("orderName and outcome must be strings");
    auto outcome = parse_outcome(outcome_text->value_or("approve"));
    if (!outcome) return invalid("outcome must be approve, decline, error or timeout");

    std::lock_guard lock(mutex_);
    if (auto it = order_payment_.find(*order_id); it != order_payment_.end()) {
        const auto& status = payments_.at(it->second).status;
        if (status != "READY" && status != "ABORTED") {
            return toss_error(400, "DUPLICATED_ORDER_ID",
                              "이미 승인 및 취소가 진행된 중복된 주문번호 입니다.");
        }
    }
    if (payments_.size() >= options_.max_payments) return invalid("the sandbox is full");
    payment p;
    p.payment_key = random_key("tsbx", 20);
    p.order_id = *order_id;
    p.order_name = order_name->value_or("");
    p.amount = *amount;
    p.balance = *amount;
    p.outcome = *outcome;
    p.requested_at = kst_time(now);
    order_payment_[p.order_id] = p.payment_key;
    json::object answer{{"paymentKey", p.payment_key},
                        {"orderId", p.order_id},
                        {"amount", p.amount},
                        {"status", p.status}};
    payments_.emplace(p.payment_key, std::move(p));
    return sandbox_reply{201, std::move(answer), {}, delivery::answer};
}

sandbox_reply sandbox::confirm(std::string_view text, std::string_view idempotency_key,
                               std::string_view test_code, time_point now) {
    auto fields = parse_confirm(text);
    if (!fields) return invalid("paymentKey, orderId and amount are required");
    const std::string replay_key = fmt::format("confirm:{}", idempotency_key);
    std::lock_guard lock(mutex_);
    if (faults_.outage > 0) return internal_error();
    if (!idempotency_key.empty()) {
        if (auto it = replies_.find(replay_key); it != replies_.end()) {
            sandbox_reply again = it->second;
            // A lost answer stays lost for as many answers as the fault says, repeats included
            // (a client repeats a keyed request whose connection closed without an answer).
            if (again.status == 200 && faults_.drop_confirm_response > 0) {
                --faults_.drop_confirm_response;
                again.how = delivery::drop;
            }
            return again;
        }
    }
    if (!test_code.empty()) {
        return toss_error(status_of(test_code), test_code,
                          "TossPayments-Test-Code 로 요청한 에러입니다.");
    }
    auto it = payments_.find(fields->payment_key);
    if (it == payments_.end()) return not_found();
    payment& p = it->second;
    if (p.order_id != fields->order_id) return invalid("orderId does not match the payment");
    if (p.amount != fields->amount) return invalid("amount does not match the payment");
    if (p.status != "READY" && p.status != "ABORTED") {
        return toss_error(400, "ALREADY_PROCESSED_PAYMENT", "이미 처리된 결제 입니다.");
    }
    sandbox_reply reply = decide_confirm(p, now);
    reply.delay += std::chrono::milliseconds(faults_.confirm_delay_ms);
    // A 5xx is no decision: a repeat with the same key must be free to get a real one.
    if (!idempotency_key.empty() && reply.status < 500) remember(replay_key, reply);
    return reply;
}

// The outcome chosen at creation, bent by the faults. Called with the mutex held.
sandbox_reply sandbox::decide_confirm(payment& p, time_point now) {
    if (faults_.confirm_5xx > 0) {
        --faults_.confirm_5xx;
        return internal_error();
    }
    switch (p.outcome) {
        case sandbox_outcome::decline:
            p.status = "ABORTED";
            return toss_error(403, "REJECT_CARD_COMPANY", "결제 승인이 거절되었습니다.");
        case sandbox_outcome::error:
            return toss_error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING",
                              "내부 시스템 처리 작업이 실패했습니다.");
        case sandbox_outcome::approve:
        case sandbox_outcome::timeout:
            break;
    }
    p.status = "DONE";
    p.approved_at = kst_time(now);
    p.last_transaction_key = random_key("", 16);
    sandbox_reply reply{200, to_json(p), {}, delivery::answer};
    if (p.outcome == sandbox_outcome::timeout) reply.delay = options_.timeout_delay;
    if (faults_.drop_confirm_response > 0) {
        --faults_.drop_confirm_response;
        reply.how = delivery::drop;
    }
    return reply;
}

sandbox_reply sandbox::cancel(std::string_view payment_key, std::string_view text,
                              std::string_view idempotency_key, time_point now) {
    auto body = parse_json_body(text);
    if (!body) return invalid("the body must be a JSON object");
    auto reason = body->required_string("cancelReason");
    auto amount = body->optional_int("cancelAmount");
    if (!reason || reason->empty()) return invalid("cancelReason is required");
    if (!amount) return invalid("cancelAmount must be an integer");
    const std::string replay_key = fmt::format("cancel:{}:{}", payment_key, idempotency_key);
    std::lock_guard lock(mutex_);
    if (faults_.outage > 0) return internal_error();
    if (!idempotency_key.empty()) {
        if (auto it = replies_.find(replay_key); it != replies_.end()) {
            sandbox_reply again = it->second;
            if (again.status == 200 && faults_.drop_cancel_response > 0) {
                --faults_.drop_cancel_response;
                again.how = delivery::drop;
            }
            return again;
        }
    }
    auto it = payments_.find(std::string(payment_key));
    if (it == payments_.end()) return not_found();
    if (faults_.cancel_5xx > 0) {
        --faults_.cancel_5xx;
        return internal_error();
    }
    sandbox_reply reply = decide_cancel(it->second, amount->value_or(-1), *reason, now);
    if (!idempotency_key.empty()) remember(replay_key, reply);
    if (reply.status == 200 && faults_.drop_cancel_response > 0) {
        --faults_.drop_cancel_response;
        reply.how = delivery::drop;
    }
    return reply;
}

// A cancel that reached the payment, bent by the refusal fault. Called with the mutex held.
sandbox_reply sandbox::decide_cancel(payment& p, std::int64_t amount_asked, std::string reason,
                                     time_point now) {
    ++p.cancel_requests;
    if (faults_.cancel_refuse > 0) {
        --faults_.cancel_refuse;
        return toss_error(403, "NOT_CANCELABLE_PAYMENT", "취소 할 수 없는 결제 입니다.");
    }
    if (p.status == "CANCELED") {
        return toss_error(400, "ALREADY_CANCELED_PAYMENT", "이미 취소된 결제 입니다.");
    }
    if (p.status != "DONE") {
        return toss_error(403, "NOT_CANCELABLE_PAYMENT", "취소 할 수 없는 결제 입니다.");
    }
    // The sandbox refunds in full only; the project never cancels part of an order.
    if (amount_asked >= 0 && amount_asked != p.balance) {
        return toss_error(403, "NOT_CANCELABLE_AMOUNT", "취소 할 수 없는 금액 입니다.");
    }
    p.cancels.push_back(
        cancel_entry{random_key("", 16), std::move(reason), p.balance, kst_time(now)});
    p.last_transaction_key = p.cancels.back().transaction_key;
    p.balance = 0;
    p.status = "CANCELED";
    return sandbox_reply{200, to_json(p), {}, delivery::answer};
}

sandbox_reply sandbox::get(std::string_view payment_key) const {
    std::lock_guard lock(mutex_);
    if (faults_.outage > 0) return internal_error();
    auto it = payments_.find(std::string(payment_key));
    if (it == payments_.end()) return not_found();
    return sandbox_reply{200, to_json(it->second), {}, delivery::answer};
}

sandbox_reply sandbox::find_by_order(std::string_view order_id) const {
    std::lock_guard lock(mutex_);
    if (faults_.outage > 0) return internal_error();
    auto it = order_payment_.find(std::string(order_id));
    if (it == order_payment_.end()) return not_found();
    return sandbox_reply{200, to_json(payments_.at(it->second)), {}, delivery::answer};
}

sandbox_reply sandbox::set_faults(std::string_view text) {
    auto body = parse_json_body(text);
    if (!body) return invalid("the body must be a JSON object");
    struct field {
        std::string_view name;
        std::int64_t sandbox_faults::*slot;
    };
    static constexpr std::array<field, 7> fields{{
        {"confirmDelayMs", &sandbox_faults::confirm_delay_ms},
        {"confirm5xx", &sandbox_faults::confirm_5xx},
        {"dropConfirmResponse", &sandbox_faults::drop_confirm_response},
        {"cancel5xx", &sandbox_faults::cancel_5xx},
        {"cancelRefuse", &sandbox_faults::cancel_refuse},
        {"dropCancelResponse", &sandbox_faults::drop_cancel_response},
        {"outage", &sandbox_faults::outage},
    }};
    std::array<std::optional<std::int64_t>, fields.size()> asked;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        auto v = body->optional_int(fields[i].name);
        if (!v || v->value_or(0) < 0) return invalid("every fault is a non-negative integer");
        asked[i] = *v;
    }
    std::lock_guard lock(mutex_);
    json::object now;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (asked[i]) faults_.*fields[i].slot = *asked[i];
        now[fields[i].name] = faults_.*fields[i].slot;
    }
    return sandbox_reply{200, std::move(now), {}, delivery::answer};
}

sandbox_faults sandbox::faults() const {
    std::lock_guard lock(mutex_);
    return faults_;
}

namespace {

// Carries a reply out: waits its delay on a timer (the I/O thread serves others meanwhile).
asio::awaitable<http::response> deliver(sandbox_reply reply) {
    if (reply.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    http::response res = http::json_response(reply.status, reply.body);
    // The payment is captured, but the caller never hears of it: the connection just closes.
    res.hang_up = reply.how == delivery::drop;
    co_return res;
}

bool authorized(const http::request& req, const std::string& expected) {
    return constant_time_equal(req.header("Authorization"), expected);
}

http::response unauthorized() {
    return http::json_response(
        401, json::object{{"code", "UNAUTHORIZED_KEY"},
                          {"message", "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."}});
}

}  // namespace

void register_sandbox_routes(http::router& routes, sandbox& box, std::string prefix,
                             std::string secret_key) {
    using http::request;
    using http::response;
    using http::verb;
    const std::string auth = toss_authorization(secret_key);
    auto now = [] { return std::chrono::system_clock::now(); };

    routes.add(verb::post, prefix + "/payments",
               [&box, now](request& req) -> asio::awaitable<response> {
                   auto op = deliver(box.create(req.body, now()));
                   co_return co_await std::move(op);
               });
    routes.add(verb::post, prefix + "/v1/payments/confirm",
               [&box, auth, now](request& req) -> asio::awaitable<response> {
                   if (!authorized(req, auth)) co_return unauthorized();
                   auto op = deliver(box.confirm(req.body, req.header("Idempotency-Key"),
                                                 req.header("TossPayments-Test-Code"), now()));
                   co_return co_await std::move(op);
               });
    routes.add(verb::post, prefix + "/v1/payments/{paymentKey}/cancel",
               [&box, auth, now](request& req) -> asio::awaitable<response> {
                   if (!authorized(req, auth)) co_return unauthorized();
                   auto op = deliver(box.cancel(req.param("paymentKey"), req.body,
                                                req.header("Idempotency-Key"), now()));
                   co_return co_await std::move(op);
               });
    routes.add(verb::get, prefix + "/v1/payments/{paymentKey}",
               [&box, auth](request& req) -> asio::awaitable<response> {
                   if (!authorized(req, auth)) co_return unauthorized();
                   auto op = deliver(box.get(req.param("paymentKey")));
                   co_return co_await std::move(op);
               });
    routes.add(verb::get, prefix + "/v1/payments/orders/{orderId}",
               [&box, auth](request& req) -> asio::awaitable<response> {
                   if (!authorized(req, auth)) co_return unauthorized();
                   auto op = deliver(box.find_by_order(req.param("orderId")));
                   co_return co_await std::move(op);
               });
    // The browser's side (sandbox_widget.hpp): the SDK and the payment window it opens.
    routes.add(verb::get, prefix + "/v2/standard", [](request&) -> asio::awaitable<response> {
        response r;
        r.content_type = "text/javascript; charset=utf-8";
        r.body = widget_script();
        r.with_header("Cache-Control", "no-cache");
        co_return r;
    });
    auto window_response = [](window_answer a) {
        response r;
        r.status = a.status;
        if (a.status == 303) {
            r.content_type = "text/plain; charset=utf-8";
            r.with_header("Location", std::move(a.location));
        } else {
            r.content_type = "text/html; charset=utf-8";
            r.body = std::move(a.html);
        }
        r.with_header("Cache-Control", "no-store");
        return r;
    };
    routes.add(verb::get, prefix + "/v2/window",
               [window_response](request& req) -> asio::awaitable<response> {
                   co_return window_response(open_window(read_window_fields(
                       [&req](std::string_view name) { return req.query_param(name); })));
               });
    routes.add(verb::post, prefix + "/v2/window",
               [&box, now, window_response](request& req) -> asio::awaitable<response> {
                   const auto fields = read_window_fields(
                       [&req](std::string_view name) { return http::form_field(req.body, name); });
                   co_return window_response(submit_window(box, fields, now()));
               });
    routes.add(verb::post, prefix + "/sandbox/faults",
               [&box](request& req) -> asio::awaitable<response> {
                   auto op = deliver(box.set_faults(req.body));
                   co_return co_await std::move(op);
               });
}

}  // namespace tkt::payment
