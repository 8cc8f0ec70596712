#include "common/json_body.hpp"

#include <gtest/gtest.h>

namespace tkt {
namespace {

TEST(JsonBody, MalformedJsonNamesTheBody) {
    const auto body = parse_json_body("{\"email\": ");
    ASSERT_FALSE(body);
    EXPECT_EQ(body.error().code, problem_code::validation_failed);
    EXPECT_EQ(body.error().field, "body");
    EXPECT_FALSE(parse_json_body(""));
}

TEST(JsonBody, NonObjectNamesTheBody) {
    for (const auto* text : {"[1,2]", "\"x\"", "42", "null", "true"}) {
        const auto body = parse_json_body(text);
        ASSERT_FALSE(body) << text;
        EXPECT_EQ(body.error().field, "body") << text;
    }
}

TEST(JsonBody, RequiredStringMissingOrNullNamesTheField) {
    const auto body = parse_json_body(R"({"name": null})");
    ASSERT_TRUE(body);
    const auto email = body->required_string("email");
    ASSERT_FALSE(email);
    EXPECT_EQ(email.error().code, problem_code::validation_failed);
    EXPECT_EQ(email.error().field, "email");
    EXPECT_EQ(email.error().status(), 400);
    EXPECT_EQ(body->required_string("name").error().field, "name");
}

TEST(JsonBody, WrongTypeNamesTheField) {
    const auto body = parse_json_body(R"({"email": 5, "n": "5", "b": 1, "a": {}, "f": 1.5})");
    ASSERT_TRUE(body);
    EXPECT_EQ(body->required_string("email").error().field, "email");
    EXPECT_EQ(body->optional_string("email").error().field, "email");
    EXPECT_EQ(body->optional_int("n").error().field, "n");
    EXPECT_EQ(body->optional_int("f").error().field, "f");
    EXPECT_EQ(body->optional_bool("b").error().field, "b");
    EXPECT_EQ(body->required_array("a").error().field, "a");
    EXPECT_EQ(body->optional_object("n").error().field, "n");
}

TEST(JsonBody, ReadsValuesAndAbsentOptionals) {
    const auto body =
        parse_json_body(R"({"email": "a@b.co", "size": 20, "big": 9007199254740993, "on": false,
                            "seats": ["A-1-1"], "extra": {"k": 1}})");
    ASSERT_TRUE(body);
    EXPECT_EQ(*body->required_string("email"), "a@b.co");
    EXPECT_EQ(*body->required_int("size"), 20);
    EXPECT_EQ(**body->optional_int("big"), 9007199254740993LL);
    EXPECT_EQ(**body->optional_bool("on"), false);
    EXPECT_EQ(*body->required_bool("on"), false);
    EXPECT_EQ((*body->required_array("seats"))->size(), 1u);
    EXPECT_NE(*body->optional_object("extra"), nullptr);
    EXPECT_EQ(*body->optional_object("none"), nullptr);
    EXPECT_FALSE(*body->optional_string("name"));
    EXPECT_FALSE(*body->optional_int("page"));
    EXPECT_FALSE(*body->optional_bool("disabled"));
    EXPECT_EQ(body->required_int("page").error().field, "page");
}

}  // namespace
}  // namespace tkt
