#pragma once
// The HTTP messages that domain handlers see. Deliberately free of Beast: the server converts
// its parsed Beast request into `request` and a handler's `response` back into Beast's.
// A request lives for one handler call, on the connection's strand.
//
// A response either carries its whole body or, when `stream` is set, hands the connection over
// to a stream after the head (Server-Sent Events): the server writes what `next()` yields until
// it yields nothing, then closes the connection.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "common/problem.hpp"

namespace tkt::http {

enum class verb { get, head, post, put, patch, delete_, options, other };

std::string_view to_string(verb v);

class request {
public:
    using header_lookup = std::string_view (*)(const void* native, std::string_view name);

    verb method = verb::get;
    std::string path;   // decoded path without the query, e.g. /api/v1/me
    std::string query;  // raw query string without '?'
    std::string body;
    std::string remote_ip;   // peer address, e.g. 127.0.0.1
    std::string request_id;  // X-Request-Id from the client, or one made up by the server

    // A header's value, or "" when absent. Case-insensitive name.
    std::string_view header(std::string_view name) const {
        return lookup_ ? lookup_(native_, name) : std::string_view{};
    }
    // A path parameter captured by the router ({id} in the route), or "".
    std::string_view param(std::string_view name) const;
    // A query parameter's decoded value, or nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const;
    // The bearer token of the Authorization header, or "".
    std::string_view bearer_token() const;

    // Set by the server and the router.
    void bind_headers(const void* native, header_lookup lookup) {
        native_ = native;
        lookup_ = lookup;
    }
    std::vector<std::pair<std::string, std::string>> params;

private:
    const void* native_ = nullptr;
    header_lookup lookup_ = nullptr;
};

// A way for a stream to write to its connection at once, from any thread, without waking the
// server's writer (the SSE hub's tick writes a fan-out this way: one non-blocking send per
// stream, docs/architecture.md). It writes only what the socket takes without blocking; the
// stream must hand the rest to next(), and must not call it while the server writes a piece
// (between a next() that returned bytes and the next call of next()).
class stream_sink {
public:
    virtual ~stream_sink();

    // Writes what the socket takes now of `bytes` (possibly nothing); how many bytes it took,
    // or an error when the connection is closed or broken (the stream should then end).
    virtual std::size_t write_now(std::string_view bytes, boost::system::error_code& ec) = 0;
};

// The body of a streaming answer, written by the server piece by piece until it ends. The
// server calls both functions on the connection's executor, never concurrently with each other
// except that cancel() may come while next() is suspended.
class stream_body {
public:
    virtual ~stream_body();

    // The next bytes to write, once there are some (an empty string writes nothing); nullopt
    // ends the stream and the server closes the connection. Not called again after a nullopt.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
    // The peer went away, a write failed or timed out, or the server is stopping and the stream
    // did not end by itself in time. Called at most once; a next() that is suspended must then
    // return nullopt promptly.
    virtual void cancel() = 0;
    // Called once, on the connection's executor before the first next(): a sink that writes to
    // the connection directly. Streams that do not need it ignore it.
    virtual void attach(std::shared_ptr<stream_sink> sink) { static_cast<void>(sink); }
};

struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    // Set: the body, shared with other answers (a cached document, such as the seat map, goes
    // out without a copy per request); `body` is then ignored. payload() is whichever applies.
    std::shared_ptr<const std::string> shared_body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    // Close the connection without answering at all (the rest is ignored): what a lost answer
    // looks like to the client. For fault injection (the Toss sandbox), not for errors.
    bool hang_up = false;
    // Set: after the head (no Content-Length, `Connection: close`) the server writes the stream's
    // pieces until it ends (see stream_response). `body` is ignored.
    std::shared_ptr<stream_body> stream;

    std::string_view payload() const {
        return shared_body ? std::string_view(*shared_body) : std::string_view(body);
    }
    response& with_header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

enum class plus_handling { keep, space };
// Decodes %XX escapes (malformed ones are kept as they are); in query strings '+' is a space.
std::string percent_decode(std::string_view s, plus_handling plus);
// The decoded value of `name` in `key=value&…` text (a query string, or a form body sent as
// application/x-www-form-urlencoded), or nullopt when absent; the first one wins.
std::optional<std::string> form_field(std::string_view encoded, std::string_view name);

// A JSON answer with the given status.
response json_response(int status, const boost::json::value& body);
// The same for JSON text already written (common/json_text).
response json_text_response(int status, std::string body);
// An application/problem+json answer (with Retry-After when the problem asks for it).
response problem_response(const problem& p);
// 204 No Content.
response no_content();
// 200 text/event-stream that hands the connection to `body`; the server adds
// `Cache-Control: no-cache` and `X-Accel-Buffering: no` (no proxy buffering).
response stream_response(std::shared_ptr<stream_body> body);

using handler = std::function<boost::asio::awaitable<response>(request&)>;

}  // namespace tkt::http
