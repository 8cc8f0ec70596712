#include "booking/tickets_handlers.hpp"

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/json_body.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;
using http::request;
using http::response;

// Calls whose arguments own memory are started in one statement and awaited in the next: g++ 12
// destroys a by-value coroutine argument twice when the call sits inside the co_await
// expression itself.

template <class T>
response fail(const result<T>& r) {
    return http::problem_response(r.error());
}

// A ticket's code admits its holder, so neither the JSON nor the image may sit in a shared cache.
response private_answer(response r) {
    r.with_header("Cache-Control", "private, no-store");
    return r;
}

awaitable<response> list_tickets(tickets_service& tickets, auth::service& auth, request& req) {
    auto who = co_await auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto found = co_await tickets.list_mine(*who);
    if (!found) co_return fail(found);
    boost::json::array items;
    items.reserve(found->size());
    for (const auto& t : *found) items.emplace_back(to_json(t));
    co_return private_answer(
        http::json_response(200, boost::json::object{{"items", std::move(items)}}));
}

awaitable<response> get_ticket(tickets_service& tickets, auth::service& auth, request& req) {
    auto who = co_await auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto op = tickets.find_mine(*who, std::string{req.param("id")});
    auto found = co_await std::move(op);
    if (!found) co_return fail(found);
    co_return private_answer(http::json_response(200, to_json(*found)));
}

awaitable<response> get_ticket_qr(tickets_service& tickets, auth::service& auth, request& req) {
    auto who = co_await auth.authenticate(req, auth::role::user);
    if (!who) co_return fail(who);
    auto op = tickets.qr_svg_of(*who, std::string{req.param("id")});
    auto svg = co_await std::move(op);
    if (!svg) co_return fail(svg);
    response r;
    r.status = 200;
    r.content_type = "image/svg+xml";
    r.body = std::move(*svg);
    co_return private_answer(std::move(r));
}

awaitable<response> check_in(tickets_service& tickets, auth::service& auth, request& req) {
    auto who = co_await auth.authenticate(req, auth::role::manager);
    if (!who) co_return fail(who);
    const auto body = parse_json_body(req.body);
    if (!body) co_return http::problem_response(body.error());
    auto code = body->required_string("code");
    if (!code) co_return fail(code);
    auto op = tickets.check_in(*who, std::move(*code));
    auto answer = co_await std::move(op);
    if (!answer) co_return fail(answer);
    co_return http::json_response(200, boost::json::object{{"admitted", true},
                                                           {"ticket", to_json(answer->ticket)},
                                                           {"usedAt", answer->used_at}});
}

using route_fn = awaitable<response> (*)(tickets_service&, auth::service&, request&);

// The closure only forwards: the coroutine's state lives in its own frame, which holds the
// service and request references, never in a closure the router might copy.
http::handler bind(tickets_service& tickets, auth::service& auth, route_fn fn) {
    return [&tickets, &auth, fn](request& req) { return fn(tickets, auth, req); };
}

}  // namespace

void register_ticket_routes(http::router& router, tickets_service& tickets, auth::service& auth) {
    router.add(http::verb::get, "/api/v1/tickets", bind(tickets, auth, list_tickets));
    router.add(http::verb::get, "/api/v1/tickets/{id}", bind(tickets, auth, get_ticket));
    router.add(http::verb::get, "/api/v1/tickets/{id}/qr.svg", bind(tickets, auth, get_ticket_qr));
    router.add(http::verb::post, "/api/v1/checkin", bind(tickets, auth, check_in));
}

}  // namespace tkt::booking
