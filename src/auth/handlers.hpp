#pragma once
// The HTTP face of the auth module (DESIGN.md §7): request JSON in, service call, JSON or
// problem+json out. No rules live here beyond reading the body and the query.
#include "auth/service.hpp"
#include "http/router.hpp"

namespace tkt::auth {

// Registers, under /api/v1:
//   POST /auth/signup, /auth/login, /auth/refresh   (rate limited as `auth`)
//   POST /auth/logout
//   GET, PATCH, DELETE /me
//   GET /admin/users, PATCH /admin/users/{id}
// `svc` must outlive the router.
void register_routes(http::router& router, service& svc);

// {user, accessToken, refreshToken, expiresIn}: what sign-up, login, refresh and a social login
// answer.
boost::json::object session_json(const session& s);

}  // namespace tkt::auth
