#include "http/sse_hub.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace tkt::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Polls `pred` until it holds or `limit` passes; the answer is whether it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
    const auto deadline = steady::now() + limit;
    while (!pred()) {
        if (steady::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::string event(std::string_view type, std::string_view data) {
    std::string out;
    append_sse_event(out, {.id = "", .type = std::string(type), .data = std::string(data)});
    return out;
}

// A real server with an SSE hub on 127.0.0.1, run by two threads. GET /stream?kind=K&initial=D
// opens a stream of kind K (initial: one `init` event with data D); the test gets its client
// from next_client().
class harness {
public:
    explicit harness(sse_hub_options hub_options, server_options options = {})
        : hub(io_, hub_options) {
        routes_.add(verb::get, "/stream", [this](request& req) -> asio::awaitable<response> {
            std::string initial;
            if (auto data = req.query_param("initial")) initial = event("init", *data);
            auto opened = hub.open(req.query_param("kind").value_or("t"), std::move(initial));
            if (opened.client) {
                std::lock_guard lock(mutex_);
                clients_.push_back(opened.client);
                cv_.notify_all();
            }
            co_return std::move(opened.res);
        });
        options.host = "127.0.0.1";
        options.port = 0;
        metrics_.bind_routes(routes_);
        server_.emplace(io_, routes_, metrics_, options);
        auto port = server_->listen();
        EXPECT_TRUE(port.has_value());
        port_ = port.value_or(0);
        server_->start();
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }

    ~harness() {
        // As serve does: the hub ends its streams, the server stops and its sessions end.
        hub.shutdown();
        server_->stop();
        eventually([this] { return server_->sessions() == 0; }, 3s);
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    // The client of the n-th stream opened (0-based), once its handler ran.
    std::shared_ptr<sse_client> client(std::size_t n) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, 5s, [&] { return clients_.size() > n; });
        return clients_.size() > n ? clients_[n] : nullptr;
    }

    std::uint16_t port() const { return port_; }
    server& srv() { return *server_; }

    // The io_context must outlive the hub: declared first, destroyed last.
private:
    asio::io_context io_;

public:
    sse_hub hub;

private:
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    metrics metrics_;
    router routes_;
    std::optional<server> server_;
    std::uint16_t port_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::shared_ptr<sse_client>> clients_;
    std::vector<std::thread> threads_;
};

// A blocking TCP client that reads with a timeout, as a browser's EventSource would see the
// bytes.
class raw_client {
public:
    explicit raw_client(std::uint16_t port, int receive_buffer_bytes = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (receive_buffer_bytes > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes,
                         sizeof receive_buffer_bytes);
        }
        timeval tv{.tv_sec = 5, .tv_usec = 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~raw_client() { close(); }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    void send(std::string_view text) {
        ASSERT_TRUE(connected_);
        ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(text.size()));
    }

    void get(std::string_view target) {
        send(fmt::format("GET {} HTTP/1.1\r\nHost: test\r\nX-Request-Id: sse-test-1\r\n\r\n",
                         target));
    }

    // One recv(): what arrived together. "" on end of stream or timeout (see eof()).
    std::string read_some() {
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) eof_ = true;
        if (n <= 0) return {};
        std::string got(buf, static_cast<std::size_t>(n));
        received += got;
        return got;
    }

    // Reads until `text` has been received since `from` (an offset into `received`); false on
    // end of stream or a 5-second silence first.
    bool read_until(std::string_view text, std::size_t from = 0) {
        while (received.find(text, from) == std::string::npos) {
            if (read_some().empty()) return false;
        }
        return true;
    }

    // Reads until the server closes; false when it does not within the timeout.
    bool read_to_eof() {
        while (!eof_) {
            if (read_some().empty() && !eof_) return false;
        }
        return true;
    }

    // The head, once read (up to and including the blank line).
    std::string head() const { return received.substr(0, received.find("\r\n\r\n") + 4); }
    // What came after the head.
    std::string body() const { return received.substr(head().size()); }
    bool eof() const { return eof_; }

    std::string received;

private:
    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
};

sse_hub_options quick(std::chrono::milliseconds tick = 20ms) {
    return {.tick = tick, .heartbeat = 60s, .retry = 3s, .queue = {}};
}

// Opens a stream and reads its head and its first write (retry hint and initial frames).
void open_stream(raw_client& c, std::string_view query = "kind=t") {
    c.get(fmt::format("/stream?{}", query));
    ASSERT_TRUE(c.read_until("\r\n\r\n"));
    ASSERT_TRUE(c.read_until("retry: 3000\n\n"));
}

TEST(sse_hub, a_stream_has_an_event_stream_head_then_the_retry_hint_then_the_initial_frames) {
    harness h(quick());
    raw_client c(h.port());
    open_stream(c, "kind=t&initial=snapshot");
    ASSERT_TRUE(c.read_until("data: snapshot\n\n"));

    const std::string head = c.head();
    EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
    EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Cache-Control: no-cache\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Accel-Buffering: no\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Request-Id: sse-test-1\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_EQ(c.body(), "retry: 3000\n\nevent: init\ndata: snapshot\n\n");
}

TEST(sse_hub, pushes_within_a_tick_arrive_together_in_order) {
    harness h(quick(200ms));
    raw_client c(h.port());
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);
    const std::size_t before = c.received.size();

    EXPECT_TRUE(client->push(event("a", "1")));
    EXPECT_TRUE(client->push(event("b", "2")));
    EXPECT_TRUE(client->push(event("c", "3")));
    // One write per tick: all three in the first read (one write of a few bytes on loopback).
    const std::string got = c.read_some();
    EXPECT_EQ(got, "event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: c\ndata: 3\n\n");
    EXPECT_EQ(c.received.size(), before + got.size());
}

TEST(sse_hub, push_latest_replaces_a_pending_frame_of_its_kind) {
    harness h(quick(200ms));
    raw_client c(h.port());
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);
    const std::size_t before = c.received.size();

    EXPECT_TRUE(client->push_latest("position", event("position", "9")));
    EXPECT_TRUE(client->push(event("note", "x")));
    EXPECT_TRUE(client->push_latest("position", event("position", "7")));
    ASSERT_TRUE(c.read_until("data: x\n\n", before));
    EXPECT_EQ(c.received.substr(before), "event: position\ndata: 7\n\nevent: note\ndata: x\n\n");
}

TEST(sse_hub, an_idle_stream_gets_heartbeat_comments) {
    harness h({.tick = 20ms, .heartbeat = 150ms, .retry = 3s, .queue = {}});
    raw_client c(h.port());
    open_stream(c);
    const std::size_t before = c.received.size();
    ASSERT_TRUE(c.read_until(": hb\n\n", before));
    const std::size_t first = c.received.find(": hb\n\n", before) + 6;
    EXPECT_TRUE(c.read_until(": hb\n\n", first)) << "heartbeats keep coming";
}

TEST(sse_hub, a_client_that_stops_reading_is_dropped_and_on_close_fires) {
    server_options so;
    so.read_timeout = 2s;  // the write deadline that then closes its connection
    harness h({.tick = 10ms,
               .heartbeat = 60s,
               .retry = 3s,
               .queue = {.bytes_max = 256 * 1024, .age_max = 1s}},
              so);
    raw_client c(h.port(), 4096);
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);
    std::promise<void> closed;
    client->on_close([&closed] { closed.set_value(); });
    EXPECT_EQ(h.hub.clients("t"), 1u);

    // Frames keep coming and the client reads none: the socket buffers fill, then the queue
    // passes a bound and the hub drops the client.
    const std::string frame = event("fill", std::string(16 * 1024, 'x'));
    bool refused = false;
    const auto deadline = steady::now() + 20s;
    while (!refused && steady::now() < deadline) {
        refused = !client->push(frame);
        std::this_thread::sleep_for(2ms);
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(closed.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(client->closed());
    EXPECT_FALSE(client->push(event("late", "x")));
    EXPECT_TRUE(eventually([&] { return h.hub.clients("t") == 0; }));
    std::string metrics;
    h.hub.collect_metrics(metrics);
    EXPECT_NE(metrics.find("ticketon_sse_dropped_total{kind=\"t\"} 1\n"), std::string::npos)
        << metrics;
    // Its connection is closed too (the blocked write times out).
    EXPECT_TRUE(eventually([&] { return h.srv().sessions() == 0; }, 10s));
}

TEST(sse_hub, the_peer_closing_ends_the_stream_promptly) {
    harness h(quick(60s));  // no tick: only the peer's close can end it
    raw_client c(h.port());
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);
    std::promise<void> closed;
    client->on_close([&closed] { closed.set_value(); });

    const auto started = steady::now();
    c.close();
    EXPECT_EQ(closed.get_future().wait_for(2s), std::future_status::ready);
    EXPECT_LT(steady::now() - started, 1s);
    EXPECT_TRUE(client->closed());
    EXPECT_EQ(h.hub.clients("t"), 0u);
    EXPECT_TRUE(eventually([&] { return h.srv().sessions() == 0; }));
}

TEST(sse_hub, close_writes_what_is_pending_then_ends_the_stream) {
    harness h(quick());
    raw_client c(h.port());
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);
    std::promise<void> closed;
    client->on_close([&closed] { closed.set_value(); });
    const std::size_t before = c.received.size();

    EXPECT_TRUE(client->push(event("last", "bye")));
    client->close();
    EXPECT_TRUE(client->closed());
    EXPECT_FALSE(client->push(event("after", "x")));
    ASSERT_TRUE(c.read_to_eof());
    EXPECT_EQ(c.received.substr(before), "event: last\ndata: bye\n\n");
    EXPECT_EQ(closed.get_future().wait_for(2s), std::future_status::ready);

    // Registered after the end, it runs at once.
    bool ran = false;
    client->on_close([&ran] { ran = true; });
    EXPECT_TRUE(ran);
}

TEST(sse_hub, shutdown_sends_retry_and_ends_every_stream_then_opens_get_503) {
    harness h(quick(60s));
    std::vector<std::unique_ptr<raw_client>> cs;
    for (int i = 0; i < 3; ++i) {
        cs.push_back(std::make_unique<raw_client>(h.port()));
        open_stream(*cs.back());
    }
    ASSERT_TRUE(eventually([&] { return h.hub.clients() == 3; }));
    std::vector<std::size_t> before;
    for (auto& c : cs) before.push_back(c->received.size());

    h.hub.shutdown();
    for (std::size_t i = 0; i < cs.size(); ++i) {
        ASSERT_TRUE(cs[i]->read_to_eof()) << i;
        EXPECT_EQ(cs[i]->received.substr(before[i]), "retry: 3000\n\n") << i;
    }
    EXPECT_EQ(h.hub.clients(), 0u);

    raw_client late(h.port());
    late.get("/stream?kind=t");
    ASSERT_TRUE(late.read_until("\r\n\r\n"));
    const std::string head = late.head();
    EXPECT_TRUE(head.starts_with("HTTP/1.1 503 ")) << head;
    EXPECT_NE(head.find("Content-Type: application/problem+json\r\n"), std::string::npos);
    EXPECT_NE(head.find("Retry-After: 3\r\n"), std::string::npos) << head;
    ASSERT_TRUE(late.read_until("}"));
    EXPECT_NE(late.body().find("\"UNAVAILABLE\""), std::string::npos) << late.body();
}

TEST(sse_hub, server_stop_ends_streams_that_do_not_end_by_themselves) {
    server_options so;
    so.stream_stop_timeout = 200ms;
    harness h(quick(60s), so);
    raw_client c(h.port());
    open_stream(c);
    auto client = h.client(0);
    ASSERT_NE(client, nullptr);

    const auto started = steady::now();
    h.srv().stop();  // no hub shutdown: the server cancels the stream after its timeout
    EXPECT_TRUE(c.read_to_eof());
    EXPECT_LT(steady::now() - started, 2s);
    EXPECT_TRUE(eventually([&] { return client->closed() && h.srv().sessions() == 0; }));
}

TEST(sse_hub, a_declared_kind_shows_zero_clients_before_its_first_stream) {
    harness h(quick());
    std::string before;
    h.hub.collect_metrics(before);
    EXPECT_EQ(before.find("kind=\"seats\""), std::string::npos) << before;
    h.hub.declare("seats");
    h.hub.declare("seats");  // twice: still one series
    std::string metrics;
    h.hub.collect_metrics(metrics);
    EXPECT_NE(metrics.find("ticketon_sse_clients{kind=\"seats\"} 0\n"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("ticketon_sse_dropped_total{kind=\"seats\"} 0\n"), std::string::npos)
        << metrics;
    const std::string series = "ticketon_sse_clients{kind=\"seats\"}";
    EXPECT_EQ(metrics.find(series, metrics.find(series) + 1), std::string::npos)
        << "declared twice, one series: " << metrics;
    raw_client b(h.port());
    open_stream(b, "kind=seats");
    EXPECT_TRUE(eventually([&] { return h.hub.clients("seats") == 1; }));
    std::string after;
    h.hub.collect_metrics(after);
    EXPECT_NE(after.find("ticketon_sse_clients{kind=\"seats\"} 1\n"), std::string::npos) << after;
}

TEST(sse_hub, clients_are_counted_by_kind_as_streams_open_and_end) {
    harness h(quick());
    raw_client a1(h.port());
    raw_client a2(h.port());
    raw_client b(h.port());
    open_stream(a1, "kind=queue");
    open_stream(a2, "kind=queue");
    open_stream(b, "kind=seats");
    EXPECT_TRUE(eventually([&] { return h.hub.clients() == 3; }));
    EXPECT_EQ(h.hub.clients("queue"), 2u);
    EXPECT_EQ(h.hub.clients("seats"), 1u);
    EXPECT_EQ(h.hub.clients("notifications"), 0u);
    std::string metrics;
    h.hub.collect_metrics(metrics);
    EXPECT_NE(metrics.find("# TYPE ticketon_sse_clients gauge\n"), std::string::npos);
    EXPECT_NE(metrics.find("ticketon_sse_clients{kind=\"queue\"} 2\n"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("ticketon_sse_frames_total "), std::string::npos) << metrics;

    a1.close();
    EXPECT_TRUE(eventually([&] { return h.hub.clients("queue") == 1; }));
    EXPECT_EQ(h.hub.clients(), 2u);
}

}  // namespace
}  // namespace tkt::http
