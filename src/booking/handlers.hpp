#pragma once
// HTTP routes of holds, orders and payments (DESIGN.md §7).
#include "auth/service.hpp"
#include "booking/service.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"

namespace tkt::booking {

// `webhook_limit` is shared by every caller of POST /payments/webhook; it must outlive the
// router.
void register_routes(http::router& router, service& svc, auth::service& auth,
                     http::rate_limiter& webhook_limit);

}  // namespace tkt::booking
