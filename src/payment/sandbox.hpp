#pragma once
// The Toss sandbox (DESIGN.md §7): a stand-in for Toss Payments that speaks the real API's paths
// and JSON shapes, so the Toss client is exercised over real HTTP in development and tests.
//
// Routes, all under `prefix` ("" when run alone by `ticketon toss-sandbox`, "/sandbox/toss" when
// mounted in the api role):
//   POST /payments {orderId, amount, orderName?, outcome?}  → 201 {paymentKey, orderId, amount,
//        status:"READY"}. Stands in for the browser widget. outcome: approve (default), decline,
//        error or timeout decides what the later confirm does. orderId: 6–64 of [A-Za-z0-9_-].
//   POST /v1/payments/confirm {paymentKey, orderId, amount}             → 200 Payment
//   POST /v1/payments/{paymentKey}/cancel {cancelReason, cancelAmount?} → 200 Payment (CANCELED)
//   GET  /v1/payments/{paymentKey}                                      → 200 Payment
//   GET  /v1/payments/orders/{orderId}                                  → 200 Payment
//   POST /sandbox/faults {confirmDelayMs?, confirm5xx?, dropConfirmResponse?} → 200 the faults now
// The /v1 routes want `Authorization: Basic base64(secretKey + ":")`, else 401 UNAUTHORIZED_KEY.
// Errors are Toss's {code, message} with Toss's status codes.
//
// Confirm, in order: a repeat with an Idempotency-Key seen before gets the first answer again
// (immediately); `TossPayments-Test-Code: <CODE>` answers that error; unknown paymentKey → 404
// NOT_FOUND_PAYMENT; another orderId or amount than at creation → 400 INVALID_REQUEST; already
// DONE or CANCELED → 400 ALREADY_PROCESSED_PAYMENT; then the outcome: approve → DONE;
// decline → 403 REJECT_CARD_COMPANY (status ABORTED); error → 500
// FAILED_INTERNAL_SYSTEM_PROCESSING (nothing changes); timeout → DONE, but the answer comes only
// after `timeout_delay`, longer than any client waits.
//
// Faults (for tests; no authentication — the sandbox holds no real money). Each field is
// optional and replaces only its own setting:
//   confirmDelayMs: n       every confirm answer waits n ms more (0 turns it off)
//   confirm5xx: n           the next n confirms answer 500 FAILED_INTERNAL_SYSTEM_PROCESSING
//                           without capturing
//   dropConfirmResponse: n  the next n confirm answers that carry a captured payment (DONE),
//                           first answers and repeats by Idempotency-Key alike, are lost: the
//                           server closes the connection without a byte of the answer
//                           (http::response::hang_up), as when a network drops it. Our client
//                           repeats a keyed request once when a kept-alive connection closes
//                           unanswered, so 2 loses the answer for good whatever the connection.
//   cancel5xx: n            the next n cancels answer 500 without cancelling
//   cancelRefuse: n         the next n cancels are refused for good: 403 NOT_CANCELABLE_PAYMENT
//   dropCancelResponse: n   the next n cancel answers that carry a cancelled payment are lost
//                           (first answers and repeats alike), as dropConfirmResponse
//   outage: 1 | 0           while 1, every /v1 call answers 500 FAILED_INTERNAL_SYSTEM_PROCESSING
//                           and changes nothing: Toss is down
// A payment's JSON carries `sandbox.cancelRequests`: the cancel requests that reached it and
// were decided (not replays of a first answer by Idempotency-Key, not answered by a fault), so
// tests can tell that a refund was asked for once.
//
// The `sandbox` class is sans-io: every call takes the request's parts and the time, and returns
// the reply with its delay; register_sandbox_routes() carries delays out on asio timers, never
// blocking an I/O thread. State is in memory under one mutex; any thread may call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

namespace tkt::http {
class router;
}

namespace tkt::payment {

enum class sandbox_outcome { approve, decline, error, timeout };

struct sandbox_options {
    // How long a confirm whose outcome is `timeout` waits before answering.
    std::chrono::milliseconds timeout_delay{30'000};
    // Memory bound: POST /payments is refused (400 INVALID_REQUEST) beyond this many payments,
    // and at most twice as many first answers are kept for Idempotency-Key replays.
    std::size_t max_payments = 200'000;
};

struct sandbox_faults {
    std::int64_t confirm_delay_ms = 0;
    std::int64_t confirm_5xx = 0;
    std::int64_t drop_confirm_response = 0;
    std::int64_t cancel_5xx = 0;
    std::int64_t cancel_refuse = 0;
    std::int64_t drop_cancel_response = 0;
    std::int64_t outage = 0;
};

// How a reply reaches the client.
enum class delivery { answer, drop };

struct sandbox_reply {
    int status = 200;
    boost::json::value body;
    std::chrono::milliseconds delay{0};
    delivery how = delivery::answer;
};

class sandbox {
public:
    using time_point = std::chrono::system_clock::time_point;

    explicit sandbox(sandbox_options options = {});

    // POST /payments (the widget's part).
    sandbox_reply create(std::string_view body, time_point now);
    // POST /v1/payments/confirm. `idempotency_key` and `test_code` are "" when absent.
    sandbox_reply confirm(std::string_view body, std::string_view idempotency_key,
                          std::string_view test_code, time_point now);
    // POST /v1/payments/{paymentKey}/cancel
    sandbox_reply cancel(std::string_view payment_key, std::string_view body,
                         std::string_view idempotency_key, time_point now);
    // GET /v1/payments/{paymentKey}
    sandbox_reply get(std::string_view payment_key) const;
    // GET /v1/payments/orders/{orderId}
    sandbox_reply find_by_order(std::string_view order_id) const;
    // POST /sandbox/faults
    sandbox_reply set_faults(std::string_view body);
    sandbox_faults faults() const;

private:
    struct cancel_entry {
        std::string transaction_key;
        std::string reason;
        std::int64_t amount = 0;
        std::string canceled_at;
    };
    struct payment {
        std::string payment_key;
        std::string order_id;
        std::string order_name;
        std::int64_t amount = 0;
        std::int64_t balance = 0;
        sandbox_outcome outcome = sandbox_outcome::approve;
        std::string status = "READY";
        std::string requested_at;
        std::string approved_at;
        std::string last_transaction_key;
        std::vector<cancel_entry> cancels;
        std::int64_t cancel_requests = 0;
    };

    static boost::json::value to_json(const payment& p);
    sandbox_reply decide_confirm(payment& p, time_point now);
    sandbox_reply decide_cancel(payment& p, std::int64_t amount_asked, std::string reason,
                                time_point now);
    void remember(std::string key, const sandbox_reply& reply);

    sandbox_options options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, payment> payments_;           // by paymentKey
    std::unordered_map<std::string, std::string> order_payment_;  // orderId → paymentKey
    // First answers by "<api>:<Idempotency-Key>", replayed on a repeat.
    std::map<std::string, sandbox_reply, std::less<>> replies_;
    sandbox_faults faults_;
};

// Serves `box` under `prefix` (no trailing slash). `secret_key` is what clients must present.
void register_sandbox_routes(http::router& routes, sandbox& box, std::string prefix,
                             std::string secret_key);

// "Basic base64(secret_key + ":")", the Authorization value Toss expects.
std::string toss_authorization(std::string_view secret_key);

}  // namespace tkt::payment
