// The Toss client against the Toss sandbox, over real HTTP on loopback: the sandbox mounted
// under /sandbox/toss in an http::server on a free port, as the api role mounts it.
#include "payment/toss_client.hpp"

#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/client.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "payment/sandbox.hpp"

namespace tkt::payment {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view secret = "test_sk_sandbox";

struct setup {
    std::chrono::milliseconds sandbox_timeout_delay{30'000};
    std::chrono::milliseconds client_deadline{2'000};
    std::string client_secret{secret};
};

sandbox_options sandbox_for(const setup& s) {
    sandbox_options o;
    o.timeout_delay = s.sandbox_timeout_delay;
    return o;
}

class toss_loopback {
public:
    explicit toss_loopback(setup s = {}) : box_(sandbox_for(s)) {
        register_sandbox_routes(routes_, box_, "/sandbox/toss", std::string(secret));
        metrics_.bind_routes(routes_);
        http::server_options options;
        options.port = 0;
        server_.emplace(io_, routes_, metrics_, options);
        auto port = server_->listen();
        EXPECT_TRUE(port.has_value());
        base_url_ = fmt::format("http://127.0.0.1:{}/sandbox/toss", port.value_or(0));
        server_->start();
        gateway_.emplace(client_,
                         toss_options{base_url_, s.client_secret, s.client_deadline, 50ms});
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~toss_loopback() {
        server_->stop();
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    template <class T>
    T run(asio::awaitable<T> op) {
        return asio::co_spawn(io_, std::move(op), asio::use_future).get();
    }

    // A raw call to the sandbox: the status and the JSON body.
    std::pair<int, json::value> raw(http::verb method, std::string path, json::object body = {},
                                    http::header_list headers = {}) {
        http::client_request r;
        r.method = method;
        r.url = base_url_ + path;
        r.headers = std::move(headers);
        r.headers.emplace_back("Authorization", toss_authorization(secret));
        if (method == http::verb::post) r.body = json::serialize(body);
        auto answer = run(client_.request(std::move(r)));
        EXPECT_TRUE(answer.has_value());
        if (!answer) return {0, nullptr};
        return {answer->status, json::parse(answer->body)};
    }

    // The widget's part: a READY payment with the given outcome; its paymentKey.
    std::string create(std::string_view order_id, std::int64_t amount,
                       std::string_view outcome = "approve") {
        auto [status, body] =
            raw(http::verb::post, "/payments",
                {{"orderId", order_id}, {"amount", amount}, {"outcome", outcome}});
        EXPECT_EQ(status, 201) << json::serialize(body);
        return std::string(body.at("paymentKey").as_string());
    }

    gateway_result confirm(std::string key, std::string order, std::int64_t amount,
                           std::string idempotency_key = "", std::string test_code = "") {
        return run(
            gateway_->confirm(confirm_request{std::move(key), std::move(order), amount,
                                              std::move(idempotency_key), std::move(test_code)}));
    }
    gateway_result find_by_order(std::string order) {
        return run(gateway_->find_by_order(std::move(order)));
    }
    gateway_result get(std::string key) { return run(gateway_->get(std::move(key))); }
    gateway_result cancel(std::string key, std::string idempotency_key) {
        return run(gateway_->cancel(
            cancel_request{std::move(key), "customer asked", std::move(idempotency_key)}));
    }
    void faults(json::object f) {
        auto [status, body] = raw(http::verb::post, "/sandbox/faults", std::move(f));
        EXPECT_EQ(status, 200) << json::serialize(body);
    }

private:
    sandbox box_;
    http::router routes_;
    http::metrics metrics_;
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    http::client client_{io_.get_executor()};
    std::optional<http::server> server_;
    std::optional<toss_gateway> gateway_;
    std::string base_url_;
    std::vector<std::thread> threads_;
};

void expect_done(const gateway_result& r, std::string_view order, std::int64_t amount,
                 payment_status status = payment_status::done) {
    ASSERT_EQ(r.result, outcome::done) << r.code << ": " << r.message;
    ASSERT_TRUE(r.payment.has_value());
    EXPECT_EQ(r.payment->order_id, order);
    EXPECT_EQ(r.payment->total_amount, amount);
    EXPECT_EQ(r.payment->status, status);
}

TEST(toss_sandbox, approve_confirms_and_returns_the_payment) {
    toss_loopback t;
    auto key = t.create("order-approve-1", 50'000);
    auto r = t.confirm(key, "order-approve-1", 50'000, "order-approve-1");
    expect_done(r, "order-approve-1", 50'000);
    EXPECT_EQ(r.payment->payment_key, key);
    EXPECT_EQ(r.payment->method, "카드");
    EXPECT_FALSE(r.payment->approved_at.empty());
}

TEST(toss_sandbox, decline_is_declined_with_the_card_company_code) {
    toss_loopback t;
    auto key = t.create("order-decline", 10'000, "decline");
    auto r = t.confirm(key, "order-decline", 10'000, "order-decline");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "REJECT_CARD_COMPANY");
    EXPECT_FALSE(r.message.empty());
    auto found = t.find_by_order("order-decline");
    expect_done(found, "order-decline", 10'000, payment_status::aborted);
}

TEST(toss_sandbox, a_server_error_is_unknown_and_nothing_is_captured) {
    toss_loopback t;
    auto key = t.create("order-error", 10'000, "error");
    auto r = t.confirm(key, "order-error", 10'000, "order-error");
    EXPECT_EQ(r.result, outcome::unknown);
    EXPECT_EQ(r.code, "FAILED_INTERNAL_SYSTEM_PROCESSING");
    expect_done(t.get(key), "order-error", 10'000, payment_status::ready);
}

TEST(toss_sandbox, a_timeout_is_unknown_but_the_payment_was_captured) {
    setup s;
    s.sandbox_timeout_delay = 3s;
    s.client_deadline = 500ms;
    toss_loopback t(s);
    auto key = t.create("order-timeout", 20'000, "timeout");
    const auto started = std::chrono::steady_clock::now();
    auto r = t.confirm(key, "order-timeout", 20'000, "order-timeout");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(r.result, outcome::unknown);
    EXPECT_EQ(r.code, "TIMEOUT");
    expect_done(t.find_by_order("order-timeout"), "order-timeout", 20'000);
}

TEST(toss_sandbox, a_wrong_secret_key_is_declined_unauthorized) {
    setup s;
    s.client_secret = "test_sk_wrong";
    toss_loopback t(s);
    auto key = t.create("order-key", 1'000);
    auto r = t.confirm(key, "order-key", 1'000, "order-key");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "UNAUTHORIZED_KEY");
}

TEST(toss_sandbox, another_amount_than_the_widget_was_given_is_declined) {
    toss_loopback t;
    auto key = t.create("order-amount", 30'000);
    auto r = t.confirm(key, "order-amount", 29'000, "order-amount");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "INVALID_REQUEST");
    expect_done(t.get(key), "order-amount", 30'000, payment_status::ready);
}

TEST(toss_sandbox, a_repeat_without_the_key_is_already_processed_and_settled_by_look_up) {
    toss_loopback t;
    auto key = t.create("order-repeat", 7'000);
    expect_done(t.confirm(key, "order-repeat", 7'000), "order-repeat", 7'000);
    auto [status, body] =
        t.raw(http::verb::post, "/v1/payments/confirm",
              {{"paymentKey", key}, {"orderId", "order-repeat"}, {"amount", 7'000}});
    EXPECT_EQ(status, 400);
    EXPECT_EQ(body.at("code").as_string(), "ALREADY_PROCESSED_PAYMENT");
    expect_done(t.confirm(key, "order-repeat", 7'000), "order-repeat", 7'000);
    // Already processed for another amount is not ours: it stays declined.
    auto other = t.confirm(key, "order-repeat", 7'001);
    EXPECT_EQ(other.result, outcome::declined);
}

TEST(toss_sandbox, a_repeat_with_the_same_key_gets_the_first_answer_again) {
    toss_loopback t;
    auto key = t.create("order-idem", 9'000);
    const json::object body{{"paymentKey", key}, {"orderId", "order-idem"}, {"amount", 9'000}};
    auto first =
        t.raw(http::verb::post, "/v1/payments/confirm", body, {{"Idempotency-Key", "k-1"}});
    auto again =
        t.raw(http::verb::post, "/v1/payments/confirm", body, {{"Idempotency-Key", "k-1"}});
    EXPECT_EQ(first.first, 200);
    EXPECT_EQ(again.first, 200);
    EXPECT_EQ(json::serialize(first.second), json::serialize(again.second));
    auto via_gateway = t.confirm(key, "order-idem", 9'000, "k-1");
    expect_done(via_gateway, "order-idem", 9'000);
    EXPECT_EQ(via_gateway.payment->approved_at,
              std::string(first.second.at("approvedAt").as_string()));
}

TEST(toss_sandbox, cancel_refunds_in_full_and_repeats_safely) {
    toss_loopback t;
    auto key = t.create("order-cancel", 12'000);
    expect_done(t.confirm(key, "order-cancel", 12'000, "order-cancel"), "order-cancel", 12'000);
    expect_done(t.cancel(key, "cancel-1"), "order-cancel", 12'000, payment_status::canceled);
    expect_done(t.cancel(key, "cancel-1"), "order-cancel", 12'000, payment_status::canceled);
    // A different key meets ALREADY_CANCELED_PAYMENT, which the look-up settles.
    expect_done(t.cancel(key, "cancel-2"), "order-cancel", 12'000, payment_status::canceled);
    auto [status, body] = t.raw(http::verb::get, "/v1/payments/" + key);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body.at("balanceAmount").as_int64(), 0);
    EXPECT_EQ(body.at("cancels").as_array().size(), 1u);
}

TEST(toss_sandbox, cancel_of_a_payment_never_captured_is_declined) {
    toss_loopback t;
    auto key = t.create("order-nocapture", 5'000);
    auto r = t.cancel(key, "cancel-x");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "NOT_CANCELABLE_PAYMENT");
}

TEST(toss_sandbox, an_unknown_order_is_declined_not_found) {
    toss_loopback t;
    auto r = t.find_by_order("order-nobody-made");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "NOT_FOUND_PAYMENT");
    EXPECT_EQ(t.get("tsbx-no-such-key").code, "NOT_FOUND_PAYMENT");
}

TEST(toss_sandbox, injected_5xx_is_unknown_and_the_next_confirm_decides) {
    toss_loopback t;
    auto key = t.create("order-5xx", 4'000);
    t.faults({{"confirm5xx", 1}});
    auto r = t.confirm(key, "order-5xx", 4'000, "order-5xx");
    EXPECT_EQ(r.result, outcome::unknown);
    expect_done(t.get(key), "order-5xx", 4'000, payment_status::ready);
    // The 5xx was no decision, so the same key may ask again and get one.
    expect_done(t.confirm(key, "order-5xx", 4'000, "order-5xx"), "order-5xx", 4'000);
}

TEST(toss_sandbox, a_dropped_answer_is_unknown_and_the_payment_is_captured) {
    toss_loopback t;
    auto key = t.create("order-drop", 6'000);
    // Two: the answer, and the one repeat the client makes on a fresh connection.
    t.faults({{"dropConfirmResponse", 2}});
    auto r = t.confirm(key, "order-drop", 6'000, "order-drop");
    EXPECT_EQ(r.result, outcome::unknown);
    t.faults({{"dropConfirmResponse", 0}});
    expect_done(t.find_by_order("order-drop"), "order-drop", 6'000);
    // Asked again with the same key, the sandbox gives the answer that was lost.
    expect_done(t.confirm(key, "order-drop", 6'000, "order-drop"), "order-drop", 6'000);
}

TEST(toss_sandbox, the_test_code_header_answers_that_error) {
    toss_loopback t;
    auto key = t.create("order-testcode", 3'000);
    auto r = t.confirm(key, "order-testcode", 3'000, "", "INVALID_STOPPED_CARD");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "INVALID_STOPPED_CARD");
    auto later = t.confirm(key, "order-testcode", 3'000, "", "PROVIDER_ERROR");
    EXPECT_EQ(later.result, outcome::unknown);
}

TEST(toss_sandbox, the_widget_checks_order_id_and_amount) {
    toss_loopback t;
    for (const char* bad : {"short", "has space in it", "ünïcode-order"}) {
        auto [status, body] =
            t.raw(http::verb::post, "/payments", {{"orderId", bad}, {"amount", 1000}});
        EXPECT_EQ(status, 400) << bad;
        EXPECT_EQ(body.at("code").as_string(), "INVALID_REQUEST");
    }
    auto [status, body] =
        t.raw(http::verb::post, "/payments", {{"orderId", "order-neg"}, {"amount", -1}});
    EXPECT_EQ(status, 400);
    auto key = t.create("order-dup", 1'000);
    expect_done(t.confirm(key, "order-dup", 1'000, "order-dup"), "order-dup", 1'000);
    auto dup = t.raw(http::verb::post, "/payments", {{"orderId", "order-dup"}, {"amount", 1000}});
    EXPECT_EQ(dup.first, 400);
    EXPECT_EQ(dup.second.at("code").as_string(), "DUPLICATED_ORDER_ID");
}

}  // namespace
}  // namespace tkt::payment

namespace tkt::payment {
namespace {

std::int64_t cancel_requests_of(toss_loopback& t, const std::string& key) {
    auto [status, body] = t.raw(http::verb::get, "/v1/payments/" + key);
    EXPECT_EQ(status, 200);
    return status == 200 ? body.at("sandbox").at("cancelRequests").as_int64() : -1;
}

std::string captured(toss_loopback& t, const std::string& order, std::int64_t amount) {
    auto key = t.create(order, amount);
    expect_done(t.confirm(key, order, amount, order), order, amount);
    return key;
}

TEST(toss_sandbox, a_cancel_5xx_is_unknown_and_the_same_key_then_refunds_once) {
    toss_loopback t;
    auto key = captured(t, "order-c5xx", 5'000);
    t.faults({{"cancel5xx", 1}});
    EXPECT_EQ(t.cancel(key, "refund-order-c5xx").result, outcome::unknown);
    expect_done(t.get(key), "order-c5xx", 5'000, payment_status::done);
    EXPECT_EQ(cancel_requests_of(t, key), 0) << "a fault decides nothing";
    expect_done(t.cancel(key, "refund-order-c5xx"), "order-c5xx", 5'000, payment_status::canceled);
    // A repeat with the key is the first answer again, not a second request.
    expect_done(t.cancel(key, "refund-order-c5xx"), "order-c5xx", 5'000, payment_status::canceled);
    EXPECT_EQ(cancel_requests_of(t, key), 1);
}

TEST(toss_sandbox, a_refused_cancel_is_declined_for_good) {
    toss_loopback t;
    auto key = captured(t, "order-refuse", 5'000);
    t.faults({{"cancelRefuse", 1}});
    auto r = t.cancel(key, "refund-order-refuse");
    EXPECT_EQ(r.result, outcome::declined);
    EXPECT_EQ(r.code, "NOT_CANCELABLE_PAYMENT");
    expect_done(t.get(key), "order-refuse", 5'000, payment_status::done);
}

TEST(toss_sandbox, a_dropped_cancel_answer_is_unknown_and_the_payment_is_cancelled) {
    toss_loopback t;
    auto key = captured(t, "order-cdrop", 5'000);
    t.faults({{"dropCancelResponse", 2}});
    EXPECT_EQ(t.cancel(key, "refund-order-cdrop").result, outcome::unknown);
    t.faults({{"dropCancelResponse", 0}});
    expect_done(t.get(key), "order-cdrop", 5'000, payment_status::canceled);
    expect_done(t.cancel(key, "refund-order-cdrop"), "order-cdrop", 5'000,
                payment_status::canceled);
    EXPECT_EQ(cancel_requests_of(t, key), 1);
}

TEST(toss_sandbox, an_outage_answers_every_call_unknown_and_changes_nothing) {
    toss_loopback t;
    auto key = captured(t, "order-outage", 5'000);
    auto ready = t.create("order-outage-2", 7'000);
    t.faults({{"outage", 1}});
    EXPECT_EQ(t.get(key).result, outcome::unknown);
    EXPECT_EQ(t.find_by_order("order-outage").result, outcome::unknown);
    EXPECT_EQ(t.cancel(key, "refund-order-outage").result, outcome::unknown);
    EXPECT_EQ(t.confirm(ready, "order-outage-2", 7'000, "order-outage-2").result, outcome::unknown);
    t.faults({{"outage", 0}});
    expect_done(t.get(key), "order-outage", 5'000, payment_status::done);
    expect_done(t.get(ready), "order-outage-2", 7'000, payment_status::ready);
    EXPECT_EQ(cancel_requests_of(t, key), 0);
}

TEST(toss_sandbox, faults_are_non_negative_integers) {
    toss_loopback t;
    auto [status, body] = t.raw(http::verb::post, "/sandbox/faults", {{"outage", -1}});
    EXPECT_EQ(status, 400);
    auto [ok, now] = t.raw(http::verb::post, "/sandbox/faults", {{"cancelRefuse", 2}});
    EXPECT_EQ(ok, 200);
    EXPECT_EQ(now.at("cancelRefuse").as_int64(), 2);
    EXPECT_EQ(now.at("outage").as_int64(), 0);
}

}  // namespace
}  // namespace tkt::payment
