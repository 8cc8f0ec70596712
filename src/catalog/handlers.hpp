#pragma once
// The HTTP face of the catalog (DESIGN.md §7 event rows): request in, service call, JSON or
// problem+json out. Reading query strings and bodies, visibility of DRAFTs and the seat map's
// conditional GET live here; the rules live in the service.
#include "auth/service.hpp"
#include "catalog/seat_feed.hpp"
#include "catalog/seat_map.hpp"
#include "catalog/service.hpp"
#include "http/router.hpp"

namespace tkt::catalog {

// Registers, under /api/v1:
//   POST  /events                 MANAGER or ADMIN → 201 event
//   GET   /events                 anyone (a token lets managers see their own DRAFTs)
//   GET   /events/{id}            anyone; a DRAFT is 404 except to its manager and ADMIN
//   PATCH /events/{id}            its MANAGER or ADMIN
//   GET   /events/{id}/seats      anyone; ETag "<id>-<version>", If-None-Match → 304
//   GET   /events/{id}/seats/stream  anyone; SSE deltas from ?since= (or Last-Event-ID), see
//                                    seat_feed.hpp
//   GET   /manager/events         MANAGER or ADMIN
// Every argument must outlive the router.
// `feed` serves GET /events/{id}/seats/stream (none: 404).
void register_routes(http::router& router, service& svc, seat_map& seats, auth::service& auth,
                     seat_feed* feed = nullptr);

}  // namespace tkt::catalog
