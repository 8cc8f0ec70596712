#include "redis/connection.hpp"

#include <gtest/gtest.h>

#include "redis/detail/open.hpp"

namespace tkt::redis {
namespace {

using namespace std::chrono_literals;

TEST(redis_url, reads_host_port_password_and_database) {
    auto o = parse_redis_url("redis://:p%40ss@cache.internal:6380/2");
    ASSERT_TRUE(o.has_value()) << o.error();
    EXPECT_EQ(o->host, "cache.internal");
    EXPECT_EQ(o->port, 6380);
    EXPECT_EQ(o->username, "");
    EXPECT_EQ(o->password, "p@ss");
    EXPECT_EQ(o->database, 2);

    auto plain = parse_redis_url("redis://127.0.0.1");
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->database, 0);
    EXPECT_EQ(plain->password, "");

    auto acl = parse_redis_url("redis://app:pw@h:1/");
    ASSERT_TRUE(acl.has_value());
    EXPECT_EQ(acl->username, "app");
    EXPECT_EQ(acl->password, "pw");
}

TEST(redis_url, refuses_what_it_cannot_use) {
    EXPECT_FALSE(parse_redis_url("http://h:1"));
    EXPECT_FALSE(parse_redis_url("redis://"));
    EXPECT_FALSE(parse_redis_url("redis://h:0"));
    EXPECT_FALSE(parse_redis_url("redis://h:70000"));
    EXPECT_FALSE(parse_redis_url("redis://h:1/x"));
    EXPECT_FALSE(parse_redis_url("redis://h:1/-1"));
    EXPECT_FALSE(parse_redis_url("not a url"));
}

TEST(redis_reconnect, the_delay_doubles_up_to_its_cap) {
    connection_options o;
    o.reconnect_delay_min = 50ms;
    o.reconnect_delay_max = 300ms;
    auto d = detail::next_reconnect_delay(0ms, o);
    EXPECT_EQ(d, 50ms);
    d = detail::next_reconnect_delay(d, o);
    EXPECT_EQ(d, 100ms);
    d = detail::next_reconnect_delay(d, o);
    EXPECT_EQ(d, 200ms);
    d = detail::next_reconnect_delay(d, o);
    EXPECT_EQ(d, 300ms);
    EXPECT_EQ(detail::next_reconnect_delay(d, o), 300ms);
}

}  // namespace
}  // namespace tkt::redis
