#pragma once
// The `PaymentGateway` port: confirm, look up and cancel payments at the provider (Toss
// Payments, or the project's Toss sandbox, which speaks the same API). DESIGN.md §5, §7.
//
// Every call has a deadline and never throws for a remote failure: an answer that does not come,
// or a 5xx, is `outcome::unknown` — the caller must not assume either way and asks again later
// (the reconciler). Only calls that are safe to repeat are retried inside the client (look-ups;
// confirm and cancel always carry an Idempotency-Key, so repeating them is safe too).
// Safe to call from any thread concurrently.
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

namespace tkt::payment {

// The provider's payment status (Toss: READY, IN_PROGRESS, WAITING_FOR_DEPOSIT, DONE, CANCELED,
// PARTIAL_CANCELED, ABORTED, EXPIRED).
enum class payment_status {
    ready,
    in_progress,
    done,
    canceled,
    partial_canceled,
    aborted,
    expired,
    other
};

struct payment_record {
    std::string payment_key;
    std::string order_id;
    std::int64_t total_amount = 0;
    payment_status status = payment_status::other;
    std::string method;       // e.g. "카드"
    std::string approved_at;  // RFC 3339, when DONE
};

// What the provider decided.
enum class outcome {
    done,      // captured (confirm) / cancelled (cancel) / found (look-up)
    declined,  // refused for good (card declined, bad amount, unknown payment...)
    unknown,   // timeout, 5xx, connection failure: ask again later
};

struct gateway_result {
    outcome result = outcome::unknown;
    std::optional<payment_record> payment;  // with done
    std::string code;  // the provider's error code, e.g. "REJECT_CARD_COMPANY", "NOT_FOUND_PAYMENT"
    std::string message;  // the provider's message, for logs and the user
};

struct confirm_request {
    std::string payment_key;
    std::string order_id;
    std::int64_t amount = 0;
    std::string idempotency_key;
    // Toss test mode only: `TossPayments-Test-Code` header (e.g. "REJECT_CARD_COMPANY").
    std::string test_code;
};

struct cancel_request {
    std::string payment_key;
    std::string reason;
    std::string idempotency_key;
};

class gateway {
public:
    virtual ~gateway() = default;
    virtual boost::asio::awaitable<gateway_result> confirm(confirm_request r) = 0;
    virtual boost::asio::awaitable<gateway_result> cancel(cancel_request r) = 0;
    // GET /v1/payments/{paymentKey}
    virtual boost::asio::awaitable<gateway_result> get(std::string payment_key) = 0;
    // GET /v1/payments/orders/{orderId}: `declined` with code NOT_FOUND_PAYMENT when no payment.
    virtual boost::asio::awaitable<gateway_result> find_by_order(std::string order_id) = 0;
};

}  // namespace tkt::payment
