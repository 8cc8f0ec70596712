// The wire forms of a notification and the checks of what clients send.
#include "notifications/notification.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tkt::notifications {
namespace {

TEST(Notification, JsonCarriesEveryFieldWithTheIdFirst) {
    notification n{7,
                   3,
                   "NOTICE",
                   "Doors \"open\"",
                   "line one\nline two",
                   R"({"eventId":5})",
                   "2026-12-06T01:00:00Z",
                   std::nullopt};
    const auto text = to_json(n);
    EXPECT_TRUE(text.starts_with("{\"id\":7,"));
    const auto v = boost::json::parse(text).as_object();
    EXPECT_EQ(v.at("id").as_int64(), 7);
    EXPECT_EQ(v.at("type").as_string(), "NOTICE");
    EXPECT_EQ(v.at("title").as_string(), "Doors \"open\"");
    EXPECT_EQ(v.at("body").as_string(), "line one\nline two");
    EXPECT_EQ(v.at("data").as_object().at("eventId").as_int64(), 5);
    EXPECT_EQ(v.at("createdAt").as_string(), "2026-12-06T01:00:00Z");
    EXPECT_TRUE(v.at("readAt").is_null());
    EXPECT_FALSE(v.contains("userId"));  // the owner is the reader

    n.read_at = "2026-12-06T02:00:00Z";
    n.data_json.clear();
    const auto read = boost::json::parse(to_json(n)).as_object();
    EXPECT_EQ(read.at("readAt").as_string(), "2026-12-06T02:00:00Z");
    EXPECT_TRUE(read.at("data").as_object().empty());
}

TEST(Notification, IdIsReadBackFromTheJsonAlone) {
    notification n{123456789012, 1, "NOTICE", "t", "b", "{}", "2026-12-06T01:00:00Z", {}};
    EXPECT_EQ(id_of(to_json(n)), 123456789012);
    EXPECT_EQ(id_of("{\"id\":0,\"type\":1}"), std::nullopt);
    EXPECT_EQ(id_of("{\"id\":-4,"), std::nullopt);
    EXPECT_EQ(id_of("{\"id\":12}"), std::nullopt);
    EXPECT_EQ(id_of("{\"type\":\"x\",\"id\":3,"), std::nullopt);
    EXPECT_EQ(id_of(""), std::nullopt);
    EXPECT_EQ(user_topic(42), "notify.42");
}

TEST(Notice, NeedsExactlyOneAudience) {
    auto neither = check_notice(std::nullopt, std::nullopt, "t", "b");
    ASSERT_FALSE(neither);
    EXPECT_EQ(neither.error().field, "userId");
    auto both = check_notice(1, 2, "t", "b");
    ASSERT_FALSE(both);
    EXPECT_EQ(both.error().field, "eventId");
    EXPECT_EQ(check_notice(0, std::nullopt, "t", "b").error().field, "userId");
    EXPECT_EQ(check_notice(std::nullopt, -3, "t", "b").error().field, "eventId");
    auto ok = check_notice(std::nullopt, 9, "  Gate change ", "Use gate B.\nThanks\n");
    ASSERT_TRUE(ok) << ok.error().detail;
    EXPECT_EQ(ok->event_id, 9);
    EXPECT_EQ(ok->title, "Gate change");
    EXPECT_EQ(ok->body, "Use gate B.\nThanks");
}

TEST(Notice, TitleAndBodyAreBoundedText) {
    EXPECT_EQ(check_notice(1, std::nullopt, "   ", "b").error().field, "title");
    EXPECT_EQ(check_notice(1, std::nullopt, "t", "").error().field, "body");
    EXPECT_EQ(check_notice(1, std::nullopt, "a\nb", "b").error().field, "title");
    EXPECT_EQ(check_notice(1, std::nullopt, "t", std::string("a\x01") + "b").error().field, "body");
    // Characters, not bytes: 200 Hangul syllables (600 bytes) fit, 201 do not.
    std::string hangul;
    for (int i = 0; i < 200; ++i) hangul += "\xea\xb0\x80";
    EXPECT_TRUE(check_notice(1, std::nullopt, hangul, "b"));
    EXPECT_EQ(check_notice(1, std::nullopt, hangul + "a", "b").error().field, "title");
    EXPECT_TRUE(check_notice(1, std::nullopt, "t", std::string(1000, 'x')));
    EXPECT_EQ(check_notice(1, std::nullopt, "t", std::string(1001, 'x')).error().field, "body");
}

TEST(ListRequest, DefaultsAndBounds) {
    auto d = check_list(std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->unread_only);
    EXPECT_EQ(d->limit, 20);
    EXPECT_FALSE(d->before);
    auto q = check_list("true", "100", "55");
    ASSERT_TRUE(q);
    EXPECT_TRUE(q->unread_only);
    EXPECT_EQ(q->limit, 100);
    EXPECT_EQ(q->before, 55);
    EXPECT_FALSE(check_list("false", "1", std::nullopt)->unread_only);
    EXPECT_EQ(check_list("yes", std::nullopt, std::nullopt).error().field, "unread");
    EXPECT_EQ(check_list(std::nullopt, "0", std::nullopt).error().field, "limit");
    EXPECT_EQ(check_list(std::nullopt, "101", std::nullopt).error().field, "limit");
    EXPECT_EQ(check_list(std::nullopt, "ten", std::nullopt).error().field, "limit");
    EXPECT_EQ(check_list(std::nullopt, std::nullopt, "-1").error().field, "before");
}

}  // namespace
}  // namespace tkt::notifications
