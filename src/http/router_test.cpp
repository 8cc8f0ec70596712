#include "http/router.hpp"

#include <gtest/gtest.h>

namespace tkt::http {
namespace {

handler noop() {
    return [](request&) -> boost::asio::awaitable<response> { co_return no_content(); };
}

TEST(router, matches_literal_paths_and_captures_parameters) {
    router r;
    r.add(verb::get, "/api/v1/me", noop());
    r.add(verb::patch, "/api/v1/admin/users/{id}", noop());
    auto m = r.match(verb::patch, "/api/v1/admin/users/42");
    ASSERT_EQ(m.outcome, match_result::kind::found);
    EXPECT_EQ(m.matched->pattern, "/api/v1/admin/users/{id}");
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].first, "id");
    EXPECT_EQ(m.params[0].second, "42");
    EXPECT_EQ(r.match(verb::get, "/api/v1/me").outcome, match_result::kind::found);
}

TEST(router, unknown_path_is_not_found_and_wrong_method_lists_allowed) {
    router r;
    r.add(verb::get, "/api/v1/me", noop());
    r.add(verb::patch, "/api/v1/me", noop());
    EXPECT_EQ(r.match(verb::get, "/api/v1/you").outcome, match_result::kind::not_found);
    EXPECT_EQ(r.match(verb::get, "/api/v1/me/extra").outcome, match_result::kind::not_found);
    auto m = r.match(verb::post, "/api/v1/me");
    EXPECT_EQ(m.outcome, match_result::kind::method_not_allowed);
    EXPECT_EQ(m.allow, "GET, PATCH");
}

TEST(router, a_path_longer_than_any_route_is_not_found) {
    router r;
    r.add(verb::get, "/{a}/{b}", noop());
    std::string path;
    for (std::size_t i = 0; i <= router::max_segments; ++i) path += "/x";
    EXPECT_EQ(r.match(verb::get, path).outcome, match_result::kind::not_found);
    EXPECT_EQ(r.match(verb::get, "/x/y/z").outcome, match_result::kind::not_found);
    EXPECT_EQ(r.match(verb::get, "/x/y").outcome, match_result::kind::found);
}

TEST(router, the_fewest_captures_win_among_routes_of_one_method_only) {
    router r;
    r.add(verb::get, "/events/{id}/seats", noop());
    r.add(verb::post, "/events/mine/seats", noop());
    r.add(verb::get, "/events/{id}/{what}", noop());
    auto m = r.match(verb::get, "/events/mine/seats");
    ASSERT_EQ(m.outcome, match_result::kind::found);
    EXPECT_EQ(m.matched->pattern, "/events/{id}/seats");
    EXPECT_EQ(m.params.size(), 1U);
    EXPECT_TRUE(m.allow.empty());
    auto put = r.match(verb::put, "/events/mine/seats");
    EXPECT_EQ(put.outcome, match_result::kind::method_not_allowed);
    EXPECT_EQ(put.allow, "GET, POST");
}

TEST(router, literal_segment_beats_capture_whatever_the_order) {
    router r;
    r.add(verb::get, "/events/{id}", noop());
    r.add(verb::get, "/events/mine", noop());
    auto m = r.match(verb::get, "/events/mine");
    ASSERT_EQ(m.outcome, match_result::kind::found);
    EXPECT_EQ(m.matched->pattern, "/events/mine");
    EXPECT_TRUE(m.params.empty());
    auto other = r.match(verb::get, "/events/7");
    ASSERT_EQ(other.outcome, match_result::kind::found);
    EXPECT_EQ(other.matched->pattern, "/events/{id}");
}

TEST(router, captures_are_percent_decoded_and_never_empty) {
    router r;
    r.add(verb::get, "/seats/{id}", noop());
    auto m = r.match(verb::get, "/seats/A%2D3-12");
    ASSERT_EQ(m.outcome, match_result::kind::found);
    EXPECT_EQ(m.params[0].second, "A-3-12");
    EXPECT_EQ(r.match(verb::get, "/seats//").outcome, match_result::kind::not_found);
}

TEST(router, trailing_slash_matches_the_same_route) {
    router r;
    r.add(verb::get, "/healthz", noop());
    EXPECT_EQ(r.match(verb::get, "/healthz/").outcome, match_result::kind::found);
}

TEST(message, query_parameters_are_decoded_and_bearer_token_extracted) {
    request req;
    req.query = "q=rock%20night&page=2&flag";
    EXPECT_EQ(req.query_param("q"), "rock night");
    EXPECT_EQ(req.query_param("page"), "2");
    EXPECT_EQ(req.query_param("flag"), "");
    EXPECT_FALSE(req.query_param("missing").has_value());

    static const std::string auth = "bearer abc.def.ghi";
    req.bind_headers(nullptr, [](const void*, std::string_view name) -> std::string_view {
        return name == "Authorization" ? std::string_view(auth) : std::string_view{};
    });
    EXPECT_EQ(req.bearer_token(), "abc.def.ghi");
}

TEST(message, problem_response_carries_status_type_and_retry_after) {
    auto p = make_problem(problem_code::rate_limited, "slow down");
    p.retry_after_seconds = 7;
    auto res = problem_response(p);
    EXPECT_EQ(res.status, 429);
    EXPECT_EQ(res.content_type, "application/problem+json");
    ASSERT_EQ(res.headers.size(), 1u);
    EXPECT_EQ(res.headers[0].first, "Retry-After");
    EXPECT_EQ(res.headers[0].second, "7");
}

}  // namespace
}  // namespace tkt::http
