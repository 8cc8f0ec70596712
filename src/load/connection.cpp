#include "load/connection.hpp"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace tkt::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

constexpr auto use = asio::as_tuple(asio::use_awaitable);

std::chrono::microseconds since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
}

// Connects `stream` to `to` from `source` (when given) within the stream's expiry.
awaitable<std::string> connect(beast::tcp_stream& stream, const target& to,
                               const std::string& source) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(to.host, ec);
    if (ec) co_return "connect";  // a host name: the load generator talks to addresses
    const tcp::endpoint remote(address, to.port);
    auto& socket = stream.socket();
    socket.open(remote.protocol(), ec);
    if (ec) co_return "connect";
    if (!source.empty()) {
        const auto local = asio::ip::make_address(source, ec);
        if (ec) co_return "connect";
        socket.bind(tcp::endpoint(local, 0), ec);
        if (ec) co_return "bind";
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto [cec] = co_await stream.async_connect(remote, use);
    if (cec) co_return cec == beast::error::timeout ? "timeout" : "connect";
    co_return "";
}

std::string failure(const boost::system::error_code& ec) {
    return ec == beast::error::timeout ? "timeout" : "io";
}

}  // namespace

std::string target::url() const {
    return "http://" + host + ":" + std::to_string(port) + prefix;
}

std::optional<target> parse_target(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) return std::nullopt;
    url.remove_prefix(scheme.size());
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    target t;
    if (slash != std::string_view::npos) {
        t.prefix = std::string(url.substr(slash));
        while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
    }
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
        t.host = std::string(authority);
    } else {
        t.host = std::string(authority.substr(0, colon));
        auto digits = authority.substr(colon + 1);
        unsigned port = 0;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc{} || p != digits.data() + digits.size() || port == 0 || port > 65535)
            return std::nullopt;
        t.port = static_cast<std::uint16_t>(port);
    }
    if (t.host == "localhost") t.host = "127.0.0.1";
    boost::system::error_code ec;
    asio::ip::make_address(t.host, ec);
    if (t.host.empty() || ec) return std::nullopt;
    return t;
}

namespace {

// What a connection and an event stream share: one socket to `to`, bound to `source`.
struct socket_to {
    socket_to(asio::any_io_executor ex, target t, std::string s)
        : stream(std::move(ex)), to(std::move(t)), source(std::move(s)) {}
    beast::tcp_stream stream;
    target to;
    std::string source;

    void shut() {
        boost::system::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream.socket().close(ec);
    }
};

// A reply that carries a transport failure and the time it took.
reply failed_reply(std::string error, std::chrono::steady_clock::time_point t0) {
    reply out;
    out.error = std::move(error);
    out.took = since(t0);
    return out;
}

}  // namespace

struct connection::impl : socket_to {
    using socket_to::socket_to;
    beast::flat_buffer buffer;
    bool open = false;
};

connection::connection(asio::any_io_executor ex, target to, std::string source)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(to), std::move(source))) {}

connection::~connection() {
    close();
}

void connection::close() {
    impl_->shut();
    impl_->open = false;
    impl_->buffer.clear();
}

awaitable<reply> connection::call(std::string method, std::string path, std::string body,
                                  std::string token, header_list headers,
                                  std::chrono::milliseconds timeout) {
    auto self = impl_;
    const auto t0 = std::chrono::steady_clock::now();
    self->stream.expires_after(timeout);
    if (!self->open) {
        self->buffer.clear();
        auto failed = co_await connect(self->stream, self->to, self->source);
        if (!failed.empty()) {
            close();
            co_return failed_reply(std::move(failed), t0);
        }
        self->open = true;
        // Beast reads at most the buffer's spare capacity (512 bytes when empty): a seat map of
        // 10,000 seats would take 700 reads.
        self->buffer.reserve(64 * 1024);
    }
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), self->to.prefix + path,
                                           11);
    req.set(bhttp::field::host, self->to.host);
    req.set(bhttp::field::user_agent, "ticketon-load");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    for (auto& [name, value] : headers) req.set(name, value);
    if (!body.empty()) {
        req.set(bhttp::field::content_type, "application/json");
        req.body() = std::move(body);
    }
    req.prepare_payload();
    auto [wec, written] = co_await bhttp::async_write(self->stream, req, use);
    if (wec) {
        close();
        co_return failed_reply(failure(wec), t0);
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [rec, read] = co_await bhttp::async_read(self->stream, self->buffer, parser, use);
    if (rec) {
        close();
        co_return failed_reply(failure(rec), t0);
    }
    reply out;
    out.took = since(t0);
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    if (auto it = res.find(bhttp::field::retry_after); it != res.end()) {
        const auto v = it->value();
        int secs = 0;
        if (auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
            ec == std::errc{} && p == v.data() + v.size())
            out.retry_after_s = secs;
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) close();
    co_return out;
}

struct event_stream::impl : socket_to {
    using socket_to::socket_to;
    std::string buffer;
    bool ended = false;
};

event_stream::event_stream(asio::any_io_executor ex, target to, std::string source)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(to), std::move(source))) {}

event_stream::~event_stream() {
    close();
}

void event_stream::close() {
    impl_->shut();
    impl_->ended = true;
}

bool event_stream::ended() const {
    return impl_->ended;
}

awaitable<reply> event_stream::open(std::string path, std::string token,
                                    std::chrono::milliseconds timeout) {
    auto self = impl_;
    const auto t0 = std::chrono::steady_clock::now();
    self->stream.expires_after(timeout);
    auto failed = co_await connect(self->stream, self->to, self->source);
    if (!failed.empty()) {
        close();
        co_return failed_reply(std::move(failed), t0);
    }
    std::string request = "GET " + self->to.prefix + path + " HTTP/1.1\r\nHost: " + self->to.host +
                          "\r\nAccept: text/event-stream\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    request += "\r\n";
    auto [wec, written] = co_await asio::async_write(self->stream, asio::buffer(request), use);
    if (wec) {
        close();
        co_return failed_reply(failure(wec), t0);
    }
    auto dyn = asio::dynamic_buffer(self->buffer);
    auto [rec, n] = co_await asio::async_read_until(self->stream, dyn, "\r\n\r\n", use);
    if (rec) {
        close();
        co_return failed_reply(failure(rec), t0);
    }
    reply out;
    out.took = since(t0);
    // "HTTP/1.1 200 OK"
    const auto space = self->buffer.find(' ');
    if (space != std::string::npos) {
        std::from_chars(self->buffer.data() + space + 1, self->buffer.data() + n, out.status);
    }
    self->buffer.erase(0, n);
    if (out.status != 200) close();
    co_return out;
}

awaitable<std::optional<sse_event>> event_stream::next(std::chrono::milliseconds timeout) {
    auto self = impl_;
    if (self->ended) co_return std::nullopt;
    self->stream.expires_after(timeout);
    for (;;) {
        // One event: lines up to a blank line. Comments and retry hints alone are skipped.
        const auto end = self->buffer.find("\n\n");
        if (end != std::string::npos) {
            std::string_view block(self->buffer.data(), end);
            sse_event e;
            e.type = "message";
            bool has_data = false;
            while (!block.empty()) {
                const auto nl = block.find('\n');
                auto line = block.substr(0, nl);
                block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
                if (line.empty() || line.front() == ':') continue;
                const auto colon = line.find(':');
                auto name = line.substr(0, colon);
                auto value =
                    colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
                if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                if (name == "id") {
                    e.id = std::string(value);
                } else if (name == "event") {
                    e.type = std::string(value);
                } else if (name == "data") {
                    if (has_data) e.data += '\n';
                    e.data += value;
                    has_data = true;
                }
            }
            self->buffer.erase(0, end + 2);
            if (has_data) co_return e;
            continue;
        }
        char chunk[8192];
        auto [ec, n] = co_await self->stream.async_read_some(asio::buffer(chunk), use);
        if (ec) {
            // Beast closes the socket when the deadline passes: either way the stream is over.
            close();
            co_return std::nullopt;
        }
        self->buffer.append(chunk, n);
    }
}

}  // namespace tkt::load
