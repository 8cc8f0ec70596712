// Fuzzes request handling up to the handler, without sockets: the bytes are what a client sent
// on one connection. They go through Beast's request parser with the server's limits, request
// after request as pipelined clients send them, and each complete request goes through what
// server.cpp's dispatch() does before calling a handler: the target split at '?', the router,
// query and path parameters, the bearer token, and the JSON body read field by field.
//
// Properties checked besides "no crash, no sanitizer report":
// - the parse does not depend on how the bytes are split into reads: the same input fed in one
//   piece and in small pieces yields the same requests, and the same answer when it ends in an
//   unreadable request;
// - a found route has the request's method and one non-empty parameter per capture, and a
//   405 always names the methods the path accepts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/assert.hpp"
#include "common/json_body.hpp"
#include "common/problem.hpp"
#include "http/detail/beast_request.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tkt::http::verb;
using tkt::http::detail::beast_request;

// The server's defaults (server_options): 16 KiB of headers, 64 KiB of body.
constexpr std::uint32_t header_bytes_max = 16 * 1024;
constexpr std::uint64_t body_bytes_max = 64 * 1024;
// Boost 1.81's parser asserts in parse_chunk_header when a chunked body's last CRLF arrives
// byte by byte (fixed upstream after 1.81). src/CMakeLists.txt compiles Beast with its asserts
// off for that reason, so the feeder below hands over bytes in any split, as a client may.
// Bounds the work per input; a pipelining client is cut off the same way by its read timeout.
constexpr std::size_t requests_max = 32;

// The routes of DESIGN.md §7, enough of them to reach every branch of match(): literals,
// captures, a literal beside a capture, several methods on one path, nested captures. The
// handlers are never called, so they are left empty.
const tkt::http::router& make_router() {
    static const tkt::http::router routes = [] {
        using tkt::http::rate_limit_class;
        tkt::http::router r;
        const tkt::http::route_options auth{.rate_limit = rate_limit_class::auth};
        r.add(verb::get, "/healthz", {});
        r.add(verb::get, "/metrics", {});
        r.add(verb::post, "/api/v1/auth/signup", {}, auth);
        r.add(verb::post, "/api/v1/auth/login", {}, auth);
        r.add(verb::post, "/api/v1/auth/refresh", {});
        r.add(verb::get, "/api/v1/auth/oauth2/{provider}", {});
        r.add(verb::get, "/api/v1/auth/oauth2/{provider}/callback", {});
        r.add(verb::get, "/api/v1/me", {});
        r.add(verb::patch, "/api/v1/me", {});
        r.add(verb::delete_, "/api/v1/me", {});
        r.add(verb::get, "/api/v1/admin/users", {});
        r.add(verb::patch, "/api/v1/admin/users/{id}", {});
        r.add(verb::get, "/api/v1/events", {});
        r.add(verb::post, "/api/v1/events", {});
        r.add(verb::get, "/api/v1/events/mine", {});
        r.add(verb::get, "/api/v1/events/{id}", {});
        r.add(verb::patch, "/api/v1/events/{id}", {});
        r.add(verb::get, "/api/v1/events/{id}/seats", {});
        r.add(verb::get, "/api/v1/events/{id}/seats/stream", {});
        r.add(verb::post, "/api/v1/events/{id}/holds", {});
        r.add(verb::delete_, "/api/v1/holds/{holdId}", {});
        r.add(verb::post, "/api/v1/payments/confirm", {});
        r.add(verb::post, "/api/v1/orders/{id}/cancel", {});
        r.add(verb::get, "/api/v1/tickets/{id}/qr.svg", {});
        r.add(verb::post, "/api/v1/notifications/read-all", {});
        r.add(verb::post, "/api/v1/notifications/{id}/read", {});
        return r;
    }();
    return routes;
}

std::size_t capture_count(const tkt::http::route& r) {
    std::size_t count = 0;
    for (const auto& s : r.segments) {
        if (s.size() > 2 && s.front() == '{' && s.back() == '}') ++count;
    }
    return count;
}

void check_match(const tkt::http::request& req, const tkt::http::match_result& found) {
    using kind = tkt::http::match_result::kind;
    const auto& routes = make_router().routes();
    if (found.outcome == kind::method_not_allowed) {
        TKT_ASSERT(found.matched == nullptr);
        TKT_ASSERT(!found.allow.empty());
        return;
    }
    if (found.outcome == kind::not_found) {
        TKT_ASSERT(found.matched == nullptr && found.params.empty());
        return;
    }
    TKT_ASSERT(found.index < routes.size() && &routes[found.index] == found.matched);
    TKT_ASSERT(found.matched->method == req.method);
    TKT_ASSERT(found.params.size() == capture_count(*found.matched));
    for (const auto& [name, value] : found.params) TKT_ASSERT(!value.empty());
}

void check_bearer(const tkt::http::request& req) {
    const std::string_view header = req.header("Authorization");
    const std::string_view token = req.bearer_token();
    if (token.empty()) return;
    // The token is a view into the header, after the scheme and its spaces.
    TKT_ASSERT(token.data() >= header.data() &&
               token.data() + token.size() == header.data() + header.size());
    TKT_ASSERT(token.front() != ' ');
}

// What a handler does with a body: parse it, read the fields its route expects.
void read_body(const tkt::http::request& req) {
    auto body = tkt::parse_json_body(req.body);
    if (!body) {
        TKT_ASSERT(body.error().field == "body");
        return;
    }
    static constexpr std::string_view string_fields[] = {
        "email", "password", "name", "refreshToken", "zone", "paymentKey", "status", "role"};
    for (auto field : string_fields) {
        auto value = body->optional_string(field);
        if (!value) TKT_ASSERT(value.error().field == field);
    }
    (void)body->optional_int("quantity");
    (void)body->required_int("amount");
    (void)body->optional_bool("disabled");
    if (auto seats = body->required_array("seats"); seats) {
        for (const auto& seat : **seats) (void)seat.is_string();
    }
    (void)body->optional_object("data");
}

// The dispatch of server.cpp up to the handler call.
void dispatch(beast_request& breq) {
    tkt::http::request req;
    tkt::http::detail::adopt(breq, req);
    req.remote_ip = "127.0.0.1";
    TKT_ASSERT(req.path.find('?') == std::string::npos);

    auto found = make_router().match(req.method, req.path);
    check_match(req, found);
    if (found.outcome == tkt::http::match_result::kind::method_not_allowed) {
        auto res = tkt::http::problem_response(
            tkt::make_problem(tkt::problem_code::method_not_allowed, "not allowed here"));
        res.with_header("Allow", found.allow);
        TKT_ASSERT(res.status == 405);
    }
    req.params = std::move(found.params);
    for (const auto& [name, value] : req.params) TKT_ASSERT(!req.param(name).empty());

    for (auto name : {"page", "size", "q", "unread", "limit", "lastEventId"}) {
        auto value = req.query_param(name);
        if (req.query.empty()) TKT_ASSERT(!value);
    }
    check_bearer(req);
    (void)req.header("Queue-Token");
    (void)req.header("X-Request-Id");
    read_body(req);
}

// One line per parsed request and one for how the input ended, to compare two feedings.
struct parse_trace {
    std::vector<std::string> requests;
    std::string ending;

    bool operator==(const parse_trace&) const = default;
};

// The answer the server gives to a request it could not read. Beast may notice a malformed
// start line at once when it has the whole header, or only at the end of the input when the
// header comes in pieces, so the exact error can differ; the answer must not.
std::string answer_to(const boost::system::error_code& ec) {
    if (ec == bhttp::error::body_limit) return "413 payload too large";
    if (ec == bhttp::error::header_limit) return "431 headers too large";
    return "400 malformed request";
}

std::string summary(const beast_request& req) {
    std::string s(req.method_string());
    s += ' ';
    s += req.target();
    s += req.keep_alive() ? " keep-alive " : " close ";
    s += std::to_string(std::distance(req.begin(), req.end()));
    s += ' ';
    s += req.body();
    return s;
}

// Feeds `input` to request parsers `chunk_bytes` at a time, the way the server's reads hand it
// over: a new parser per request, the leftover bytes kept for the next one. Calls on_request for
// each complete request.
template <class OnRequest>
parse_trace parse_all(std::string_view input, std::size_t chunk_bytes, OnRequest on_request) {
    parse_trace trace;
    beast::flat_buffer buffer;
    std::size_t delivered = 0;
    auto deliver = [&] {
        const std::size_t n = std::min(chunk_bytes, input.size() - delivered);
        if (n == 0) return false;
        std::memcpy(buffer.prepare(n).data(), input.data() + delivered, n);
        buffer.commit(n);
        delivered += n;
        return true;
    };
    while (trace.requests.size() < requests_max) {
        if (buffer.size() == 0 && !deliver()) {
            trace.ending = "end of input between requests";
            return trace;
        }
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(header_bytes_max);
        parser.body_limit(body_bytes_max);
        parser.eager(true);
        boost::system::error_code ec;
        for (;;) {
            const std::size_t used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            const bool wants_more = ec == bhttp::error::need_more;
            if (wants_more) ec = {};
            if (ec || parser.is_done()) break;
            if (used != 0 && buffer.size() != 0 && !wants_more) continue;
            if (!deliver()) {
                parser.put_eof(ec);
                break;
            }
        }
        if (ec) {
            trace.ending = answer_to(ec);
            return trace;
        }
        TKT_ASSERT(parser.is_done());
        trace.requests.push_back(summary(parser.get()));
        on_request(parser.get());
    }
    trace.ending = "request limit";
    return trace;
}

// Whether the client is answered the same, however its bytes arrived: the same requests, then
// the same ending. One exception: a chunked body that is both over the body limit and malformed
// further on (a chunk's extension, say) is refused either way, but which fault the parser meets
// first depends on where the reads split the chunk header (Beast checks a chunk's size against
// the limit as soon as it has the size), so 400 and 413 are both right for it.
bool same_answer(const parse_trace& a, const parse_trace& b) {
    if (a == b) return true;
    const auto refused = [](const std::string& ending) {
        return ending == "400 malformed request" || ending == "413 payload too large";
    };
    return a.requests == b.requests && refused(a.ending) && refused(b.ending);
}

void print_trace(const std::string& how, const parse_trace& trace) {
    std::fprintf(stderr, "fed %s: %zu requests, then %s\n", how.c_str(), trace.requests.size(),
                 trace.ending.c_str());
    for (const auto& r : trace.requests) std::fprintf(stderr, "  %s\n", r.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto whole = parse_all(input, input.size(), [](beast_request&) {});
    // Small reads of a size the input picks, so every split point gets tried over time.
    const std::size_t chunk_bytes = 1 + (size == 0 ? 0 : data[size / 2] % 13);
    const auto pieces = parse_all(input, chunk_bytes, [](beast_request& req) { dispatch(req); });
    if (!same_answer(whole, pieces)) {
        print_trace("in one piece", whole);
        print_trace("in pieces of " + std::to_string(chunk_bytes) + " bytes", pieces);
    }
    TKT_ASSERT(same_answer(whole, pieces));
    return 0;
}
