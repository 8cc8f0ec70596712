#include "auth/oauth_handlers.hpp"

#include <memory>

#include <fmt/core.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "auth/handlers.hpp"

namespace tkt::auth::oauth {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

cookie_security security_of(const service& svc) {
    return svc.options().public_url.starts_with("https://") ? cookie_security::secure
                                                            : cookie_security::plain;
}

response redirect(std::string location) {
    response r;
    r.status = 302;
    r.content_type = "text/plain";
    r.with_header("Location", std::move(location));
    // Neither the way out nor the way back may be replayed from a cache.
    r.with_header("Cache-Control", "no-store");
    return r;
}

bool wants_json(const request& req) {
    return req.header("Accept").find("application/json") != std::string_view::npos;
}

awaitable<response> start(service& svc, request& req) {
    // One binding per browser, kept while it lasts, so two sign-ins started side by side in
    // two tabs both come back to it.
    auto binding = binding_of(req.header("Cookie"));
    if (binding.empty()) binding = new_binding();
    auto op = svc.start(std::string(req.param("provider")), binding);
    auto answer = co_await std::move(op);
    if (!answer) co_return http::problem_response(answer.error());
    auto r = redirect(std::move(answer->location));
    r.with_header("Set-Cookie", binding_set_cookie(binding, security_of(svc)));
    co_return r;
}

std::string fragment_of(const session& s) {
    return fmt::format("accessToken={}&refreshToken={}&expiresIn={}&tokenType=Bearer",
                       form_encode(s.access_token), form_encode(s.refresh_token), s.expires_in);
}

// `options` is shared with the route's closure, which the router may copy or drop while this
// coroutine waits: the frame keeps its own reference.
awaitable<response> callback(service& svc, std::shared_ptr<const route_options> options,
                             request& req) {
    callback_params params{.provider = std::string(req.param("provider")),
                           .code = req.query_param("code").value_or(""),
                           .state = req.query_param("state").value_or(""),
                           .error = req.query_param("error").value_or(""),
                           .binding = binding_of(req.header("Cookie"))};
    auto op = svc.finish(std::move(params));
    auto s = co_await std::move(op);
    if (!s && wants_json(req)) co_return http::problem_response(s.error());
    if (!s) {
        // A browser goes back to the web UI all the same, which says what went wrong.
        const auto& p = s.error();
        co_return redirect(fmt::format("{}#error={}&status={}&detail={}", options->web_redirect,
                                       name_of(p.code), p.status(), form_encode(p.detail)));
    }
    if (wants_json(req)) {
        auto r = http::json_response(200, session_json(*s));
        r.with_header("Cache-Control", "no-store");
        co_return r;
    }
    co_return redirect(fmt::format("{}#{}", options->web_redirect, fragment_of(*s)));
}

awaitable<response> list(const service& svc) {
    co_return http::json_response(200, provider_list_json(svc.options().providers));
}

}  // namespace

boost::json::value provider_list_json(const std::vector<provider>& providers) {
    boost::json::array items;
    for (const auto& p : providers) items.push_back({{"name", p.name}, {"openid", p.oidc()}});
    return boost::json::object{{"providers", std::move(items)}};
}

void register_routes(http::router& router, service& svc, route_options options) {
    const http::route_options limited{.rate_limit = http::rate_limit_class::auth};
    router.add(http::verb::get, "/api/v1/auth/oauth2", [&svc](request&) { return list(svc); });
    router.add(
        http::verb::get, "/api/v1/auth/oauth2/{provider}",
        [&svc](request& req) { return start(svc, req); }, limited);
    // The closure only forwards; each call's coroutine frame holds the options itself.
    auto held = std::make_shared<const route_options>(std::move(options));
    router.add(
        http::verb::get, "/api/v1/auth/oauth2/{provider}/callback",
        [&svc, held](request& req) { return callback(svc, held, req); }, limited);
}

}  // namespace tkt::auth::oauth
