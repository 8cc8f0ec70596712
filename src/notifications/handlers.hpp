#pragma once
// The notification routes (DESIGN.md §7, issue 12):
//   GET    /notifications              user; ?unread=true&limit=1..100&before=<id> →
//                                      {items, unreadCount, nextBefore}
//   POST   /notifications/{id}/read    user; → 204 (another user's: 404)
//   POST   /notifications/read-all     user; → 204
//   DELETE /notifications/{id}         user; → 204 (another user's: 404)
//   DELETE /notifications              user; → 204
//   POST   /notifications              MANAGER, ADMIN; {userId | eventId, title, body} → 202
//                                      {noticeId, eventId, userId, recipients}
//   GET    /notifications/stream       user (Authorization or ?access_token=); SSE, see feed.hpp
#include "auth/service.hpp"
#include "http/router.hpp"
#include "notifications/feed.hpp"
#include "notifications/service.hpp"

namespace tkt::notifications {

void register_routes(http::router& router, service& svc, auth::service& auth, feed& stream_feed);

}  // namespace tkt::notifications
