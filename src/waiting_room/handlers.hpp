#pragma once
// HTTP routes of the waiting room (DESIGN.md §7):
//   POST   /events/{id}/queue   user → 200 {status, seq, position, etaSeconds, entryToken?,
//   expiresAt?} GET    /events/{id}/queue   user → the same, for polling (404 when not in the
//   queue) DELETE /events/{id}/queue   user → 204, out of the line (a held slot is given back)
#include "auth/service.hpp"
#include "http/router.hpp"
#include "waiting_room/queue_feed.hpp"
#include "waiting_room/service.hpp"

namespace tkt::waiting_room {

// `feed` (and the objects passed) must outlive the router.
void register_routes(http::router& router, service& svc, auth::service& auth, queue_feed& feed);

}  // namespace tkt::waiting_room
