#include "auth/handlers.hpp"

#include <charconv>
#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/json_body.hpp"

namespace tkt::auth {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

boost::json::object user_json(const user& u) {
    return {{"id", u.id},
            {"email", u.email},
            {"name", u.name},
            {"role", to_string(u.role)},
            {"createdAt", u.created_at}};
}

// The admin's view adds what only an admin acts on.
boost::json::object admin_user_json(const user& u, std::int64_t now) {
    auto o = user_json(u);
    o["status"] = to_string(u.status);
    o["locked"] = u.locked_at(now);
    return o;
}

response session_response(int status, const session& s) {
    return http::json_response(status, session_json(s));
}

// Calls whose arguments own memory are started in one statement and awaited in the next: g++ 12
// destroys a by-value coroutine argument twice when the call sits inside the co_await
// expression itself.

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || p != end) return std::nullopt;
    return v;
}

// A query parameter that must be an integer when present.
result<std::int64_t> int_query(const request& req, std::string_view name, std::int64_t fallback) {
    const auto text = req.query_param(name);
    if (!text) return fallback;
    const auto v = parse_int(*text);
    if (!v) return std::unexpected(validation_error(std::string{name}, "must be an integer"));
    return *v;
}

awaitable<response> signup(service& svc, request& req) {
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto email = body->required_string("email");
    if (!email) co_return fail(email);
    auto password = body->required_string("password");
    if (!password) co_return fail(password);
    auto name = body->required_string("name");
    if (!name) co_return fail(name);
    signup_request request{std::move(*email), std::move(*password), std::move(*name)};
    auto op = svc.signup(std::move(request));
    auto s = co_await std::move(op);
    if (!s) co_return fail(s);
    co_return session_response(201, *s);
}

awaitable<response> login(service& svc, request& req) {
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto email = body->required_string("email");
    if (!email) co_return fail(email);
    auto password = body->required_string("password");
    if (!password) co_return fail(password);
    auto op = svc.login(std::move(*email), std::move(*password));
    auto s = co_await std::move(op);
    if (!s) co_return fail(s);
    co_return session_response(200, *s);
}

awaitable<response> refresh(service& svc, request& req) {
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto token = body->required_string("refreshToken");
    if (!token) co_return fail(token);
    auto op = svc.refresh(std::move(*token));
    auto s = co_await std::move(op);
    if (!s) co_return fail(s);
    co_return session_response(200, *s);
}

awaitable<response> logout(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::user);
    if (!who) co_return fail(who);
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto token = body->required_string("refreshToken");
    if (!token) co_return fail(token);
    auto op = svc.logout(*who, std::move(*token));
    auto done = co_await std::move(op);
    if (!done) co_return fail(done);
    co_return http::no_content();
}

awaitable<response> get_me(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::user);
    if (!who) co_return fail(who);
    auto u = co_await svc.me(*who);
    if (!u) co_return fail(u);
    co_return http::json_response(200, user_json(*u));
}

awaitable<response> patch_me(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::user);
    if (!who) co_return fail(who);
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto name = body->optional_string("name");
    if (!name) co_return fail(name);
    auto password = body->optional_string("password");
    if (!password) co_return fail(password);
    auto current = body->optional_string("currentPassword");
    if (!current) co_return fail(current);
    profile_update update{std::move(*name), std::move(*password), std::move(*current)};
    auto op = svc.update_me(*who, std::move(update));
    auto u = co_await std::move(op);
    if (!u) co_return fail(u);
    co_return http::json_response(200, user_json(*u));
}

awaitable<response> delete_me(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::user);
    if (!who) co_return fail(who);
    auto done = co_await svc.delete_me(*who);
    if (!done) co_return fail(done);
    co_return http::no_content();
}

awaitable<response> list_users(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::admin);
    if (!who) co_return fail(who);
    auto page = int_query(req, "page", 0);
    if (!page) co_return fail(page);
    auto size = int_query(req, "size", 20);
    if (!size) co_return fail(size);
    const user_list_query query{
        .q = req.query_param("q").value_or(std::string{}), .page = *page, .size = *size};
    auto op = svc.list_users(query);
    auto list = co_await std::move(op);
    if (!list) co_return fail(list);
    const auto now = svc.now_unix();
    boost::json::array items;
    for (const auto& u : list->items) items.push_back(admin_user_json(u, now));
    co_return http::json_response(200, boost::json::object{{"items", std::move(items)},
                                                           {"page", query.page},
                                                           {"size", query.size},
                                                           {"total", list->total}});
}

result<admin_user_update> read_admin_update(const json_body& body) {
    auto role_text = body.optional_string("role");
    if (!role_text) return std::unexpected(std::move(role_text.error()));
    auto disabled = body.optional_bool("disabled");
    if (!disabled) return std::unexpected(std::move(disabled.error()));
    auto locked = body.optional_bool("locked");
    if (!locked) return std::unexpected(std::move(locked.error()));
    admin_user_update update{.role = std::nullopt, .disabled = *disabled, .locked = *locked};
    if (*role_text) {
        update.role = parse_role(**role_text);
        if (!update.role)
            return std::unexpected(validation_error("role", "must be USER, MANAGER or ADMIN"));
    }
    return update;
}

awaitable<response> patch_user(service& svc, request& req) {
    auto who = co_await svc.authenticate(req, role::admin);
    if (!who) co_return fail(who);
    // A path that is not a user id names no user.
    const auto id = parse_int(req.param("id"));
    if (!id)
        co_return http::problem_response(make_problem(problem_code::not_found, "user not found"));
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto update = read_admin_update(*body);
    if (!update) co_return fail(update);
    auto u = co_await svc.update_user(*id, *update);
    if (!u) co_return fail(u);
    co_return http::json_response(200, admin_user_json(*u, svc.now_unix()));
}

using route_fn = awaitable<response> (*)(service&, request&);

// The closure only forwards: the coroutine's state lives in its own frame, which holds the
// service and request references, never in a closure the router might copy.
http::handler bind(service& svc, route_fn fn) {
    return [&svc, fn](request& req) { return fn(svc, req); };
}

}  // namespace

boost::json::object session_json(const session& s) {
    return boost::json::object{{"user", user_json(s.account)},
                               {"accessToken", s.access_token},
                               {"refreshToken", s.refresh_token},
                               {"expiresIn", s.expires_in}};
}

void register_routes(http::router& router, service& svc) {
    const http::route_options limited{.rate_limit = http::rate_limit_class::auth};
    router.add(http::verb::post, "/api/v1/auth/signup", bind(svc, signup), limited);
    router.add(http::verb::post, "/api/v1/auth/login", bind(svc, login), limited);
    router.add(http::verb::post, "/api/v1/auth/refresh", bind(svc, refresh), limited);
    router.add(http::verb::post, "/api/v1/auth/logout", bind(svc, logout));
    router.add(http::verb::get, "/api/v1/me", bind(svc, get_me));
    router.add(http::verb::patch, "/api/v1/me", bind(svc, patch_me));
    router.add(http::verb::delete_, "/api/v1/me", bind(svc, delete_me));
    router.add(http::verb::get, "/api/v1/admin/users", bind(svc, list_users));
    router.add(http::verb::patch, "/api/v1/admin/users/{id}", bind(svc, patch_user));
}

}  // namespace tkt::auth
