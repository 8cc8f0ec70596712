#include "http/client.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include "common/encoding.hpp"
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
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    client client_{io_.get_executor()};
    std::optional<server> server_;
    std::uint16_t port_ = 0;
    std::vector<std::thread> threads_;
};

// A self-signed certificate for DNS:localhost (P-256, SHA-256, valid from an hour ago to an
// hour from now), made at test time so that no key sits in the repository. Its PEM is written
// to a temp file that a client can load as ca_file; the file goes away with the object.
class test_certificate {
public:
    test_certificate() {
        key_.reset(EVP_EC_gen("P-256"));
        EXPECT_NE(key_, nullptr);
        cert_.reset(X509_new());
        X509* cert = cert_.get();
        X509_set_version(cert, 2);  // v3, for the extension
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key_.get());
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        // The name a client checks is the subjectAltName, not the CN (RFC 6125).
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION* san =
            X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
        EXPECT_NE(san, nullptr);
        X509_add_ext(cert, san, -1);
        X509_EXTENSION_free(san);
        EXPECT_GT(X509_sign(cert, key_.get(), EVP_sha256()), 0);

        path_ = std::filesystem::temp_directory_path() /
                ("tkt-http-ca-" + hex_encode(random_bytes(6)) + ".pem");
        std::ofstream(path_) << cert_pem();
    }
    ~test_certificate() { std::filesystem::remove(path_); }
    test_certificate(const test_certificate&) = delete;
    test_certificate& operator=(const test_certificate&) = delete;

    // Makes `context` serve this certificate and its key.
    void serve_with(boost::asio::ssl::context& context) const {
        ASSERT_EQ(SSL_CTX_use_certificate(context.native_handle(), cert_.get()), 1);
        ASSERT_EQ(SSL_CTX_use_PrivateKey(context.native_handle(), key_.get()), 1);
    }

    const std::filesystem::path& pem_file() const { return path_; }

private:
    struct openssl_free {
        void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
        void operator()(X509* p) const { X509_free(p); }
        void operator()(BIO* p) const { BIO_free(p); }
    };

    std::string cert_pem() const {
        std::unique_ptr<BIO, openssl_free> bio(BIO_new(BIO_s_mem()));
        PEM_write_bio_X509(bio.get(), cert_.get());
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    }

    std::unique_ptr<EVP_PKEY, openssl_free> key_;
    std::unique_ptr<X509, openssl_free> cert_;
    std::filesystem::path path_;
};

// An HTTPS server on 127.0.0.1 (any free port) that serves test_certificate and answers every
// request with 200 and the request target as the body, keeping the connection alive; and a
// client. Both on one io_context run by two threads, each server connection on its own strand.
// It counts the connections it accepted and the requests it read.
class tls_loopback {
public:
    tls_loopback() {
        certificate_.serve_with(server_tls_);
        acceptor_.open(tcp::v4());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
    }
    ~tls_loopback() {
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    void start(client_options options = {}) {
        client_.emplace(io_.get_executor(), std::move(options));
        asio::co_spawn(io_, accept_all(), asio::detached);
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }

    std::string url(std::string_view host, std::string_view path) const {
        return fmt::format("https://{}:{}{}", host, acceptor_.local_endpoint().port(), path);
    }

    std::expected<client_response, client_error> call(client_request r) {
        auto future = asio::co_spawn(io_, client_->request(std::move(r)), asio::use_future);
        return future.get();
    }

    std::string ca_file() const { return certificate_.pem_file().string(); }
    std::size_t accepted() const { return accepted_; }
    std::size_t requests() const { return requests_; }

private:
    using tcp = asio::ip::tcp;
    static constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

    asio::awaitable<void> accept_all() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(asio::make_strand(io_), tuple_awaitable);
            if (ec) co_return;
            ++accepted_;
            auto executor = socket.get_executor();
            asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        namespace bhttp = boost::beast::http;
        boost::beast::ssl_stream<boost::beast::tcp_stream> stream(std::move(socket), server_tls_);
        auto [handshake_ec] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (handshake_ec) co_return;
        boost::beast::flat_buffer buffer;
        for (;;) {
            bhttp::request<bhttp::string_body> req;
            auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, req, tuple_awaitable);
            if (read_ec) co_return;
            ++requests_;
            bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
            res.set(bhttp::field::content_type, "text/plain");
            res.keep_alive(req.keep_alive());
            res.body() = std::string(req.target());
            res.prepare_payload();
            auto [write_ec, written] = co_await bhttp::async_write(stream, res, tuple_awaitable);
            if (write_ec || !res.keep_alive()) co_return;
        }
    }

    test_certificate certificate_;
    asio::ssl::context server_tls_{asio::ssl::context::tls_server};
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    tcp::acceptor acceptor_{io_};
    std::optional<client> client_;
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> requests_{0};
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

TEST(http_client, a_shared_body_goes_out_whole_and_the_connection_goes_on) {
    // A cached document answered from where it is (response::shared_body): big enough that
    // the socket may take it in several writes, its bytes all different from their neighbours.
    auto doc = std::make_shared<std::string>(3'500'000, '\0');
    for (std::size_t i = 0; i < doc->size(); ++i) (*doc)[i] = static_cast<char>('a' + i % 23);
    std::shared_ptr<const std::string> shared = doc;
    loopback lb;
    lb.routes.add(verb::get, "/doc", [shared](request&) -> asio::awaitable<response> {
        response res;
        res.content_type = "text/plain";
        res.body = "ignored when shared_body is set";
        res.shared_body = shared;
        co_return res;
    });
    lb.routes.add(verb::get, "/hello", answer_json({{"hello", "world"}}));
    lb.start();
    for (int round = 0; round < 2; ++round) {
        auto got = lb.call(get(lb.url("/doc")));
        ASSERT_TRUE(got.has_value()) << got.error().message;
        EXPECT_EQ(got->status, 200);
        EXPECT_EQ(got->body.size(), shared->size());
        EXPECT_TRUE(got->body == *shared) << "round " << round;
    }
    auto after = lb.call(get(lb.url("/hello")));
    ASSERT_TRUE(after.has_value()) << after.error().message;
    EXPECT_EQ(after->body, R"({"hello":"world"})");
    EXPECT_EQ(lb.sessions(), 1u);  // all of it over one kept-alive connection
}

TEST(http_client, a_status_the_server_chose_is_an_answer_not_an_error) {
    loopback lb;
    lb.start();
    auto got = lb.call(get(lb.url("/nowhere")));
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->status, 404);
}

// The server's side: an engine that cannot reach its store answers 503 with a retry hint, and any
// other failure a 500 that does not show its text.
TEST(http_client, a_handler_whose_engine_is_unreachable_answers_503_with_retry_after) {
    loopback lb;
    lb.routes.add(verb::get, "/down", [](request&) -> asio::awaitable<response> {
        throw unavailable_error("the inventory cannot be reached");
        co_return response{};
    });
    lb.routes.add(verb::get, "/broken", [](request&) -> asio::awaitable<response> {
        throw std::runtime_error("secret internals");
        co_return response{};
    });
    lb.start();
    auto down = lb.call(get(lb.url("/down")));
    ASSERT_TRUE(down.has_value()) << down.error().message;
    EXPECT_EQ(down->status, 503);
    EXPECT_EQ(down->header("retry-after"), "1");
    EXPECT_EQ(down->header("content-type"), "application/problem+json");
    EXPECT_NE(down->body.find("\"UNAVAILABLE\""), std::string::npos) << down->body;
    EXPECT_NE(down->body.find("the inventory cannot be reached"), std::string::npos) << down->body;
    auto broken = lb.call(get(lb.url("/broken")));
    ASSERT_TRUE(broken.has_value());
    EXPECT_EQ(broken->status, 500);
    EXPECT_EQ(broken->body.find("secret internals"), std::string::npos) << broken->body;
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

TEST(http_client, https_get_round_trip_with_a_trusted_certificate) {
    tls_loopback lb;
    lb.start({.ca_file = lb.ca_file()});
    for (const char* path : {"/hello", "/again?x=1"}) {
        auto got = lb.call(get(lb.url("localhost", path)));
        ASSERT_TRUE(got.has_value()) << got.error().message;
        EXPECT_EQ(got->status, 200);
        EXPECT_EQ(got->body, path);
    }
    EXPECT_EQ(lb.requests(), 2u);
    // The second request went over the kept-alive TLS connection of the first.
    EXPECT_EQ(lb.accepted(), 1u);
}

TEST(http_client, an_untrusted_certificate_fails_the_handshake_before_sending) {
    tls_loopback lb;
    lb.start();  // the system store only, which does not know the test certificate
    auto got = lb.call(get(lb.url("localhost", "/hello")));
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, client_errc::tls_failed) << got.error().message;
    EXPECT_EQ(got.error().sent, request_sent::no);
    EXPECT_EQ(lb.accepted(), 1u);
    EXPECT_EQ(lb.requests(), 0u);
}

TEST(http_client, a_certificate_for_another_host_name_fails) {
    tls_loopback lb;
    lb.start({.ca_file = lb.ca_file()});
    // The certificate is trusted but names only DNS:localhost, not the address.
    auto got = lb.call(get(lb.url("127.0.0.1", "/hello")));
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, client_errc::tls_failed) << got.error().message;
    EXPECT_EQ(got.error().sent, request_sent::no);
    EXPECT_EQ(lb.requests(), 0u);
}

TEST(http_client, a_ca_file_that_cannot_be_read_throws_at_construction) {
    asio::io_context io;
    client_options options;
    options.ca_file = (std::filesystem::temp_directory_path() / "tkt-http-ca-missing.pem").string();
    EXPECT_THROW(client(io.get_executor(), options), boost::system::system_error);
}

TEST(http_client, basic_authorization_is_standard_base64_with_padding) {
    EXPECT_EQ(basic_authorization("test_sk_sandbox", ""), "Basic dGVzdF9za19zYW5kYm94Og==");
    EXPECT_EQ(basic_authorization("a", "b"), "Basic YTpi");
    // '?' and '>' land on the letters where base64url and base64 differ.
    EXPECT_EQ(basic_authorization("?\?>", ""), "Basic Pz8+Og==");
}

}  // namespace
}  // namespace tkt::http
