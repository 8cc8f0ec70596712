#pragma once
// The HTTP face of tickets and check-in (DESIGN.md §7): authenticate, call tickets_service,
// answer JSON, SVG or problem+json. No rules live here beyond reading the request.
#include "auth/service.hpp"
#include "booking/tickets_service.hpp"
#include "http/router.hpp"

namespace tkt::booking {

// Registers, under /api/v1:
//   GET  /tickets               the caller's tickets, newest first → {items: [ticket]}
//   GET  /tickets/{id}          one of the caller's tickets (404 for anyone else's)
//   GET  /tickets/{id}/qr.svg   its QR code, image/svg+xml
//   POST /checkin {code}        MANAGER of the event or ADMIN → {admitted, ticket, usedAt}
// `tickets` and `auth` must outlive the router.
void register_ticket_routes(http::router& router, tickets_service& tickets, auth::service& auth);

}  // namespace tkt::booking
