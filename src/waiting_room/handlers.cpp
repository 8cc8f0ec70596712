#include "waiting_room/handlers.hpp"

#include <charconv>
#include <optional>

#include "common/ids.hpp"

namespace tkt::waiting_room {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

struct context {
    service& svc;
    auth::service& auth;
    queue_feed& feed;
};

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

response no_event() {
    return http::problem_response(make_problem(problem_code::not_found, "no such event"));
}

awaitable<response> join(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id) co_return no_event();
    auto view = co_await ctx.svc.join(*who, *event_id);
    if (!view) co_return fail(view);
    co_return http::json_response(200, to_json(*view));
}

awaitable<response> look(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id) co_return no_event();
    auto view = co_await ctx.svc.status(*who, *event_id);
    if (!view) co_return fail(view);
    co_return http::json_response(200, to_json(*view));
}

awaitable<response> leave(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id) co_return no_event();
    auto left = co_await ctx.svc.leave(*who, *event_id);
    if (!left) co_return fail(left);
    co_return http::no_content();
}

awaitable<response> manager_report(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id) co_return no_event();
    auto r = co_await ctx.svc.report(*who, *event_id);
    if (!r) co_return fail(r);
    co_return http::json_response(200, to_json(*r));
}

awaitable<response> stream(context ctx, request& req) {
    // EventSource cannot set headers: the access token may come in the URL here (and only on
    // the stream routes).
    auto who =
        co_await ctx.auth.authenticate(req, auth::role::user, auth::token_source::header_or_query);
    if (!who) co_return fail(who);
    auto event_id = parse_id(req.param("id"));
    if (!event_id) co_return no_event();
    co_return co_await ctx.feed.open(*who, *event_id);
}

using route_fn = awaitable<response> (*)(context, request&);

http::handler bind(context ctx, route_fn fn) {
    return [ctx, fn](request& req) { return fn(ctx, req); };
}

}  // namespace

void register_routes(http::router& router, service& svc, auth::service& auth, queue_feed& feed) {
    const context ctx{svc, auth, feed};
    router.add(http::verb::post, "/api/v1/events/{id}/queue", bind(ctx, join));
    router.add(http::verb::get, "/api/v1/events/{id}/queue", bind(ctx, look));
    router.add(http::verb::delete_, "/api/v1/events/{id}/queue", bind(ctx, leave));
    router.add(http::verb::get, "/api/v1/events/{id}/queue/stream", bind(ctx, stream));
    router.add(http::verb::get, "/api/v1/manager/events/{id}/queue", bind(ctx, manager_report));
}

}  // namespace tkt::waiting_room
