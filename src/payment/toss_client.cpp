#include "payment/toss_client.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.hpp"
#include "http/client.hpp"

namespace tkt::payment {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

// Toss error codes that mean "not decided, ask again" although they come with a 4xx.
constexpr std::array<std::string_view, 6> retry_later_codes{
    "PROVIDER_ERROR",
    "FAILED_INTERNAL_SYSTEM_PROCESSING",
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
    "UNKNOWN_PAYMENT_ERROR",
    "IDEMPOTENT_REQUEST_PROCESSING",
    "COMMON_ERROR",
};

bool means_retry_later(std::string_view code) {
    return std::ranges::find(retry_later_codes, code) != retry_later_codes.end();
}

gateway_result unknown(std::string code, std::string message) {
    return gateway_result{outcome::unknown, std::nullopt, std::move(code), std::move(message)};
}

// Path segments are Toss keys and order ids ([A-Za-z0-9_-]); anything else is escaped anyway.
std::string path_segment(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned>(u));
        }
    }
    return out;
}

std::string string_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<payment_record> parse_payment(std::string_view body) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const auto& o = doc.get_object();
    const auto* amount = o.if_contains("totalAmount");
    if (amount == nullptr || !amount->is_int64()) return std::nullopt;
    payment_record p;
    p.payment_key = string_field(o, "paymentKey");
    p.order_id = string_field(o, "orderId");
    p.total_amount = amount->get_int64();
    p.status = parse_payment_status(string_field(o, "status"));
    p.method = string_field(o, "method");
    p.approved_at = string_field(o, "approvedAt");
    if (p.payment_key.empty() || p.order_id.empty()) return std::nullopt;
    return p;
}

// What Toss's answer (or its absence) means.
gateway_result interpret(const std::expected<http::client_response, http::client_error>& answer) {
    if (!answer) {
        const bool timed_out = answer.error().code == http::client_errc::timeout;
        return unknown(timed_out ? "TIMEOUT" : "NETWORK_ERROR", answer.error().message);
    }
    if (answer->status == 200) {
        auto payment = parse_payment(answer->body);
        if (!payment)
            return unknown("INVALID_RESPONSE", "Toss answered 200 without a readable Payment");
        return gateway_result{outcome::done, std::move(payment), "", ""};
    }
    boost::system::error_code ec;
    json::value doc = json::parse(answer->body, ec);
    std::string code;
    std::string message;
    if (!ec && doc.is_object()) {
        code = string_field(doc.get_object(), "code");
        message = string_field(doc.get_object(), "message");
    }
    const int status = answer->status;
    // A 4xx without Toss's error body came from something in between (a proxy), not from
    // Toss deciding: declining on it could drop a payment Toss captured.
    const bool decided = status >= 400 && status < 500 && status != 409 && status != 429 &&
                         !code.empty() && !means_retry_later(code);
    if (code.empty()) code = fmt::format("HTTP_{}", status);
    return gateway_result{decided ? outcome::declined : outcome::unknown, std::nullopt,
                          std::move(code), std::move(message)};
}

// A confirm or cancel may go again only when the request surely never left: the connection
// was not made. Anything later might have reached Toss.
bool never_sent(const std::expected<http::client_response, http::client_error>& answer) {
    if (answer) return false;
    const auto code = answer.error().code;
    return answer.error().sent == http::request_sent::no &&
           (code == http::client_errc::connect_failed || code == http::client_errc::resolve_failed);
}

}  // namespace

payment_status parse_payment_status(std::string_view text) {
    if (text == "READY") return payment_status::ready;
    if (text == "IN_PROGRESS") return payment_status::in_progress;
    if (text == "DONE") return payment_status::done;
    if (text == "CANCELED") return payment_status::canceled;
    if (text == "PARTIAL_CANCELED") return payment_status::partial_canceled;
    if (text == "ABORTED") return payment_status::aborted;
    if (text == "EXPIRED") return payment_status::expired;
    return payment_status::other;
}

struct toss_gateway::call {
    http::verb method = http::verb::get;
    std::string path;
    std::string body;
    std::string idempotency_key;
    std::string test_code;
    steady::time_point deadline;
};

toss_gateway::toss_gateway(http::client& client, toss_options options)
    : client_(client),
      options_(std::move(options)),
      authorization_(http::basic_authorization(options_.secret_key, "")) {
    while (options_.base_url.ends_with('/')) options_.base_url.pop_back();
}

asio::awaitable<gateway_result> toss_gateway::send(call c) {
    const bool is_get = c.method == http::verb::get;
    const int attempts_max = is_get ? 3 : 2;
    gateway_result result;
    for (int attempt = 0; attempt < attempts_max; ++attempt) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(c.deadline - steady::now());
        if (left.count() <= 0) break;
        http::client_request req;
        req.method = c.method;
        req.url = options_.base_url + c.path;
        req.timeout = left;
        req.headers.emplace_back("Authorization", authorization_);
        if (!c.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
        if (!c.idempotency_key.empty())
            req.headers.emplace_back("Idempotency-Key", c.idempotency_key);
        if (!c.test_code.empty()) req.headers.emplace_back("TossPayments-Test-Code", c.test_code);
        req.body = c.body;
        auto op = client_.request(std::move(req));
        auto answer = co_await std::move(op);
        result = interpret(answer);
        const bool again = is_get ? result.result == outcome::unknown : never_sent(answer);
        if (!again) co_return result;
        const auto pause = options_.backoff * (1 << attempt);
        if (steady::now() + pause >= c.deadline) co_return result;
        asio::steady_timer timer(co_await asio::this_coro::executor, pause);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (result.code.empty())
        result = unknown("TIMEOUT", "the deadline passed before Toss answered");
    co_return result;
}

asio::awaitable<gateway_result> toss_gateway::look_up(std::string path,
                                                      steady::time_point deadline) {
    call c;
    c.method = http::verb::get;
    c.path = std::move(path);
    c.deadline = deadline;
    auto op = send(std::move(c));
    co_return co_await std::move(op);
}

asio::awaitable<gateway_result> toss_gateway::confirm(confirm_request r) {
    const auto deadline = steady::now() + options_.deadline;
    call c;
    c.method = http::verb::post;
    c.path = "/v1/payments/confirm";
    c.body = json::serialize(
        json::object{{"paymentKey", r.payment_key}, {"orderId", r.order_id}, {"amount", r.amount}});
    c.idempotency_key = r.idempotency_key;
    c.test_code = r.test_code;
    c.deadline = deadline;
    auto op = send(std::move(c));
    gateway_result result = co_await std::move(op);
    if (result.result == outcome::done && result.payment->status != payment_status::done) {
        // Answered, but not captured (e.g. waiting for a deposit): not ours to call done.
        co_return unknown("NOT_DONE", "Toss answered the confirm with a payment that is not DONE");
    }
    if (result.result != outcome::declined || result.code != "ALREADY_PROCESSED_PAYMENT") {
        if (result.result == outcome::unknown) {
            log::warn(
                "payment.confirm_unknown",
                {{"orderId", r.order_id}, {"code", result.code}, {"message", result.message}});
        }
        co_return result;
    }
    // A repeat without the first Idempotency-Key: what happened the first time decides.
    auto lookup = look_up("/v1/payments/" + path_segment(r.payment_key), deadline);
    gateway_result found = co_await std::move(lookup);
    if (found.result == outcome::unknown) co_return found;
    if (found.result == outcome::done && found.payment->status == payment_status::done &&
        found.payment->order_id == r.order_id && found.payment->total_amount == r.amount) {
        co_return found;
    }
    co_return result;
}

asio::awaitable<gateway_result> toss_gateway::cancel(cancel_request r) {
    const auto deadline = steady::now() + options_.deadline;
    const std::string payment_path = "/v1/payments/" + path_segment(r.payment_key);
    call c;
    c.method = http::verb::post;
    c.path = payment_path + "/cancel";
    c.body = json::serialize(json::object{{"cancelReason", r.reason}});
    c.idempotency_key = r.idempotency_key;
    c.deadline = deadline;
    auto op = send(std::move(c));
    gateway_result result = co_await std::move(op);
    if (result.result != outcome::declined || result.code != "ALREADY_CANCELED_PAYMENT")
        co_return result;
    auto lookup = look_up(payment_path, deadline);
    gateway_result found = co_await std::move(lookup);
    if (found.result == outcome::done && found.payment->status == payment_status::canceled)
        co_return found;
    co_return found.result == outcome::unknown ? found : result;
}

asio::awaitable<gateway_result> toss_gateway::get(std::string payment_key) {
    auto op =
        look_up("/v1/payments/" + path_segment(payment_key), steady::now() + options_.deadline);
    co_return co_await std::move(op);
}

asio::awaitable<gateway_result> toss_gateway::find_by_order(std::string order_id) {
    auto op =
        look_up("/v1/payments/orders/" + path_segment(order_id), steady::now() + options_.deadline);
    co_return co_await std::move(op);
}

}  // namespace tkt::payment
