#include "auth/handlers.hpp"

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "common/testing/temp_dir.hpp"
#include "http/testing/fake_headers.hpp"

namespace tkt::auth {
namespace {

using http::testing::header_of;
using http::testing::headers_map;
using http::testing::lookup_header;

std::string retry_after(const http::response& r) {
    return header_of(r, "Retry-After");
}

class AuthHandlers : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = db::open_database("sqlite://" + (dir_ / "test.db").string(),
                                        db::pool_options{.size = 2});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        ASSERT_TRUE(db::migrate(*db_));
        svc_ = std::make_unique<service>(*db_, clock_,
                                         make_keyring(jwt_key{"test", std::string(32, 'k')}),
                                         service_options{.issuer = "ticketon-test",
                                                         .access_ttl_seconds = 900,
                                                         .refresh_ttl_seconds = 3600,
                                                         .lockout_threshold = 5,
                                                         .lockout_seconds = 300,
                                                         .cost = password_cost::min});
        register_routes(router_, *svc_);
    }
    void TearDown() override {
        svc_.reset();
        db_.reset();
    }

    http::response call(http::verb method, std::string target, std::string body = {},
                        std::string token = {}) {
        const auto q = target.find('?');
        http::request req;
        req.method = method;
        req.path = target.substr(0, q);
        req.query = q == std::string::npos ? std::string{} : target.substr(q + 1);
        req.body = std::move(body);
        headers_map headers;
        if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
        req.bind_headers(&headers, lookup_header);
        auto m = router_.match(method, req.path);
        EXPECT_EQ(m.outcome, http::match_result::kind::found) << target;
        if (m.outcome != http::match_result::kind::found) return {};
        req.params = m.params;
        auto done = boost::asio::co_spawn(io_, m.matched->fn(req), boost::asio::use_future);
        io_.restart();
        io_.run();
        return done.get();
    }

    static boost::json::object json(const http::response& r) {
        return boost::json::parse(r.body).as_object();
    }

    // Signs up and returns {id, accessToken}.
    std::pair<std::int64_t, std::string> member(std::string email) {
        const auto r = call(http::verb::post, "/api/v1/auth/signup",
                            R"({"email":")" + email + R"(","password":"password123","name":"N"})");
        EXPECT_EQ(r.status, 201) << r.body;
        const auto o = json(r);
        return {o.at("user").at("id").as_int64(), std::string{o.at("accessToken").as_string()}};
    }

    std::string admin_token() {
        EXPECT_TRUE(create_user(*db_, "admin@example.com", "password123", "Admin", role::admin,
                                password_cost::min, clock_));
        const auto r = call(http::verb::post, "/api/v1/auth/login",
                            R"({"email":"admin@example.com","password":"password123"})");
        EXPECT_EQ(r.status, 200) << r.body;
        return std::string{json(r).at("accessToken").as_string()};
    }

    tkt::testing::temp_dir dir_{"authh"};
    manual_clock clock_;
    boost::asio::io_context io_;
    std::unique_ptr<db::database> db_;
    std::unique_ptr<service> svc_;
    http::router router_;
};

TEST_F(AuthHandlers, SignupAnswers201WithCamelCaseSession) {
    const auto r = call(http::verb::post, "/api/v1/auth/signup",
                        R"({"email":"a@example.com","password":"password123","name":"Ann"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto o = json(r);
    const auto& user = o.at("user").as_object();
    EXPECT_EQ(user.at("email").as_string(), "a@example.com");
    EXPECT_EQ(user.at("name").as_string(), "Ann");
    EXPECT_EQ(user.at("role").as_string(), "USER");
    EXPECT_TRUE(user.contains("createdAt"));
    EXPECT_FALSE(user.contains("passwordHash"));
    EXPECT_TRUE(o.at("accessToken").is_string());
    EXPECT_TRUE(o.at("refreshToken").is_string());
    EXPECT_EQ(o.at("expiresIn").as_int64(), 900);
}

TEST_F(AuthHandlers, BodyProblemsNameTheField) {
    const auto field_of = [&](std::string body) {
        const auto r = call(http::verb::post, "/api/v1/auth/signup", std::move(body));
        EXPECT_EQ(r.status, 400);
        EXPECT_EQ(r.content_type, "application/problem+json");
        const auto o = json(r);
        EXPECT_EQ(o.at("code").as_string(), "VALIDATION_FAILED");
        return std::string{o.at("detail").as_string()};
    };
    EXPECT_TRUE(field_of("{nope").starts_with("body"));
    EXPECT_TRUE(field_of("[]").starts_with("body"));
    EXPECT_TRUE(field_of(R"({"password":"password123","name":"N"})").starts_with("email"));
    EXPECT_TRUE(field_of(R"({"email":"a@example.com","password":"password123","name":5})")
                    .starts_with("name"));
    EXPECT_TRUE(field_of(R"({"email":"a@example.com","password":"pw","name":"N"})")
                    .starts_with("password"));
}

TEST_F(AuthHandlers, DuplicateSignupIs409) {
    member("dup@example.com");
    const auto r = call(http::verb::post, "/api/v1/auth/signup",
                        R"({"email":"dup@example.com","password":"password123","name":"N"})");
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(json(r).at("code").as_string(), "CONFLICT");
}

TEST_F(AuthHandlers, LockoutAnswers423WithRetryAfter) {
    member("lock@example.com");
    const std::string wrong = R"({"email":"lock@example.com","password":"wrong-password"})";
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(call(http::verb::post, "/api/v1/auth/login", wrong).status, 401);
    const auto r = call(http::verb::post, "/api/v1/auth/login",
                        R"({"email":"lock@example.com","password":"password123"})");
    EXPECT_EQ(r.status, 423);
    EXPECT_EQ(json(r).at("code").as_string(), "ACCOUNT_LOCKED");
    EXPECT_EQ(retry_after(r), "300");
}

TEST_F(AuthHandlers, RefreshAndLogout) {
    const auto s = json(call(http::verb::post, "/api/v1/auth/signup",
                             R"({"email":"r@example.com","password":"password123","name":"N"})"));
    const std::string refresh_body =
        R"({"refreshToken":")" + std::string{s.at("refreshToken").as_string()} + "\"}";
    const auto next = call(http::verb::post, "/api/v1/auth/refresh", refresh_body);
    ASSERT_EQ(next.status, 200) << next.body;
    const auto n = json(next);
    EXPECT_EQ(call(http::verb::post, "/api/v1/auth/refresh", refresh_body).status, 401);
    const std::string next_body =
        R"({"refreshToken":")" + std::string{n.at("refreshToken").as_string()} + "\"}";
    EXPECT_EQ(call(http::verb::post, "/api/v1/auth/logout", next_body).status,
              401);  // no access token
}

TEST_F(AuthHandlers, MeRoundTrip) {
    const auto [id, token] = member("me@example.com");
    EXPECT_EQ(call(http::verb::get, "/api/v1/me").status, 401);
    const auto got = call(http::verb::get, "/api/v1/me", {}, token);
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(json(got).at("id").as_int64(), id);
    const auto patched = call(http::verb::patch, "/api/v1/me", R"({"name":"New"})", token);
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_EQ(json(patched).at("name").as_string(), "New");
    EXPECT_EQ(call(http::verb::patch, "/api/v1/me",
                   R"({"password":"password456","currentPassword":"nope-nope"})", token)
                  .status,
              401);
    // A token in the URL is not taken on a route that is not a stream.
    const auto in_url = call(http::verb::get, "/api/v1/me?access_token=" + token);
    EXPECT_EQ(in_url.status, 401);
    EXPECT_EQ(json(in_url).at("code").as_string(), "UNAUTHORIZED");
    EXPECT_EQ(
        call(http::verb::patch, "/api/v1/me?access_token=" + token, R"({"name":"URL"})").status,
        401);
    EXPECT_EQ(json(call(http::verb::get, "/api/v1/me", {}, token)).at("name").as_string(), "New");
    const auto deleted = call(http::verb::delete_, "/api/v1/me", {}, token);
    EXPECT_EQ(deleted.status, 204);
    EXPECT_EQ(call(http::verb::get, "/api/v1/me", {}, token).status, 401);
}

TEST_F(AuthHandlers, AdminRoutesNeedAdmin) {
    const auto [id, token] = member("u@example.com");
    EXPECT_EQ(call(http::verb::get, "/api/v1/admin/users", {}, token).status, 403);
    const auto admin = admin_token();
    const auto list = call(http::verb::get, "/api/v1/admin/users?page=0&size=1&q=u", {}, admin);
    ASSERT_EQ(list.status, 200) << list.body;
    const auto o = json(list);
    EXPECT_EQ(o.at("total").as_int64(), 1);
    EXPECT_EQ(o.at("size").as_int64(), 1);
    const auto& item = o.at("items").as_array().at(0).as_object();
    EXPECT_EQ(item.at("status").as_string(), "ACTIVE");
    EXPECT_EQ(item.at("locked").as_bool(), false);
    EXPECT_EQ(call(http::verb::get, "/api/v1/admin/users?size=x", {}, admin).status, 400);
    for (const auto* query : {"page=99999999999999999999", "page=9223372036854775807&size=100",
                              "page=50001", "page=x"}) {
        const auto r =
            call(http::verb::get, std::string("/api/v1/admin/users?") + query, {}, admin);
        EXPECT_EQ(r.status, 400) << query;
        EXPECT_EQ(json(r).at("field").as_string(), "page") << query << r.body;
    }

    const auto path = "/api/v1/admin/users/" + std::to_string(id);
    const auto promoted =
        call(http::verb::patch, path, R"({"role":"MANAGER","locked":true})", admin);
    ASSERT_EQ(promoted.status, 200) << promoted.body;
    EXPECT_EQ(json(promoted).at("role").as_string(), "MANAGER");
    EXPECT_EQ(json(promoted).at("locked").as_bool(), true);
    const auto bad_role = call(http::verb::patch, path, R"({"role":"OWNER"})", admin);
    EXPECT_EQ(bad_role.status, 400);
    EXPECT_TRUE(json(bad_role).at("detail").as_string().starts_with("role"));
    EXPECT_EQ(call(http::verb::patch, path, R"({"disabled":"yes"})", admin).status, 400);
    EXPECT_EQ(call(http::verb::patch, "/api/v1/admin/users/9999", "{}", admin).status, 404);
    EXPECT_EQ(call(http::verb::patch, "/api/v1/admin/users/abc", "{}", admin).status, 404);
}

TEST_F(AuthHandlers, CredentialRoutesAreRateLimited) {
    for (const auto& r : router_.routes()) {
        const bool credential = r.pattern == "/api/v1/auth/signup" ||
                                r.pattern == "/api/v1/auth/login" ||
                                r.pattern == "/api/v1/auth/refresh";
        EXPECT_EQ(r.options.rate_limit == http::rate_limit_class::auth, credential) << r.pattern;
    }
    EXPECT_EQ(router_.routes().size(), 9u);
}

}  // namespace
}  // namespace tkt::auth
