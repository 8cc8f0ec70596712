#include "http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/detail/beast_request.hpp"
#include "http/forwarded.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace tkt::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using detail::beast_request;
using detail::lookup_header;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The Date header, formatted at most once per second per thread.
std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local char text[64] = {};
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_second = now;
    }
    return text;
}

// Every X-Forwarded-For field of `req`, joined by commas in the order they came (RFC 9110
// §5.3: the same as one field), so a proxy that adds a field of its own instead of appending to
// the client's is read right.
std::string forwarded_for(const beast_request& req) {
    std::string out;
    const auto [first, last] = req.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
        if (!out.empty()) out += ',';
        out += it->value();
    }
    return out;
}

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                  c == ':';
        if (!ok) return false;
    }
    return true;
}

enum class keep_alive { yes, no };

void append_number(std::string& out, std::uint64_t n, int base = 10) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, base);
    static_cast<void>(ec);  // 24 characters hold any 64-bit number in base 10 or 16
    out.append(digits, end);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

// Writes the status line, headers and body into `out` (reused between requests). Plain appends:
// this runs for every answer, and a format string costs more than the few pieces it joins.
void serialize(const response& res, keep_alive keep, std::string_view request_id,
               std::string& out) {
    out.clear();
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::uint64_t>(res.status));
    out += ' ';
    out += bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
    out += "\r\nServer: ticketon\r\nDate: ";
    out += http_date();
    out += "\r\n";
    if (!res.content_type.empty()) append_header(out, "Content-Type", res.content_type);
    if (res.status != 204 && res.status != 304) {
        out += "Content-Length: ";
        append_number(out, res.payload().size());
        out += "\r\n";
    }
    append_header(out, "X-Request-Id", request_id);
    for (const auto& [name, value] : res.headers) append_header(out, name, value);
    if (keep == keep_alive::no) out += "Connection: close\r\n";
    out += "\r\n";
    // A shared body is written after the head, from where it is (session()).
    if (res.status != 204 && res.status != 304 && !res.shared_body) out += res.body;
}

// The head of a streaming answer: no Content-Length, the body runs until the connection closes;
// nothing may cache it or hold it back (X-Accel-Buffering: nginx's proxy buffering).
void serialize_stream_head(const response& res, std::string_view request_id, std::string& out) {
    out.clear();
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::uint64_t>(res.status));
    out += ' ';
    out += bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
    out += "\r\nServer: ticketon\r\nDate: ";
    out += http_date();
    out += "\r\n";
    if (!res.content_type.empty()) append_header(out, "Content-Type", res.content_type);
    out += "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
    append_header(out, "X-Request-Id", request_id);
    for (const auto& [name, value] : res.headers) append_header(out, name, value);
    out += "Connection: close\r\n\r\n";
}

using steady = std::chrono::steady_clock;

// The stream_sink of a streaming connection. write_now() may come from any thread (the SSE
// hub's tick), so it sends on the descriptor itself, under `mutex_`, and the connection marks it
// closed under the same mutex before its socket closes: a write never reaches a descriptor that
// was closed and maybe reused. The socket is non-blocking (session()); so is the send.
class socket_sink final : public stream_sink {
public:
    explicit socket_sink(int fd) : fd_(fd) {}

    std::size_t write_now(std::string_view bytes, boost::system::error_code& ec) override {
        std::lock_guard lock(mutex_);
        if (fd_ < 0) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        for (;;) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                ec.assign(errno, boost::system::system_category());
            return 0;
        }
    }

    void close() {
        std::lock_guard lock(mutex_);
        fd_ = -1;
    }

private:
    std::mutex mutex_;
    int fd_;
};

// One client connection. Touched only on the connection's executor (by its session coroutine,
// its watchdog, and stop()'s posted cancel): its own strand, or the io_context's executor when
// one thread runs it (server_options::io_threads).
//
// Timeouts: instead of arming a timer for every read and write (two or three timer operations
// per request), each connection has one watchdog timer that wakes at the current deadline. The
// session moves `deadline` as it goes; a deadline later than the armed one costs nothing (the
// watchdog re-arms when it wakes), an earlier one cancels the timer so the watchdog re-arms
// sooner. A request that arrives in one read and an answer written in one go never touch it.
//
// A streaming connection (response::stream) waits in the `streaming` phase with no deadline
// unless the server is stopping (stream_deadline); a write that blocks gets the read timeout.
// The stream is cancelled once at most: peer gone, write failed, or deadline passed.
struct connection {
    enum class phase { idle, reading, handling, writing, streaming };

    explicit connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    // Whatever way the socket closes (here, if not in session()), the sink stops first.
    ~connection() {
        if (sink) sink->close();
    }

    void set_deadline(steady::time_point t) {
        deadline = t;
        if (t < armed) timer.cancel();
    }

    void cancel_stream() {
        if (!stream || stream_cancelled) return;
        stream_cancelled = true;
        stream->cancel();
    }

    tcp::socket socket;
    asio::steady_timer timer;
    phase now = phase::idle;
    steady::time_point deadline = steady::time_point::max();
    steady::time_point armed = steady::time_point::max();
    bool timed_out = false;
    bool closed = false;
    std::shared_ptr<stream_body> stream;
    std::shared_ptr<socket_sink> sink;  // set when a stream begins
    bool stream_cancelled = false;
    steady::time_point stream_deadline = steady::time_point::max();
};

// While a stream is written, notices the peer closing: a stream waiting for its next piece
// would otherwise only learn of it on its next write, maybe minutes later (a heartbeat), and
// hold its memory meanwhile. Bytes the peer sends are read and dropped; end of stream or an
// error cancels the stream and any write in progress. A plain callback rather than a coroutine:
// it costs one small operation per stream, not a coroutine frame.
void watch_peer(std::shared_ptr<connection> conn) {
    auto& socket = conn->socket;
    socket.async_wait(
        tcp::socket::wait_read, [conn = std::move(conn)](boost::system::error_code ec) mutable {
            if (ec == asio::error::operation_aborted || conn->closed || !conn->stream) return;
            if (!ec) {
                std::array<char, 256> sink;
                for (int reads = 0; reads < 64; ++reads) {
                    conn->socket.read_some(asio::buffer(sink), ec);
                    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
                    if (ec) break;
                }
                if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
                    watch_peer(std::move(conn));
                    return;
                }
            }
            conn->cancel_stream();
            conn->socket.cancel(ec);
        });
}

}  // namespace

struct server::impl : std::enable_shared_from_this<server::impl> {
    impl(asio::io_context& io, const router& routes, metrics& m, server_options options)
        : io_(io),
          routes_(routes),
          metrics_(m),
          options_(std::move(options)),
          acceptor_(asio::make_strand(io)),
          limiter_(options_.auth_rate_limit) {}

    asio::io_context& io_;
    const router& routes_;
    metrics& metrics_;
    server_options options_;
    tcp::acceptor acceptor_;
    rate_limiter limiter_;
    std::function<void(const access_log_entry&)> on_access_;
    std::function<void(std::string_view, std::string_view, std::string_view)> on_failure_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> session_count_{0};
    std::atomic<std::uint64_t> next_session_id_{1};
    // Makes request ids unique across restarts and nodes: "<tag>-<connection>-<request>".
    std::string instance_tag_ = fmt::format("{:08x}", std::random_device{}());
    std::mutex sessions_mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<connection>> sessions_;

    asio::awaitable<void> accept_loop();
    void reject(tcp::socket socket);
    asio::awaitable<void> session(std::shared_ptr<connection> conn, std::uint64_t id);
    asio::awaitable<std::shared_ptr<stream_body>> serve_requests(connection& conn,
                                                                 std::uint64_t id);
    asio::awaitable<void> stream_out(const std::shared_ptr<connection>& conn,
                                     std::shared_ptr<stream_body> body);
    asio::awaitable<void> watchdog(std::shared_ptr<connection> conn);
    asio::awaitable<boost::system::error_code> read_request(
        connection& conn, beast::flat_buffer& buffer,
        bhttp::request_parser<bhttp::string_body>& parser);
    // Writes `head` then `tail` (one sendmsg while the socket takes it all).
    asio::awaitable<boost::system::error_code> write_all(connection& conn, std::string_view head,
                                                         std::string_view tail = {});
    problem read_problem(const boost::system::error_code& ec) const;
    asio::awaitable<response> dispatch(beast_request& breq, const std::string& remote_ip,
                                       const std::string& request_id, std::size_t& route_index);
    asio::awaitable<void> answer_error(connection& conn, const problem& p,
                                       std::string_view request_id);
    void log_access(const beast_request& req, std::string_view ip, std::string_view proxy_ip,
                    const std::string& rid, std::size_t route_index, int status, double seconds);
};

server::server(asio::io_context& io, const router& routes, metrics& m, server_options options)
    : impl_(std::make_shared<impl>(io, routes, m, std::move(options))) {}

server::~server() {
    stop();
}

std::expected<std::uint16_t, std::string> server::listen() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(impl_->options_.host, ec);
    if (ec) return std::unexpected(fmt::format("bad listen address '{}'", impl_->options_.host));
    tcp::endpoint endpoint(address, impl_->options_.port);
    auto& acceptor = impl_->acceptor_;
    if (acceptor.open(endpoint.protocol(), ec); ec) {
        return std::unexpected(fmt::format("cannot open socket: {}", ec.message()));
    }
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(endpoint, ec); ec) {
        return std::unexpected(fmt::format("cannot listen on {}:{}: {}", impl_->options_.host,
                                           impl_->options_.port, ec.message()));
    }
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return std::unexpected(fmt::format("cannot listen: {}", ec.message()));
    }
    return acceptor.local_endpoint().port();
}

void server::start() {
    auto self = impl_;
    asio::co_spawn(impl_->acceptor_.get_executor(), self->accept_loop(),
                   [self](std::exception_ptr e) {
                       if (e) std::rethrow_exception(e);
                   });
}

void server::stop() {
    auto self = impl_;
    if (self->stopping_.exchange(true)) return;
    asio::post(self->acceptor_.get_executor(), [self] {
        boost::system::error_code ec;
        self->acceptor_.close(ec);
    });
    std::lock_guard lock(self->sessions_mutex_);
    const auto stream_stop_timeout = self->options_.stream_stop_timeout;
    for (auto& [id, conn] : self->sessions_) {
        // Idle connections wait in a read: cancel it. Busy ones see stopping_ after answering.
        // Streams get a deadline (stream_out sets one for those that begin after this).
        asio::post(conn->socket.get_executor(), [conn, stream_stop_timeout] {
            boost::system::error_code ec;
            if (conn->now == connection::phase::idle) {
                conn->socket.cancel(ec);
            } else if (conn->stream) {
                conn->stream_deadline = steady::now() + stream_stop_timeout;
                conn->set_deadline(std::min(conn->deadline, conn->stream_deadline));
            }
        });
    }
}

std::size_t server::sessions() const {
    return impl_->session_count_.load();
}

void server::on_access(std::function<void(const access_log_entry&)> fn) {
    impl_->on_access_ = std::move(fn);
}

void server::on_failure(
    std::function<void(std::string_view request_id, std::string_view route, std::string_view what)>
        fn) {
    impl_->on_failure_ = std::move(fn);
}

asio::awaitable<void> server::impl::accept_loop() {
    auto self = shared_from_this();
    while (!stopping_) {
        // The connection's executor: a strand of its own, unless one thread runs the io_context.
        auto executor = options_.io_threads == 1 ? asio::any_io_executor(io_.get_executor())
                                                 : asio::any_io_executor(asio::make_strand(io_));
        auto [ec, socket] = co_await acceptor_.async_accept(executor, tuple_awaitable);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            // Out of file descriptors or a transient error: back off briefly, keep serving.
            asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(tuple_awaitable);
            continue;
        }
        if (session_count_.load() >= options_.max_connections) {
            reject(std::move(socket));
            continue;
        }
        boost::system::error_code opt_ec;
        socket.set_option(tcp::no_delay(true), opt_ec);
        auto id = next_session_id_.fetch_add(1);
        auto conn = std::make_shared<connection>(std::move(socket));
        {
            std::lock_guard lock(sessions_mutex_);
            sessions_.emplace(id, conn);
        }
        session_count_.fetch_add(1);
        metrics_.connection_opened();
        asio::co_spawn(executor, session(conn, id), [self, id](std::exception_ptr) {
            // The session's own try/catch logs; here only the bookkeeping.
            {
                std::lock_guard lock(self->sessions_mutex_);
                self->sessions_.erase(id);
            }
            self->metrics_.connection_closed();
            self->session_count_.fetch_sub(1);
        });
    }
}

// Over the connection limit: a short 503 without blocking, then close.
void server::impl::reject(tcp::socket socket) {
    metrics_.connection_rejected();
    auto p = make_problem(problem_code::unavailable, "too many connections");
    p.retry_after_seconds = 1;
    std::string out;
    serialize(problem_response(p), keep_alive::no, "-", out);
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(out), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

asio::awaitable<void> server::impl::watchdog(std::shared_ptr<connection> conn) {
    while (!conn->closed) {
        auto now = steady::now();
        if (conn->now == connection::phase::handling) {
            // Handlers bound their own remote calls; the connection is not timed meanwhile.
            conn->armed = now + options_.idle_timeout;
        } else if (now >= conn->deadline) {
            conn->timed_out = true;
            boost::system::error_code ec;
            conn->socket.cancel(ec);
            conn->cancel_stream();
            conn->armed = steady::time_point::max();
        } else {
            conn->armed = conn->deadline;
        }
        conn->timer.expires_at(conn->armed);
        co_await conn->timer.async_wait(tuple_awaitable);
    }
}

// Parses what is buffered and reads more until `parser` has a whole request or fails.
// Idle (nothing of the request yet): the idle timeout applies. Once a request has begun, all of
// it must arrive within the read timeout from its first byte.
asio::awaitable<boost::system::error_code> server::impl::read_request(
    connection& conn, beast::flat_buffer& buffer,
    bhttp::request_parser<bhttp::string_body>& parser) {
    boost::system::error_code ec;
    bool begun = buffer.size() > 0;
    auto started = steady::now();
    for (;;) {
        if (buffer.size() > 0) {
            begun = true;
            std::size_t used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            if (ec == bhttp::error::need_more) {
                ec = {};
            } else if (ec || parser.is_done()) {
                co_return ec;
            } else if (used > 0 && buffer.size() > 0) {
                continue;
            }
        }
        if (begun && conn.now != connection::phase::reading) {
            conn.now = connection::phase::reading;
            conn.set_deadline(started + options_.read_timeout);
        } else if (!begun) {
            conn.now = connection::phase::idle;
            conn.set_deadline(steady::now() + options_.idle_timeout);
        }
        auto [read_ec, n] =
            co_await conn.socket.async_read_some(buffer.prepare(8192), tuple_awaitable);
        if (conn.timed_out) co_return beast::error::timeout;
        if (read_ec == asio::error::eof && begun) {
            parser.put_eof(ec);
            co_return ec ? ec : bhttp::error::partial_message;
        }
        if (read_ec) co_return read_ec;
        buffer.commit(n);
        if (!begun) started = steady::now();
    }
}

// Writes at once when the socket takes it all (the common case: no timer, no suspension);
// otherwise waits under the read timeout for a slow reader.
asio::awaitable<boost::system::error_code> server::impl::write_all(connection& conn,
                                                                   std::string_view head,
                                                                   std::string_view tail) {
    conn.now = connection::phase::writing;
    boost::system::error_code ec;
    std::array<asio::const_buffer, 2> pieces{asio::buffer(head), asio::buffer(tail)};
    std::size_t written = conn.socket.write_some(pieces, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
    if (ec) written = 0;
    if (written == head.size() + tail.size()) co_return boost::system::error_code{};
    conn.set_deadline(steady::now() + options_.read_timeout);
    if (written < head.size()) {
        pieces = {asio::buffer(head.substr(written)), asio::buffer(tail)};
    } else {
        pieces = {asio::buffer(tail.substr(written - head.size())), asio::const_buffer()};
    }
    auto [write_ec, n] = co_await asio::async_write(conn.socket, pieces, tuple_awaitable);
    if (conn.timed_out) co_return beast::error::timeout;
    co_return write_ec;
}

asio::awaitable<void> server::impl::session(std::shared_ptr<connection> conn, std::uint64_t id) {
    boost::system::error_code ec;
    conn->socket.non_blocking(true, ec);
    asio::co_spawn(conn->socket.get_executor(), watchdog(conn), asio::detached);
    try {
        // Requests are read and answered in serve_requests(), whose frame (the read buffer, the
        // parser, the answer's text) is freed before a stream begins: a stream may stay open
        // for hours, and only what it needs should stay with it.
        auto serving = serve_requests(*conn, id);
        std::shared_ptr<stream_body> stream = co_await std::move(serving);
        if (stream) {
            auto streaming = stream_out(conn, std::move(stream));
            co_await std::move(streaming);
        }
    } catch (const std::exception&) {
        // A failure in the connection itself (not in a handler, which dispatch() contains):
        // the connection is closed below; nothing more can be told to this client.
    }
    conn->cancel_stream();  // only when a failure left it running
    conn->stream.reset();
    conn->closed = true;
    conn->timer.cancel();
    if (conn->sink) conn->sink->close();
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
    conn->socket.close(ec);
}

// Reads and answers requests until the connection is to close; returns the stream when the
// last answer was the head of one (response::stream), written already.
asio::awaitable<std::shared_ptr<stream_body>> server::impl::serve_requests(connection& conn,
                                                                           std::uint64_t id) {
    boost::system::error_code ec;
    auto peer = conn.socket.remote_endpoint(ec);
    const std::string remote_ip = ec ? std::string("unknown") : peer.address().to_string();
    // Whether the peer is a trusted proxy, decided once: it is the same for every request here.
    std::optional<ip_address> proxy;
    if (!ec && !options_.trusted_proxies.empty()) {
        proxy = parse_ip_address(remote_ip);
        if (proxy && !is_trusted_proxy(*proxy, options_.trusted_proxies)) proxy.reset();
    }
    beast::flat_buffer buffer;
    std::string out;
    std::uint64_t sequence = 0;

    for (;;) {
        if (stopping_ && buffer.size() == 0) break;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
        parser.body_limit(options_.max_body_bytes);
        parser.eager(true);
        auto read_ec = co_await read_request(conn, buffer, parser);
        // "<instance>-<connection>-<request>" in hex, unless the client sent its own.
        std::string request_id = instance_tag_;
        request_id += '-';
        append_number(request_id, id, 16);
        request_id += '-';
        append_number(request_id, ++sequence, 16);
        if (read_ec) {
            // Fields arrive complete one by one, so whatever was read is usable: echo the
            // client's request id on a 413 as on any other answer.
            auto client_id = lookup_header(&parser.get(), "X-Request-Id");
            if (acceptable_request_id(client_id)) request_id = std::string(client_id);
            if (read_ec == asio::error::eof || read_ec == asio::error::connection_reset ||
                read_ec == asio::error::operation_aborted ||
                (read_ec == beast::error::timeout && conn.now == connection::phase::idle)) {
                break;
            }
            co_await answer_error(conn, read_problem(read_ec), request_id);
            break;
        }
        conn.now = connection::phase::handling;
        auto& req = parser.get();
        auto client_id = lookup_header(&req, "X-Request-Id");
        if (acceptable_request_id(client_id)) request_id = std::string(client_id);

        // Behind a trusted proxy, the client it names; otherwise the peer.
        const std::string client_ip =
            proxy ? client_address(*proxy, forwarded_for(req), options_.trusted_proxies)
                  : remote_ip;
        const std::string_view proxy_ip = proxy ? std::string_view{remote_ip} : "";

        auto started = steady::now();
        std::size_t route_index = SIZE_MAX;
        response res = co_await dispatch(req, client_ip, request_id, route_index);
        double seconds = std::chrono::duration<double>(steady::now() - started).count();
        metrics_.observe(route_index, res.status, seconds);
        if (res.hang_up) break;  // closed without a byte of answer, and not logged
        const keep_alive keep =
            req.keep_alive() && !stopping_ && !res.stream ? keep_alive::yes : keep_alive::no;
        if (res.stream) {
            serialize_stream_head(res, request_id, out);
        } else {
            serialize(res, keep, request_id, out);
        }
        if (on_access_)
            log_access(req, client_ip, proxy_ip, request_id, route_index, res.status, seconds);

        std::string_view tail;
        if (res.shared_body && res.status != 204 && res.status != 304) tail = *res.shared_body;
        auto write = write_all(conn, out, tail);  // a local first: g++ 12 and co_await in an if
        if (co_await std::move(write)) break;
        if (res.stream) co_return std::move(res.stream);
        if (keep == keep_alive::no) break;
    }
    co_return nullptr;
}

// Writes a stream's pieces as they come until it ends, it is cancelled, or a write fails.
asio::awaitable<void> server::impl::stream_out(const std::shared_ptr<connection>& conn,
                                               std::shared_ptr<stream_body> body) {
    conn->stream = std::move(body);
    conn->now = connection::phase::streaming;
    if (stopping_) conn->stream_deadline = steady::now() + options_.stream_stop_timeout;
    conn->set_deadline(conn->stream_deadline);
    watch_peer(conn);
    conn->sink = std::make_shared<socket_sink>(conn->socket.native_handle());
    conn->stream->attach(conn->sink);
    for (;;) {
        auto pending = conn->stream->next();
        std::optional<std::string> piece = co_await std::move(pending);
        if (!piece) break;
        if (piece->empty()) continue;
        if (co_await write_all(*conn, *piece)) {
            conn->cancel_stream();
            break;
        }
        conn->now = connection::phase::streaming;
        conn->set_deadline(conn->stream_deadline);
    }
}

problem server::impl::read_problem(const boost::system::error_code& ec) const {
    if (ec == bhttp::error::body_limit) {
        return make_problem(problem_code::payload_too_large,
                            fmt::format("the body exceeds {} bytes", options_.max_body_bytes));
    }
    if (ec == bhttp::error::header_limit) {
        return make_problem(problem_code::headers_too_large,
                            fmt::format("the headers exceed {} bytes", options_.max_header_bytes));
    }
    if (ec == beast::error::timeout) {
        return make_problem(problem_code::request_timeout, "the request did not arrive in time");
    }
    auto p = make_problem(problem_code::validation_failed, "malformed HTTP request");
    p.field = "request";
    return p;
}

// Answers a request that could not be read, then closes gently: the client may still be sending
// (a body over the limit), and closing with unread data would reset the connection before it
// reads our answer. So: answer, shut our side, drain briefly, close.
asio::awaitable<void> server::impl::answer_error(connection& conn, const problem& p,
                                                 std::string_view request_id) {
    std::string out;
    serialize(problem_response(p), keep_alive::no, request_id, out);
    metrics_.observe(SIZE_MAX, p.status(), 0);
    conn.timed_out = false;
    if (co_await write_all(conn, out)) co_return;
    boost::system::error_code ec;
    conn.socket.shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    conn.now = connection::phase::reading;
    conn.set_deadline(steady::now() + std::chrono::milliseconds(500));
    while (drained < (1u << 20)) {
        auto [read_ec, n] =
            co_await conn.socket.async_read_some(asio::buffer(sink), tuple_awaitable);
        if (read_ec || conn.timed_out) break;
        drained += n;
    }
}

asio::awaitable<response> server::impl::dispatch(beast_request& breq, const std::string& remote_ip,
                                                 const std::string& request_id,
                                                 std::size_t& route_index) {
    request req;
    detail::adopt(breq, req);
    req.remote_ip = remote_ip;
    req.request_id = request_id;

    auto found = routes_.match(req.method, req.path);
    if (found.outcome == match_result::kind::not_found) {
        if (const handler* fallback = routes_.fallback(); fallback && req.method == verb::get) {
            co_return co_await (*fallback)(req);
        }
        co_return problem_response(make_problem(problem_code::not_found, "no such resource"));
    }
    if (found.outcome == match_result::kind::method_not_allowed) {
        auto res = problem_response(
            make_problem(problem_code::method_not_allowed,
                         fmt::format("{} is not allowed here", to_string(req.method))));
        res.with_header("Allow", found.allow);
        co_return res;
    }
    route_index = found.index;
    req.params = std::move(found.params);
    const route& r = *found.matched;
    if (r.options.rate_limit == rate_limit_class::auth) {
        if (auto wait = limiter_.acquire(remote_ip, std::chrono::steady_clock::now())) {
            auto p =
                make_problem(problem_code::rate_limited, "too many requests from this address");
            p.retry_after_seconds = *wait;
            co_return problem_response(p);
        }
    }
    std::string failure;
    std::optional<std::string> unavailable;
    try {
        co_return co_await r.fn(req);
    } catch (const unavailable_error& e) {
        unavailable = e.what();
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (unavailable) {
        auto p = make_problem(problem_code::unavailable, std::move(*unavailable));
        p.retry_after_seconds = 1;
        co_return problem_response(p);
    }
    auto p = make_problem(problem_code::internal, "the server failed to answer this request");
    p.extra["requestId"] = request_id;
    if (on_failure_) on_failure_(request_id, r.pattern, failure);
    co_return problem_response(p);
}

void server::impl::log_access(const beast_request& req, std::string_view ip,
                              std::string_view proxy_ip, const std::string& rid,
                              std::size_t route_index, int status, double seconds) {
    std::string_view target = req.target();
    auto path = target.substr(0, target.find('?'));
    std::string_view route;
    if (route_index < routes_.routes().size()) route = routes_.routes()[route_index].pattern;
    on_access_(access_log_entry{bhttp::to_string(req.method()), path, route, rid, ip, proxy_ip,
                                status, seconds});
}

}  // namespace tkt::http
