#pragma once
// HTTP routes of holds, orders and payments (DESIGN.md §7).
#include "auth/service.hpp"
#include "booking/service.hpp"
#include "http/router.hpp"

namespace tkt::booking {

void register_routes(http::router& router, service& svc, auth::service& auth);

}  // namespace tkt::booking
