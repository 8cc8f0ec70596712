#pragma once
// The HTTP face of social login (issue 15, DESIGN.md §7):
//   GET /api/v1/auth/oauth2                      the configured providers, for the login page's
//                                                buttons: {"providers":[{"name","openid"}]}
//   GET /api/v1/auth/oauth2/{provider}           302 to the provider, with the binding cookie
//   GET /api/v1/auth/oauth2/{provider}/callback  302 to the web UI with the tokens in the
//                                                fragment, or 200 JSON when the client sends
//                                                `Accept: application/json`
// The last two are rate limited as `auth`. Every failure is a problem+json answer, except a
// failed callback without `Accept: application/json` (a browser coming back from the provider):
// it goes to the web UI too, with `#error=<CODE>&status=<status>&detail=<detail>` instead of
// the tokens, so that the person reads what happened on a page rather than a JSON document.
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "auth/oauth_service.hpp"
#include "http/router.hpp"

namespace tkt::auth::oauth {

struct route_options {
    // Where a browser goes after signing in (the tokens are added as its fragment).
    std::string web_redirect;
};

// The body of GET /api/v1/auth/oauth2: the providers' names in configuration order, and whether
// each is OpenID Connect. Nothing secret (no client id, no endpoint) leaves the server.
boost::json::value provider_list_json(const std::vector<provider>& providers);

// `svc` must outlive the router.
void register_routes(http::router& router, service& svc, route_options options);

}  // namespace tkt::auth::oauth
