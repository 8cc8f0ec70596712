#include "http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace tkt::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A real http::server on 127.0.0.1 (any free port) and a client, on one io_context run by two
// threads. Routes are added before start().
class loopback {
public:
    loopback() = default;
    ~loopback() {
        if (server_) server_->stop();
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    void start(server_options options = {}) {
        options.host = "127.0.0.1";
        options.port = 0;
        metrics_.bind_routes(routes);
        server_.emplace(io_, routes, metrics_, options);
        auto port = server_->listen();
        ASSERT_TRUE(port.has_value()) << port.error();
        port_ = *port;
        server_->start();
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }

    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    std::expected<client_response, client_error> call(client_request r) {
        auto future = asio::co_spawn(io_, client_.request(std::move(r)), asio::use_future);
        return future.get();
    }

    std::size_t sessions() const { return server_->sessions(); }
    asio::io_context& io() { return io_; }

    router routes;

private:
    metrics metrics_;
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
    client client_{io_.get_executor()};
    std::optional<server> server_;
    std::uint16_t port_ = 0;
    std::vector<std::thread> threads_;
};

client_request get(std::string url, std::chrono::milliseconds timeout = 5s) {
    client_request r;
    r.url = std::move(url);
    r.timeout = timeout;
    return r;
}

handler answer_json(boost::json::value body) {
    return [body](request&) -> asio::awaitable<response> { co_return json_response(200, body); };
}

TEST(http_client, get_and_post_round_trip_over_one_kept_alive_connection) {
    loopback lb;
    lb.routes.add(verb::get, "/hello", answer_json({{"hello", "world"}}));
    lb.routes.add(verb::post, "/echo", [](request& req) -> asio::awaitable<response> {
        response res;
        res.status = 201;
        res.content_type = "text/plain";
        res.body = std::string(req.header("X-Tag")) + ":" + req.body;
        co_return res;
    });
    lb.start();

    auto got = lb.call(get(lb.url("/hello")));
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, R"({"hello":"world"})");
    EXPECT_EQ(got->header("content-type"), "application/json");

    client_request post = get(lb.url("/echo"));
    post.method = verb::post;
    post.headers = {{"X-Tag", "t1"}};
    post.body = "payload";
    auto posted = lb.call(post);
    ASSERT_TRUE(posted.has_value()) << posted.error().message;
    EXPECT_EQ(posted->status, 201);
    EXPECT_EQ(posted->body, "t1:payload");
    // Both calls went over the same connection.
    EXPECT_EQ(lb.sessions(), 1u);
}

TEST(http_client, a_status_the_server_chose_is_an_answer_not_an_error) {
    loopback lb;
    lb.start();
    auto got = lb.call(get(lb.url("/nowhere")));
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->status, 404);
}

TEST(http_client, the_deadline_ends_a_call_to_a_handler_that_sleeps) {
    loopback lb;
    lb.routes.add(verb::get, "/slow", [](request&) -> asio::awaitable<response> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 2s);
        co_await timer.async_wait(asio::use_awaitable);
        co_return no_content();
    });
    lb.start();
    const auto started = std::chrono::steady_clock::now();
    auto got = lb.call(get(lb.url("/slow"), 200ms));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, client_errc::timeout);
    EXPECT_EQ(got.error().sent, request_sent::maybe);
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 1500ms);
}

TEST(http_client, a_refused_connection_is_an_error_before_anything_was_sent) {
    loopback lb;
    lb.start();
    // A port that was free a moment ago and has no listener now.
    asio::ip::tcp::acceptor probe(lb.io(), {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = probe.local_endpoint().port();
    probe.close();
    auto got = lb.call(get("http://127.0.0.1:" + std::to_string(port) + "/", 2s));
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, client_errc::connect_failed);
    EXPECT_EQ(got.error().sent, request_sent::no);
}

TEST(http_client, a_url_that_is_not_absolute_http_is_refused) {
    loopback lb;
    lb.start();
    for (const char* url : {"/relative", "ftp://example.com/x", "http://", "not a url"}) {
        auto got = lb.call(get(url));
        ASSERT_FALSE(got.has_value()) << url;
        EXPECT_EQ(got.error().code, client_errc::bad_url) << url;
        EXPECT_EQ(got.error().sent, request_sent::no) << url;
    }
}

TEST(http_client, a_pooled_connection_the_server_closed_is_replaced_for_a_get) {
    loopback lb;
    lb.routes.add(verb::get, "/hello", answer_json({{"n", 1}}));
    server_options options;
    options.idle_timeout = 100ms;
    lb.start(options);
    ASSERT_TRUE(lb.call(get(lb.url("/hello"))).has_value());
    // The server closes the idle connection; the client still holds it in its pool.
    std::this_thread::sleep_for(400ms);
    auto again = lb.call(get(lb.url("/hello")));
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(again->status, 200);
}

TEST(http_client, an_answer_with_broken_framing_is_a_bad_response) {
    loopback lb;
    lb.routes.add(verb::get, "/broken", [](request&) -> asio::awaitable<response> {
        response res = json_response(200, {{"ok", true}});
        res.with_header("Content-Length", "999");  // conflicts with the server's own
        co_return res;
    });
    lb.start();
    auto got = lb.call(get(lb.url("/broken")));
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, client_errc::bad_response);
    EXPECT_EQ(got.error().sent, request_sent::maybe);
}

TEST(http_client, basic_authorization_is_standard_base64_with_padding) {
    EXPECT_EQ(basic_authorization("test_sk_sandbox", ""), "Basic dGVzdF9za19zYW5kYm94Og==");
    EXPECT_EQ(basic_authorization("a", "b"), "Basic YTpi");
    // '?' and '>' land on the letters where base64url and base64 differ.
    EXPECT_EQ(basic_authorization("?\?>", ""), "Basic Pz8+Og==");
}

}  // namespace
}  // namespace tkt::http
