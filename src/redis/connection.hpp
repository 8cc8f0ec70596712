#pragma once
// One TCP connection to one Redis server, shared by every coroutine of the process that talks
// to that server, with automatic pipelining (STYLE.md, Batch).
//
// How it works. `exec` queues the encoded command and waits. A writer coroutine takes every
// command queued at that moment and writes them in one `async_write`; a reader coroutine feeds
// what arrives to the RESP parser and hands each reply to the oldest request still waiting for
// one (Redis answers in order). So a thousand coroutines calling `exec` at once cost a few
// writes and reads, not a thousand round trips.
//
// Deadlines. Every request has one (`connection_options::request_timeout`, or per call). When
// it passes, the caller gets errc::timeout at once; the command may still run, and its reply,
// when it comes, is read and dropped in its turn so that later replies stay matched. A request
// that times out before it was written is never written.
//
// Failures. The connection connects at construction, within `connect_timeout`, sending AUTH and
// SELECT first when the options ask. When the connection fails or drops it reconnects by itself
// with exponential backoff (`reconnect_delay_min` doubling up to `reconnect_delay_max`).
// Requests that were written and not answered fail with errc::io: they may have run, and
// repeating a non-idempotent command is the caller's decision, never the connection's. Requests
// not yet written wait for the next connection within their deadline, or fail at once with
// errc::io when `disconnected` is `fail_fast`.
//
// Thread-safety: every method may be called from any thread, any executor. The connection's
// state lives on its own strand; `exec` runs there and the caller resumes on its own executor.
// The connection must outlive the calls it has started; destroying it (or `close()`) fails what
// is pending with errc::io.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "redis/error.hpp"
#include "redis/resp.hpp"

namespace tkt::redis {

using result = std::expected<reply, error>;

// What a request does when it finds no live connection.
enum class when_disconnected {
    wait,       // wait for the reconnection, within the request's deadline
    fail_fast,  // fail at once with errc::io ("not connected")
};

struct connection_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string username;  // AUTH <username> <password> (ACL) when set
    std::string password;  // AUTH <password> when set
    int database = 0;      // SELECT <database> when not 0
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds request_timeout{2000};
    std::chrono::milliseconds reconnect_delay_min{50};
    std::chrono::milliseconds reconnect_delay_max{2000};
    when_disconnected disconnected = when_disconnected::wait;
    // For a `subscriber`, whose connection may sit idle for long: it sends PING after this long
    // without a byte from the server, and drops and reopens the connection when the PING is
    // not answered within this long again, so that a server that hangs or a connection that
    // is silently gone (half-open TCP) is noticed. 0 turns it off. A `connection` needs none:
    // its requests have deadlines.
    std::chrono::milliseconds idle_ping_interval{5000};
    // At most this many bytes of queued commands go into one write.
    std::size_t write_batch_bytes_max = 1u << 20;
    parser_limits limits;
};

// `redis://[[username]:password@]host[:port][/db]` into options (the other fields keep their
// defaults). An error names what is wrong.
std::expected<connection_options, std::string> parse_redis_url(std::string_view url);

// Counters since construction, for metrics and for tests.
struct connection_stats {
    std::uint64_t requests = 0;     // commands written
    std::uint64_t writes = 0;       // async_writes that carried them
    std::uint64_t timeouts = 0;     // requests that answered errc::timeout
    std::uint64_t connects = 0;     // connections established (the first one included)
    std::uint64_t disconnects = 0;  // connections lost
};

class connection {
public:
    // Starts connecting at once, on a strand of `executor`.
    connection(boost::asio::any_io_executor executor, connection_options options);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Sends `c` and waits for its reply. An error reply from the server is errc::server with
    // the server's text (errors nested in an array reply, as in EXEC's, stay replies). Not a
    // coroutine itself: the command is encoded before it returns, so
    // `co_await conn.exec(command{"GET", key})` is safe in one statement.
    boost::asio::awaitable<result> exec(const command& c);
    boost::asio::awaitable<result> exec(const command& c, std::chrono::milliseconds timeout);

    // Sends `commands` back to back (no other caller's command between them) and waits for all
    // of their replies, one result each, in order. For ASKING before a command, or MULTI/EXEC.
    boost::asio::awaitable<std::vector<result>> exec_all(const std::vector<command>& commands,
                                                         std::chrono::milliseconds timeout);

    // Stops for good: fails every pending request with errc::io, closes the socket, stops
    // reconnecting. Idempotent.
    void close();

    bool connected() const;
    connection_stats stats() const;
    const connection_options& options() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace tkt::redis
