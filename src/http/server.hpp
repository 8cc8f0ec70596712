#pragma once
// The HTTP/1.1 server: Boost.Beast on C++20 coroutines.
//
// One io_context runs on N threads (the caller runs it); every connection lives on its own
// strand, so a connection's requests are handled one after another and answered in order
// (pipelining included) while connections run in parallel. Each limit is enforced here and
// answered properly: body size (413), header size (431), read and idle timeouts (a slow client
// is cut off), connection count (503), per-IP rate limit on auth routes (429 + Retry-After).
// Behind trusted proxies the IP is the client's from X-Forwarded-For (http/forwarded.hpp).
//
// A handler may answer with a stream (response::stream, e.g. Server-Sent Events): the server
// writes the head, then each piece the stream yields under the read timeout (a client that
// does not read is cut off), watches for the peer closing meanwhile (the stream is cancelled),
// and closes the connection when the stream ends. Idle and read timeouts do not apply while a
// stream waits for its next piece.
//
// Lifetime: listen() → start() → stop() (stop accepting, close idle keep-alive connections,
// let busy ones finish their answer and close, give open streams stream_stop_timeout to end)
// → wait until sessions() == 0 or the grace period ends. Beast stays inside server.cpp: this
// header is safe for domain modules.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/ip_address.hpp"
#include "http/rate_limiter.hpp"

namespace tkt::http {

class router;
class metrics;

struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port, see listen()
    std::size_t max_connections = 10'000;
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds idle_timeout{30'000};
    // Streams (response::stream) still open when stop() is called get this long to end by
    // themselves (the SSE hub writes a retry hint and ends its streams on shutdown) before they
    // are cancelled and their connections closed.
    std::chrono::milliseconds stream_stop_timeout{1'000};
    rate_limit_options auth_rate_limit;
    // Peers whose X-Forwarded-For names the client, for the rate limits and the access log
    // (http/forwarded.hpp). Empty: every peer is the client.
    std::vector<cidr> trusted_proxies;
    // How many threads run the io_context: it must be the number that call io.run() (serve
    // takes both from one function). With exactly one, a connection runs on the io_context's
    // own executor: one thread already runs its handlers one at a time, and a strand per
    // connection would only cost (a lock and a queue per hop). 0: not known, strands.
    int io_threads = 0;
};

// What the access log hears about each answered request.
struct access_log_entry {
    std::string_view method;
    std::string_view path;
    std::string_view route;  // the matched pattern, or "" when none matched
    std::string_view request_id;
    // The client: the TCP peer, or whom a trusted proxy named in X-Forwarded-For.
    std::string_view remote_ip;
    // The TCP peer when it is a trusted proxy (remote_ip was read from X-Forwarded-For), else "".
    std::string_view proxy_ip;
    int status = 0;
    double seconds = 0;
};

class server {
public:
    server(boost::asio::io_context& io, const router& routes, metrics& m, server_options options);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and listens. Returns the bound port (useful with port 0) or a one-line reason.
    std::expected<std::uint16_t, std::string> listen();
    // Starts the accept loop on the io_context.
    void start();
    // Stops accepting and winds connections down; callable from any thread, more than once.
    void stop();
    // Connections still open.
    std::size_t sessions() const;
    // Called after each answer, on the connection's strand. Set before start().
    void on_access(std::function<void(const access_log_entry&)> fn);
    // Called when a handler throws (the client gets 500 INTERNAL with the request id).
    void on_failure(std::function<void(std::string_view request_id, std::string_view route,
                                       std::string_view what)>
                        fn);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace tkt::http
