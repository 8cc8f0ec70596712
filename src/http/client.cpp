#include "http/client.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "common/encoding.hpp"

namespace tkt::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;
using beast_request = bhttp::request<bhttp::string_body>;
using strand_type = asio::strand<asio::any_io_executor>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

enum class scheme { http, https };

// Where a URL points, split the way the connection needs it.
struct endpoint_target {
    scheme kind = scheme::http;
    std::string host;  // without IPv6 brackets: for the resolver, SNI and verification
    std::string port;
    std::string host_header;  // host[:port] as written in the URL
    std::string path;         // path and query, at least "/"
    std::string pool_key;     // scheme://host:port
};

std::expected<endpoint_target, client_error> parse_target(std::string_view url) {
    auto bad = [&](std::string_view why) {
        return std::unexpected(client_error{client_errc::bad_url, request_sent::no,
                                            fmt::format("bad URL '{}': {}", url, why)});
    };
    auto parsed = urls::parse_absolute_uri(url);
    if (!parsed) return bad(parsed.error().message());
    const urls::url_view& u = *parsed;
    endpoint_target t;
    if (u.scheme_id() == urls::scheme::https) {
        t.kind = scheme::https;
    } else if (u.scheme_id() != urls::scheme::http) {
        return bad("only http and https are supported");
    }
    if (!u.has_authority() || u.host_address().empty()) return bad("no host");
    t.host = std::string(u.host_address());
    t.port = u.has_port() ? std::string(u.port()) : (t.kind == scheme::https ? "443" : "80");
    t.host_header = std::string(u.encoded_host_and_port());
    t.path = std::string(u.encoded_target());
    if (t.path.empty() || t.path.front() != '/') t.path.insert(0, "/");
    t.pool_key =
        fmt::format("{}://{}:{}", t.kind == scheme::https ? "https" : "http", t.host, t.port);
    return t;
}

bhttp::verb to_beast(verb v) {
    switch (v) {
        case verb::get:
            return bhttp::verb::get;
        case verb::head:
            return bhttp::verb::head;
        case verb::post:
            return bhttp::verb::post;
        case verb::put:
            return bhttp::verb::put;
        case verb::patch:
            return bhttp::verb::patch;
        case verb::delete_:
            return bhttp::verb::delete_;
        case verb::options:
            return bhttp::verb::options;
        case verb::other:
            break;
    }
    return bhttp::verb::unknown;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

// Repeating the request cannot do harm twice (RFC 9110 §9.2.2, and the Idempotency-Key
// convention that payment APIs follow).
bool replayable(const client_request& r) {
    if (r.method == verb::get || r.method == verb::head) return true;
    return std::ranges::any_of(r.headers,
                               [](const auto& h) { return iequals(h.first, "Idempotency-Key"); });
}

client_error make_error(client_errc code, request_sent sent, std::string_view what,
                        const error_code& ec) {
    return client_error{code, sent, fmt::format("{}: {}", what, ec.message())};
}

bool is_parse_error(const error_code& ec) {
    static const auto& category = bhttp::make_error_code(bhttp::error::bad_version).category();
    return ec.category() == category && ec != bhttp::error::end_of_stream &&
           ec != bhttp::error::partial_message;
}

}  // namespace

std::string_view to_string(client_errc code) {
    switch (code) {
        case client_errc::bad_url:
            return "bad_url";
        case client_errc::resolve_failed:
            return "resolve_failed";
        case client_errc::connect_failed:
            return "connect_failed";
        case client_errc::tls_failed:
            return "tls_failed";
        case client_errc::send_failed:
            return "send_failed";
        case client_errc::receive_failed:
            return "receive_failed";
        case client_errc::bad_response:
            return "bad_response";
        case client_errc::timeout:
            return "timeout";
    }
    return "unknown";
}

std::string_view client_response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return {};
}

std::string basic_authorization(std::string_view user, std::string_view password) {
    // base64url differs from standard base64 only in two letters and the padding.
    std::string text = base64url_encode(fmt::format("{}:{}", user, password));
    std::ranges::replace(text, '-', '+');
    std::ranges::replace(text, '_', '/');
    while (text.size() % 4 != 0) text += '=';
    return "Basic " + text;
}

namespace {

// One kept-alive connection. Used by one call at a time, always on its own strand.
// (Named apart from the server's `connection`: both live in tkt::http.)
struct pooled_connection {
    pooled_connection(strand_type s, ssl::context& tls_context, scheme kind)
        : strand(std::move(s)) {
        if (kind == scheme::https) {
            secure.emplace(strand, tls_context);
        } else {
            plain.emplace(strand);
        }
    }

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    strand_type strand;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    bool connected = false;
    steady::time_point idle_since{};
};

// What one attempt on one connection ended with.
struct attempt_result {
    std::expected<client_response, client_error> outcome;
    // The connection was closed by the peer before any byte of an answer: on a reused
    // connection this is the server's idle timeout, not a verdict on the request.
    bool closed_before_answer = false;
    bool reusable = false;
};

}  // namespace

struct client::impl : std::enable_shared_from_this<client::impl> {
    impl(asio::any_io_executor ex, client_options o)
        : executor(std::move(ex)), options(std::move(o)), tls_context(ssl::context::tls_client) {
        tls_context.set_default_verify_paths();
        // Throws when the file cannot be read: a client that would silently distrust the
        // private CA it was configured with is worse than one that fails at start-up.
        if (!options.ca_file.empty()) tls_context.load_verify_file(options.ca_file);
        tls_context.set_verify_mode(ssl::verify_peer);
    }

    std::shared_ptr<pooled_connection> take(const std::string& key);
    void give_back(const std::string& key, std::shared_ptr<pooled_connection> conn);
    asio::awaitable<attempt_result> attempt(std::shared_ptr<pooled_connection> conn,
                                            const endpoint_target& target, beast_request& msg,
                                            steady::time_point deadline);
    asio::awaitable<std::optional<client_error>> open(pooled_connection& conn,
                                                      const endpoint_target& target,
                                                      steady::time_point deadline);
    asio::awaitable<std::optional<client_error>> handshake(pooled_connection& conn,
                                                           const endpoint_target& target);
    template <class Stream>
    asio::awaitable<attempt_result> exchange(Stream& stream, pooled_connection& conn,
                                             beast_request& msg);

    asio::any_io_executor executor;
    client_options options;
    ssl::context tls_context;
    std::mutex pool_mutex;
    std::unordered_map<std::string, std::deque<std::shared_ptr<pooled_connection>>> pool;
};

std::shared_ptr<pooled_connection> client::impl::take(const std::string& key) {
    std::lock_guard lock(pool_mutex);
    auto it = pool.find(key);
    if (it == pool.end()) return nullptr;
    auto& idle = it->second;
    const auto oldest_allowed = steady::now() - options.idle_timeout;
    while (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        if (conn->idle_since >= oldest_allowed) return conn;
    }
    return nullptr;
}

void client::impl::give_back(const std::string& key, std::shared_ptr<pooled_connection> conn) {
    conn->idle_since = steady::now();
    std::lock_guard lock(pool_mutex);
    auto& idle = pool[key];
    if (idle.size() < options.idle_connections_per_host) idle.push_back(std::move(conn));
}

// Resolves and connects (and shakes hands for https) within the deadline.
asio::awaitable<std::optional<client_error>> client::impl::open(pooled_connection& conn,
                                                                const endpoint_target& target,
                                                                steady::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    tcp::resolver resolver(conn.strand);
    asio::steady_timer timer(conn.strand, deadline);
    // The resolver has no deadline of its own: race it against a timer.
    auto race = resolver.async_resolve(target.host, target.port, tuple_awaitable) ||
                timer.async_wait(tuple_awaitable);
    auto resolved = co_await std::move(race);
    if (resolved.index() == 1) {
        co_return client_error{client_errc::timeout, request_sent::no,
                               fmt::format("resolving {} timed out", target.host)};
    }
    auto [resolve_ec, addresses] = std::get<0>(resolved);
    if (resolve_ec) {
        co_return make_error(client_errc::resolve_failed, request_sent::no,
                             fmt::format("cannot resolve {}", target.host), resolve_ec);
    }
    auto& stream = conn.lowest();
    stream.expires_at(deadline);
    auto [connect_ec, ep] = co_await stream.async_connect(addresses, tuple_awaitable);
    if (connect_ec == beast::error::timeout) {
        co_return client_error{
            client_errc::timeout, request_sent::no,
            fmt::format("connecting to {}:{} timed out", target.host, target.port)};
    }
    if (connect_ec) {
        co_return make_error(client_errc::connect_failed, request_sent::no,
                             fmt::format("cannot connect to {}:{}", target.host, target.port),
                             connect_ec);
    }
    boost::system::error_code opt_ec;
    stream.socket().set_option(tcp::no_delay(true), opt_ec);
    if (conn.secure) {
        if (auto failed = co_await handshake(conn, target)) co_return failed;
    }
    conn.connected = true;
    co_return std::nullopt;
}

asio::awaitable<std::optional<client_error>> client::impl::handshake(
    pooled_connection& conn, const endpoint_target& target) {
    auto& tls = *conn.secure;
    // SNI: servers behind shared addresses pick their certificate by it.
    if (!SSL_set_tlsext_host_name(tls.native_handle(), target.host.c_str())) {
        co_return client_error{client_errc::tls_failed, request_sent::no,
                               "cannot set SNI host name"};
    }
    tls.set_verify_callback(ssl::host_name_verification(target.host));
    auto [ec] = co_await tls.async_handshake(ssl::stream_base::client, tuple_awaitable);
    if (ec == beast::error::timeout) {
        co_return client_error{client_errc::timeout, request_sent::no, "TLS handshake timed out"};
    }
    if (ec) {
        co_return make_error(client_errc::tls_failed, request_sent::no,
                             fmt::format("TLS handshake with {} failed", target.host), ec);
    }
    co_return std::nullopt;
}

template <class Stream>
asio::awaitable<attempt_result> client::impl::exchange(Stream& stream, pooled_connection& conn,
                                                       beast_request& msg) {
    attempt_result result;
    auto [write_ec, written] = co_await bhttp::async_write(stream, msg, tuple_awaitable);
    if (write_ec) {
        auto code =
            write_ec == beast::error::timeout ? client_errc::timeout : client_errc::send_failed;
        result.outcome =
            std::unexpected(make_error(code, request_sent::maybe, "sending the request", write_ec));
        result.closed_before_answer = code == client_errc::send_failed;
        co_return result;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    if (msg.method() == bhttp::verb::head) parser.skip(true);
    auto [read_ec, read] = co_await bhttp::async_read(stream, conn.buffer, parser, tuple_awaitable);
    if (read_ec) {
        client_errc code = client_errc::receive_failed;
        if (read_ec == beast::error::timeout) {
            code = client_errc::timeout;
        } else if (is_parse_error(read_ec)) {
            code = client_errc::bad_response;
        }
        result.outcome =
            std::unexpected(make_error(code, request_sent::maybe, "reading the answer", read_ec));
        result.closed_before_answer = code == client_errc::receive_failed && !parser.got_some();
        co_return result;
    }
    auto& res = parser.get();
    client_response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    result.reusable = res.keep_alive() && conn.buffer.size() == 0;
    out.body = std::move(res.body());
    result.outcome = std::move(out);
    co_return result;
}

// One try on one connection, run on the connection's strand.
asio::awaitable<attempt_result> client::impl::attempt(std::shared_ptr<pooled_connection> conn,
                                                      const endpoint_target& target,
                                                      beast_request& msg,
                                                      steady::time_point deadline) {
    if (!conn->connected) {
        if (auto failed = co_await open(*conn, target, deadline)) {
            co_return attempt_result{std::unexpected(std::move(*failed)), false, false};
        }
    }
    conn->lowest().expires_at(deadline);
    // Two statements, not `?:` around co_await: g++ 12 mishandles the temporaries there.
    attempt_result result;
    if (conn->secure) {
        result = co_await exchange(*conn->secure, *conn, msg);
    } else {
        result = co_await exchange(*conn->plain, *conn, msg);
    }
    // An idle connection in the pool must not be cut by a stale deadline.
    conn->lowest().expires_never();
    co_return result;
}

client::client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

client::~client() = default;

asio::awaitable<std::expected<client_response, client_error>> client::request(client_request r) {
    auto self = impl_;
    auto target = parse_target(r.url);
    if (!target) co_return std::unexpected(std::move(target.error()));
    const auto deadline = steady::now() + r.timeout;

    beast_request msg{to_beast(r.method), target->path, 11};
    msg.set(bhttp::field::host, target->host_header);
    msg.set(bhttp::field::user_agent, self->options.user_agent);
    for (const auto& [name, value] : r.headers) msg.set(name, value);
    msg.body() = std::move(r.body);
    msg.prepare_payload();
    const bool may_replay = replayable(r);

    for (int attempt_index = 0;; ++attempt_index) {
        auto conn = self->take(target->pool_key);
        const bool reused = conn != nullptr;
        if (!conn) {
            conn = std::make_shared<pooled_connection>(asio::make_strand(self->executor),
                                                       self->tls_context, target->kind);
        }
        auto op = asio::co_spawn(conn->strand, self->attempt(conn, *target, msg, deadline),
                                 asio::use_awaitable);
        attempt_result result = co_await std::move(op);
        if (result.outcome) {
            if (result.reusable) self->give_back(target->pool_key, std::move(conn));
            co_return std::move(*result.outcome);
        }
        const bool stale = reused && result.closed_before_answer;
        if (stale && may_replay && attempt_index == 0 && steady::now() < deadline) continue;
        co_return std::unexpected(std::move(result.outcome.error()));
    }
}

}  // namespace tkt::http
