#pragma once
// `toss_gateway`: the payment gateway port (payment/gateway.hpp) over the Toss Payments REST API
// v1, spoken through http::client — to api.tosspayments.com or to the project's Toss sandbox,
// which serves the same paths.
//
// How answers map to outcomes:
//   200                                         → done, with the Payment read into payment_record
//       (a confirm answered with a payment that is not DONE, e.g. awaiting a deposit → unknown)
//   4xx with a Toss error {code, message}       → declined, code and message kept — except the
//       codes Toss uses for "try again" (PROVIDER_ERROR, FAILED_INTERNAL_SYSTEM_PROCESSING,
//       UNKNOWN_PAYMENT_ERROR, ...) and 409/429, which are unknown
//   5xx, timeout, broken connection, unreadable answer → unknown
// Retries stay inside each call's deadline (toss_options::deadline): look-ups (GET) up to two
// more times with a short backoff; confirm and cancel once more only when the connection failed
// before any byte was sent, with the same Idempotency-Key. A confirm answered
// ALREADY_PROCESSED_PAYMENT (a repeat without the first key) is settled by looking the payment
// up: done if it is DONE for the same order and amount. Cancel treats ALREADY_CANCELED_PAYMENT
// the same way.
//
// Thread safety: as the client; any number of calls at once from any thread. The http::client
// must outlive the gateway.
#include <chrono>
#include <string>

#include "payment/gateway.hpp"

namespace tkt::http {
class client;
}

namespace tkt::payment {

struct toss_options {
    std::string base_url = "https://api.tosspayments.com";  // no trailing slash needed
    std::string secret_key;
    // The whole call, retries and the look-up after ALREADY_PROCESSED_PAYMENT included.
    std::chrono::milliseconds deadline{5000};
    // Before the first retry; doubled before the second.
    std::chrono::milliseconds backoff{100};
};

class toss_gateway final : public gateway {
public:
    toss_gateway(http::client& client, toss_options options);

    boost::asio::awaitable<gateway_result> confirm(confirm_request r) override;
    boost::asio::awaitable<gateway_result> cancel(cancel_request r) override;
    boost::asio::awaitable<gateway_result> get(std::string payment_key) override;
    boost::asio::awaitable<gateway_result> find_by_order(std::string order_id) override;

private:
    struct call;
    boost::asio::awaitable<gateway_result> send(call c);
    boost::asio::awaitable<gateway_result> look_up(std::string path,
                                                   std::chrono::steady_clock::time_point deadline);

    http::client& client_;
    toss_options options_;
    std::string authorization_;
};

// Toss's status text → payment_status ("DONE" → done; anything unknown → other).
payment_status parse_payment_status(std::string_view text);

}  // namespace tkt::payment
