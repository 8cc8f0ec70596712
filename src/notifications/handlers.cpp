#include "notifications/handlers.hpp"

#include <charconv>

#include "common/ids.hpp"
#include "common/json_body.hpp"
#include "http/sse.hpp"

namespace tkt::notifications {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

struct context {
    service& svc;
    auth::service& auth;
    feed& stream_feed;
};

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

response no_notification() {
    return http::problem_response(make_problem(problem_code::not_found, "no such notification"));
}

template <class T>
response done(const result<T>& r) {
    return r ? http::no_content() : fail(r);
}

awaitable<response> list(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    const auto unread = req.query_param("unread");
    const auto limit = req.query_param("limit");
    const auto before = req.query_param("before");
    auto q = check_list(unread ? std::optional<std::string_view>(*unread) : std::nullopt,
                        limit ? std::optional<std::string_view>(*limit) : std::nullopt,
                        before ? std::optional<std::string_view>(*before) : std::nullopt);
    if (!q) co_return fail(q);
    auto p = co_await ctx.svc.list(*who, *q);
    if (!p) co_return fail(p);
    co_return http::json_text_response(200, to_json(*p));
}

awaitable<response> mark_read(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    const auto id = parse_id(req.param("id"));
    if (!id) co_return no_notification();
    co_return done(co_await ctx.svc.mark_read(*who, *id));
}

awaitable<response> mark_all_read(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    co_return done(co_await ctx.svc.mark_all_read(*who));
}

awaitable<response> remove(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    const auto id = parse_id(req.param("id"));
    if (!id) co_return no_notification();
    co_return done(co_await ctx.svc.remove(*who, *id));
}

awaitable<response> remove_all(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    co_return done(co_await ctx.svc.remove_all(*who));
}

result<notice_request> read_notice(const request& req) {
    auto body = parse_json_body(req.body);
    if (!body) return std::unexpected(body.error());
    auto user_id = body->optional_int("userId");
    if (!user_id) return std::unexpected(user_id.error());
    auto event_id = body->optional_int("eventId");
    if (!event_id) return std::unexpected(event_id.error());
    auto title = body->required_string("title");
    if (!title) return std::unexpected(title.error());
    auto text = body->required_string("body");
    if (!text) return std::unexpected(text.error());
    return check_notice(*user_id, *event_id, std::move(*title), std::move(*text));
}

awaitable<response> send_notice(context ctx, request& req) {
    auto who = co_await ctx.auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    auto n = read_notice(req);
    if (!n) co_return fail(n);
    auto receipt = co_await ctx.svc.send_notice(*who, std::move(*n));
    if (!receipt) co_return fail(receipt);
    co_return http::json_text_response(202, to_json(*receipt));
}

// The id a reconnecting client saw last: a whole number (0: before the first).
std::optional<std::int64_t> last_seen(std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || v < 0)
        return std::nullopt;
    return v;
}

awaitable<response> stream(context ctx, request& req) {
    // EventSource cannot set headers: the access token may come in the URL here.
    auto who =
        co_await ctx.auth.authenticate(req, auth::role::user, auth::token_source::header_or_query);
    if (!who) co_return fail(who);
    std::optional<std::int64_t> last_id;
    if (auto text =
            http::sse_last_event_id(req.header("Last-Event-ID"), req.query_param("lastEventId"))) {
        last_id = last_seen(*text);
        if (!last_id)
            co_return http::problem_response(validation_error(
                "lastEventId", "must be a notification id (a whole number) from this stream"));
    }
    co_return co_await ctx.stream_feed.open(*who, last_id);
}

using route_fn = awaitable<response> (*)(context, request&);

http::handler bind(context ctx, route_fn fn) {
    return [ctx, fn](request& req) { return fn(ctx, req); };
}

}  // namespace

void register_routes(http::router& router, service& svc, auth::service& auth, feed& stream_feed) {
    const context ctx{svc, auth, stream_feed};
    router.add(http::verb::get, "/api/v1/notifications", bind(ctx, list));
    router.add(http::verb::post, "/api/v1/notifications", bind(ctx, send_notice));
    router.add(http::verb::delete_, "/api/v1/notifications", bind(ctx, remove_all));
    router.add(http::verb::get, "/api/v1/notifications/stream", bind(ctx, stream));
    router.add(http::verb::post, "/api/v1/notifications/read-all", bind(ctx, mark_all_read));
    router.add(http::verb::post, "/api/v1/notifications/{id}/read", bind(ctx, mark_read));
    router.add(http::verb::delete_, "/api/v1/notifications/{id}", bind(ctx, remove));
}

}  // namespace tkt::notifications
