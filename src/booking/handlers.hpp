#pragma once
// HTTP routes of holds, orders and payments (DESIGN.md §7).
#include <cstdint>
#include <functional>
#include <string>

#include "auth/service.hpp"
#include "booking/service.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"

namespace tkt::booking {

// What POST /events/{id}/holds asks before holding and tells after (the waiting room's entry
// check, wired by the app so that booking knows no waiting room). `check` gets the Queue-Token
// header and answers a ticket to pass to `used`, or the problem to answer instead.
struct hold_gate {
    std::function<boost::asio::awaitable<result<std::int64_t>>(auth::principal, std::int64_t event,
                                                               std::string queue_token)>
        check;
    std::function<boost::asio::awaitable<void>(auth::principal, std::int64_t event,
                                               std::int64_t ticket, std::string hold_id)>
        used;
};

// `webhook_limit` is shared by every caller of POST /payments/webhook; it must outlive the
// router.
// `gate` (optional) must outlive the router too.
void register_routes(http::router& router, service& svc, auth::service& auth,
                     http::rate_limiter& webhook_limit, const hold_gate* gate = nullptr);

}  // namespace tkt::booking
