#include "db/mysql/mysql_url.hpp"

#include <string>

#include <gtest/gtest.h>

namespace tkt::db {
namespace {

TEST(mysql_url, reads_every_part_and_decodes_the_user_and_password) {
    auto u = parse_mysql_url("mysql://tkt:p%40ss%3Aw%2Frd@db.internal:3307/ticketon");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->host, "db.internal");
    EXPECT_EQ(u->port, 3307u);
    EXPECT_EQ(u->user, "tkt");
    EXPECT_EQ(u->password, "p@ss:w/rd");
    EXPECT_EQ(u->database, "ticketon");
}

TEST(mysql_url, the_port_defaults_to_3306_and_the_password_may_be_empty) {
    auto u = parse_mysql_url("mysql://app@127.0.0.1/shop_1");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 3306u);
    EXPECT_EQ(u->user, "app");
    EXPECT_EQ(u->password, "");
    EXPECT_EQ(u->database, "shop_1");
}

TEST(mysql_url, an_ipv6_host_loses_its_brackets) {
    auto u = parse_mysql_url("mysql://a:b@[::1]:3306/d");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->host, "::1");
}

// Each refusal is a misuse with a reason naming what is wrong, and never echoes the password.
void expect_refused(const std::string& url, const std::string& reason) {
    auto u = parse_mysql_url(url);
    ASSERT_FALSE(u) << url;
    SCOPED_TRACE(url);
    EXPECT_EQ(u.error().code, errc::misuse);
    EXPECT_NE(u.error().message.find(reason), std::string::npos) << u.error().message;
    EXPECT_EQ(u.error().message.find("s3cret"), std::string::npos) << u.error().message;
}

TEST(mysql_url, bad_urls_are_refused_with_a_reason) {
    expect_refused("mysql://", "no host");
    expect_refused("mysql://u:s3cret@:3306/d", "no host");
    expect_refused("mysql://u:s3cret@h:0/d", "port");
    expect_refused("mysql://u:s3cret@h:70000/d", "port");
    expect_refused("mysql://u:s3cret@h:x1/d", "port");
    expect_refused("mysql://h:3306/d", "no user");
    expect_refused("mysql://u:s3cret@h:3306", "no database");
    expect_refused("mysql://u:s3cret@h:3306/", "no database");
    expect_refused("mysql://u:s3cret@h/d;DROP", "database name");
    expect_refused("mysql://u:s3cret@h/a/b", "database name");
    expect_refused("mysql://u:s3cret@h/d?ssl=1", "query");
    expect_refused("postgres://u:s3cret@h/d", "scheme");
    expect_refused("not a url", "not a URL");
}

TEST(printable_url, hides_the_password_and_nothing_else) {
    EXPECT_EQ(printable_url("mysql://tkt:p%40ss@db:3306/ticketon"),
              "mysql://tkt:***@db:3306/ticketon");
    EXPECT_EQ(printable_url("mysql://tkt:p@ss@db/t"), "mysql://tkt:***@db/t");
    EXPECT_EQ(printable_url("mysql://tkt@db/t"), "mysql://tkt@db/t");
    EXPECT_EQ(printable_url("sqlite:///var/lib/ticketon/t.db"), "sqlite:///var/lib/ticketon/t.db");
    EXPECT_EQ(printable_url("sqlite://data/a:b@c.db"), "sqlite://data/a:b@c.db");
}

}  // namespace
}  // namespace tkt::db
