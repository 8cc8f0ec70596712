#include "common/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tkt {
namespace {

TEST(problem, every_code_has_its_fixed_status) {
    EXPECT_EQ(status_of(problem_code::validation_failed), 400);
    EXPECT_EQ(status_of(problem_code::amount_mismatch), 400);
    EXPECT_EQ(status_of(problem_code::unauthorized), 401);
    EXPECT_EQ(status_of(problem_code::payment_declined), 402);
    EXPECT_EQ(status_of(problem_code::forbidden), 403);
    EXPECT_EQ(status_of(problem_code::queue_token_invalid), 403);
    EXPECT_EQ(status_of(problem_code::not_found), 404);
    EXPECT_EQ(status_of(problem_code::seat_unavailable), 409);
    EXPECT_EQ(status_of(problem_code::already_used), 409);
    EXPECT_EQ(status_of(problem_code::payload_too_large), 413);
    EXPECT_EQ(status_of(problem_code::hold_limit_exceeded), 422);
    EXPECT_EQ(status_of(problem_code::account_locked), 423);
    EXPECT_EQ(status_of(problem_code::rate_limited), 429);
    EXPECT_EQ(status_of(problem_code::unavailable), 503);
}

TEST(problem, body_has_the_rfc7807_members_and_the_stable_code) {
    auto p = validation_error("email", "must be a valid email address");
    auto body = boost::json::parse(p.to_json()).as_object();
    EXPECT_EQ(body.at("status").as_int64(), 400);
    EXPECT_EQ(body.at("code").as_string(), "VALIDATION_FAILED");
    EXPECT_EQ(body.at("field").as_string(), "email");
    EXPECT_EQ(body.at("detail").as_string(), "email: must be a valid email address");
    EXPECT_TRUE(body.contains("title"));
    EXPECT_TRUE(body.contains("type"));
}

TEST(problem, extra_members_are_kept) {
    auto p = make_problem(problem_code::seat_unavailable, "taken");
    p.extra["seats"] = boost::json::array{"A-1-1", "A-1-2"};
    auto body = boost::json::parse(p.to_json()).as_object();
    EXPECT_EQ(body.at("seats").as_array().size(), 2u);
    EXPECT_EQ(body.at("code").as_string(), "SEAT_UNAVAILABLE");
    EXPECT_EQ(body.at("status").as_int64(), 409);
}

}  // namespace
}  // namespace tkt
