#pragma once
// The load generator's client side (`ticketon load`, issue 14): one simulated user's HTTP/1.1
// keep-alive connection, and a Server-Sent Events reader. Each may be bound to a loopback source
// address, so that a run can hold more connections than one address has ports (~28,000) and the
// server's per-address limits see many people. Every call has a deadline; a failure is a value
// (`error` set), never an exception.
//
// Thread-safety: one coroutine at a time per object (each simulated user owns its own).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace tkt::load {

// Where the requests go: http://host:port (an optional path prefix is kept).
struct target {
    std::string host;
    std::uint16_t port = 80;
    std::string prefix;  // e.g. "" or "/ticketon"
    std::string url() const;
};
// Parses http://host[:port][/prefix]; nullopt for anything else (https is not supported).
std::optional<target> parse_target(std::string_view url);

struct reply {
    int status = 0;  // 0: no answer (see error)
    std::string body;
    std::string error;  // "timeout", "connect", "io": the transport failed
    std::chrono::microseconds took{0};
    int retry_after_s = -1;  // the answer's Retry-After in seconds; -1 when it had none
    bool ok() const { return error.empty(); }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

class connection {
public:
    // `source`: the local address to bind to (empty: any).
    connection(boost::asio::any_io_executor ex, target to, std::string source);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // One request; `token` becomes `Authorization: Bearer`. A broken keep-alive connection is
    // reopened once for the next call, not retried.
    boost::asio::awaitable<reply> call(std::string method, std::string path, std::string body,
                                       std::string token, header_list headers,
                                       std::chrono::milliseconds timeout);
    void close();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

struct sse_event {
    std::string id;
    std::string type;  // "message" when the event named none
    std::string data;
};

class event_stream {
public:
    event_stream(boost::asio::any_io_executor ex, target to, std::string source);
    ~event_stream();
    event_stream(const event_stream&) = delete;
    event_stream& operator=(const event_stream&) = delete;

    // GET `path` with `Accept: text/event-stream`; the answer's status (0 and error set when
    // the transport failed).
    boost::asio::awaitable<reply> open(std::string path, std::string token,
                                       std::chrono::milliseconds timeout);
    // The next event; nullopt when the stream ended or `timeout` passed first (the stream is
    // closed then too).
    boost::asio::awaitable<std::optional<sse_event>> next(std::chrono::milliseconds timeout);
    bool ended() const;
    void close();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace tkt::load
