#pragma once
// HTTP routes of the waiting room (DESIGN.md §7), under /api/v1:
// - POST /events/{id}/queue (user): join → 200 {status, seq, position, etaSeconds,
//   entryToken?, expiresAt?}; GET the same for polling (404 when not in the line); DELETE
//   → 204, out of the line (an entry held is given back).
// - GET /events/{id}/queue/stream (user; Authorization or ?access_token=): SSE `position`
//   {position, etaSeconds} at most once a second, `admitted` {seq, entryToken, expiresAt}.
// - GET /manager/events/{id}/queue (its MANAGER or ADMIN): the room's counters and its
//   invariants checked now {…, violations: []}.
#include "auth/service.hpp"
#include "http/router.hpp"
#include "waiting_room/queue_feed.hpp"
#include "waiting_room/service.hpp"

namespace tkt::waiting_room {

// `feed` (and the objects passed) must outlive the router.
void register_routes(http::router& router, service& svc, auth::service& auth, queue_feed& feed);

}  // namespace tkt::waiting_room
