#include "catalog/handlers.hpp"

#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include <fmt/core.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/json_body.hpp"
#include "http/sse.hpp"

namespace tkt::catalog {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

struct deps {
    service& svc;
    seat_map& seats;
    auth::service& auth;
    seat_feed* feed;
};

// Calls whose arguments own memory are started in one statement and awaited in the next: g++ 12
// destroys a by-value coroutine argument twice when the call sits inside the co_await
// expression itself.

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

response not_found() {
    return http::problem_response(make_problem(problem_code::not_found, "event not found"));
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || p != end) return std::nullopt;
    return v;
}

result<std::optional<std::int64_t>> int_query(const request& req, std::string_view name,
                                              std::int64_t min) {
    const auto text = req.query_param(name);
    if (!text || text->empty()) return std::optional<std::int64_t>{};
    const auto v = parse_int(*text);
    if (!v || *v < min)
        return std::unexpected(validation_error(
            std::string{name}, fmt::format("must be an integer of at least {}", min)));
    return v;
}

// A day "2027-01-15" or an RFC 3339 time, as [start, end) of what it names: a whole day, or
// the one second a time (kept in whole seconds) stands for.
std::optional<std::pair<time_point, time_point>> parse_day_or_time(std::string_view text) {
    using namespace std::chrono;
    if (text.size() == 10) {
        if (const auto t = parse_rfc3339(fmt::format("{}T00:00:00Z", text)))
            return std::pair{*t, *t + days{1}};
        return std::nullopt;
    }
    if (const auto t = parse_rfc3339(text)) return std::pair{*t, *t + seconds{1}};
    return std::nullopt;
}

result<std::optional<std::pair<time_point, time_point>>> time_query(const request& req,
                                                                    std::string_view name) {
    const auto text = req.query_param(name);
    if (!text || text->empty()) return std::optional<std::pair<time_point, time_point>>{};
    auto range = parse_day_or_time(*text);
    if (!range)
        return std::unexpected(
            validation_error(std::string{name}, "must be a date (2027-01-15) or an RFC 3339 time"));
    return range;
}

result<void> read_enums(const request& req, list_query& q) {
    if (const auto c = req.query_param("category"); c && !c->empty()) {
        q.category = parse_category(*c);
        if (!q.category)
            return std::unexpected(validation_error(
                "category", "must be CONCERT, MUSICAL, EXHIBITION, SPORTS, FAN_MEETING or ETC"));
    }
    if (const auto s = req.query_param("status"); s && !s->empty()) {
        q.status = parse_event_status(*s);
        if (!q.status)
            return std::unexpected(validation_error(
                "status", "must be DRAFT, SCHEDULED, ON_SALE, SOLD_OUT, CLOSED or CANCELLED"));
    }
    return {};
}

result<list_query> read_list_query(const request& req) {
    list_query q;
    q.q = req.query_param("q").value_or(std::string{});
    q.location = req.query_param("location").value_or(std::string{});
    if (auto ok = read_enums(req, q); !ok) return std::unexpected(std::move(ok.error()));
    auto from = time_query(req, "from");
    if (!from) return std::unexpected(std::move(from.error()));
    if (*from) q.from = (*from)->first;
    auto to = time_query(req, "to");
    if (!to) return std::unexpected(std::move(to.error()));
    if (*to) q.to_before = (*to)->second;
    auto min_price = int_query(req, "minPrice", 0);
    if (!min_price) return std::unexpected(std::move(min_price.error()));
    auto max_price = int_query(req, "maxPrice", 0);
    if (!max_price) return std::unexpected(std::move(max_price.error()));
    q.min_price = *min_price;
    q.max_price = *max_price;
    auto page = int_query(req, "page", 0);
    if (!page) return std::unexpected(std::move(page.error()));
    auto size = int_query(req, "size", 1);
    if (!size) return std::unexpected(std::move(size.error()));
    q.page = page->value_or(0);
    q.size = size->value_or(20);
    return q;
}

response page_response(const event_page& page) {
    boost::json::array items;
    items.reserve(page.items.size());
    for (const auto& e : page.items) items.push_back(to_summary_json(*e));
    return http::json_response(200, boost::json::object{{"items", std::move(items)},
                                                        {"page", page.page},
                                                        {"size", page.size},
                                                        {"total", page.total}});
}

// The token a caller of a public endpoint sent, "" for none. Its header only: a token in the URL
// is refused (401) even here, where none is needed, because answered anonymously a client would
// go on leaking its tokens into proxy logs without ever noticing.
result<std::string> viewer_token(const request& req) {
    return auth::access_token_of(req, auth::token_source::header);
}

// Who is calling a public endpoint, when they say. A bad or expired token reads as anonymous:
// it can only widen what is shown, never narrow it, so refusing it would gain nothing.
awaitable<std::optional<auth::principal>> viewer_of(auth::service& auth, std::string token) {
    if (token.empty()) co_return std::nullopt;
    auto op = auth.authenticate_token(std::move(token), auth::role::user);
    auto who = co_await std::move(op);
    if (!who) co_return std::nullopt;
    co_return *who;
}

// The event named by the path, when the caller with `token` may see it; nullptr otherwise.
awaitable<event_ptr> visible_event(deps& d, const request& req, std::string token) {
    const auto id = parse_int(req.param("id"));
    if (!id) co_return nullptr;
    auto e = d.svc.find(*id);
    if (!e || e->status != event_status::draft) co_return e;
    // Only a DRAFT costs an authentication.
    auto op = viewer_of(d.auth, std::move(token));
    const auto viewer = co_await std::move(op);
    co_return visible_to(*e, viewer) ? e : nullptr;
}

awaitable<response> create_event(deps& d, request& req) {
    auto who = co_await d.auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    auto body = parse_json_body(req.body);
    if (!body) co_return fail(body);
    auto op = d.svc.create(body->object(), *who);
    auto e = co_await std::move(op);
    if (!e) co_return fail(e);
    auto r = http::json_response(201, to_json(**e));
    r.with_header("Location", fmt::format("/api/v1/events/{}", (*e)->id));
    co_return r;
}

awaitable<response> list_events(deps& d, request& req) {
    auto token = viewer_token(req);
    if (!token) co_return fail(token);
    auto query = read_list_query(req);
    if (!query) co_return fail(query);
    auto find_viewer = viewer_of(d.auth, std::move(*token));
    const auto viewer = co_await std::move(find_viewer);
    auto op = d.svc.list(std::move(*query), viewer);
    auto page = co_await std::move(op);
    if (!page) co_return fail(page);
    co_return page_response(*page);
}

awaitable<response> get_event(deps& d, request& req) {
    auto token = viewer_token(req);
    if (!token) co_return fail(token);
    auto op = visible_event(d, req, std::move(*token));
    const auto e = co_await std::move(op);
    if (!e) co_return not_found();
    co_return http::json_response(200, to_json(*e));
}

awaitable<response> patch_event(deps& d, request& req) {
    auto who = co_await d.auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    const auto id = parse_int(req.param("id"));
    if (!id) co_return not_found();
    auto body = parse_json_body(req.body);
    if (!body) co_return fail(body);
    auto op = d.svc.update(*id, body->object(), *who);
    auto e = co_await std::move(op);
    if (!e) co_return fail(e);
    co_return http::json_response(200, to_json(**e));
}

// Whether an If-None-Match header (a list of entity tags, or "*") matches `etag`.
bool matches(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto tag = header.substr(0, comma);
        while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
        while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == "*" || tag == etag) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

awaitable<response> get_seats(deps& d, request& req) {
    auto token = viewer_token(req);
    if (!token) co_return fail(token);
    auto find = visible_event(d, req, std::move(*token));
    auto e = co_await std::move(find);
    if (!e) co_return not_found();
    auto op = d.seats.get(std::move(e));
    const auto body = co_await std::move(op);
    // Every event is loaded into the inventory before `find` can return it, except a
    // CANCELLED one after a restart: it sells nothing, so it has no seat map.
    if (!body) co_return not_found();
    const auto etag = body->etag();
    response r;
    if (matches(req.header("If-None-Match"), etag)) {
        r.status = 304;
        r.content_type.clear();
    } else {
        r.shared_body = body->json;  // the cached document itself, not a copy
    }
    r.with_header("ETag", etag);
    r.with_header("Cache-Control", "no-cache");
    co_return r;
}

// GET /events/{id}/seats/stream: the version the client holds comes as `since`, or (when it
// reconnects) as Last-Event-ID or `lastEventId`.
awaitable<response> seats_stream(deps& d, request& req) {
    const auto id = parse_int(req.param("id"));
    auto e = id ? d.svc.find(*id) : nullptr;
    // Drafts have no stream: nothing is sold yet.
    if (!e || e->status == event_status::draft || d.feed == nullptr) co_return not_found();
    std::optional<std::uint64_t> since;
    auto text = req.query_param("since");
    if (!text)
        text = http::sse_last_event_id(req.header("Last-Event-ID"), req.query_param("lastEventId"));
    if (text) {
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (text->empty() || ec != std::errc{} || p != text->data() + text->size()) {
            co_return http::problem_response(
                validation_error("since", "must be a seat map version (a whole number)"));
        }
        since = v;
    }
    auto op = d.feed->open(*id, since);
    co_return co_await std::move(op);
}

awaitable<response> managed_events(deps& d, request& req) {
    auto who = co_await d.auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    auto page = int_query(req, "page", 0);
    if (!page) co_return fail(page);
    auto size = int_query(req, "size", 1);
    if (!size) co_return fail(size);
    auto list = co_await d.svc.list_managed(*who, page->value_or(0), size->value_or(20));
    if (!list) co_return fail(list);
    co_return page_response(*list);
}

using route_fn = awaitable<response> (*)(deps&, request&);

// The closure only forwards: the coroutine's state lives in its own frame, which holds the
// references, never in a closure the router might copy.
http::handler bind(std::shared_ptr<deps> d, route_fn fn) {
    return [d = std::move(d), fn](request& req) { return fn(*d, req); };
}

}  // namespace

void register_routes(http::router& router, service& svc, seat_map& seats, auth::service& auth,
                     seat_feed* feed) {
    auto d = std::make_shared<deps>(deps{svc, seats, auth, feed});
    router.add(http::verb::post, "/api/v1/events", bind(d, create_event));
    router.add(http::verb::get, "/api/v1/events", bind(d, list_events));
    router.add(http::verb::get, "/api/v1/events/{id}", bind(d, get_event));
    router.add(http::verb::patch, "/api/v1/events/{id}", bind(d, patch_event));
    router.add(http::verb::get, "/api/v1/events/{id}/seats", bind(d, get_seats));
    router.add(http::verb::get, "/api/v1/events/{id}/seats/stream", bind(d, seats_stream));
    router.add(http::verb::get, "/api/v1/manager/events", bind(d, managed_events));
}

}  // namespace tkt::catalog
