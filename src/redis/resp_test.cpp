#include "redis/resp.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tkt::redis {
namespace {

// Every reply a parser can return, as redis-server 7.0 sent them (recorded with `nc`): PING,
// an unknown command, INCR, GET of a value with CRLF inside, GET of a missing key, GET of "",
// LRANGE, an EXEC with a nested error and a nested null, BLPOP timing out (null array), an empty
// LRANGE.
const std::string recorded =
    "+PONG\r\n"
    "-ERR unknown command 'NOPE', with args beginning with: \r\n"
    ":-42\r\n"
    "$7\r\nab\r\ncde\r\n"
    "$-1\r\n"
    "$0\r\n\r\n"
    "*3\r\n$1\r\na\r\n$1\r\nb\r\n$2\r\ncc\r\n"
    "*3\r\n:1\r\n*2\r\n-WRONGTYPE Operation\r\n$-1\r\n+OK\r\n"
    "*-1\r\n"
    "*0\r\n";

std::vector<reply> expected_replies() {
    return {
        reply::simple("PONG"),
        reply::error_text("ERR unknown command 'NOPE', with args beginning with: "),
        reply::number(-42),
        reply::bulk("ab\r\ncde"),
        reply::nil(),
        reply::bulk(""),
        reply::array({reply::bulk("a"), reply::bulk("b"), reply::bulk("cc")}),
        reply::array({reply::number(1),
                      reply::array({reply::error_text("WRONGTYPE Operation"), reply::nil()}),
                      reply::simple("OK")}),
        reply::nil(),
        reply::array({}),
    };
}

// Drains every complete reply; fails the test on a protocol error.
void drain(parser& p, std::vector<reply>& out) {
    for (;;) {
        auto r = p.next();
        ASSERT_TRUE(r.has_value()) << r.error().message;
        if (!*r) return;
        out.push_back(std::move(**r));
    }
}

std::string parse_error(std::string_view bytes, parser_limits limits = {}) {
    parser p(limits);
    p.feed(bytes);
    for (;;) {
        auto r = p.next();
        if (!r) return r.error().message;
        if (!*r) return "";
    }
}

TEST(resp_command, encodes_an_array_of_bulk_strings) {
    command c{"SET", "k", "a\r\nb"};
    c.arg(std::int64_t{-7}).arg(std::string_view{});
    EXPECT_EQ(c.encode(), "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$2\r\n-7\r\n$0\r\n\r\n");
    EXPECT_EQ(c.name(), "SET");
    std::string out = "x";
    command{"PING"}.encode_to(out);
    EXPECT_EQ(out, "x*1\r\n$4\r\nPING\r\n");
}

TEST(resp_command, binary_arguments_are_sent_as_they_are) {
    std::string nul("a\0b", 3);
    command c{"ECHO"};
    c.arg(nul);
    const char wire[] = "*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n";
    EXPECT_EQ(c.encode(), std::string(wire, sizeof wire - 1));
}

TEST(resp_parser, parses_recorded_replies_fed_at_once) {
    parser p;
    p.feed(recorded);
    std::vector<reply> got;
    drain(p, got);
    EXPECT_EQ(got, expected_replies());
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(resp_parser, gives_the_same_replies_when_split_at_every_byte_boundary) {
    for (std::size_t cut = 0; cut <= recorded.size(); ++cut) {
        parser p;
        std::vector<reply> got;
        p.feed(std::string_view(recorded).substr(0, cut));
        drain(p, got);
        p.feed(std::string_view(recorded).substr(cut));
        drain(p, got);
        ASSERT_EQ(got, expected_replies()) << "cut at " << cut;
    }
}

TEST(resp_parser, gives_the_same_replies_fed_one_byte_at_a_time) {
    parser p;
    std::vector<reply> got;
    for (char c : recorded) {
        p.feed(std::string_view(&c, 1));
        drain(p, got);
    }
    EXPECT_EQ(got, expected_replies());
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(resp_parser, waits_for_the_rest_of_an_unfinished_reply) {
    parser p;
    p.feed("*2\r\n:1\r\n$5\r\nhel");
    auto r = p.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
    p.feed("lo\r\n");
    r = p.next();
    ASSERT_TRUE(r.has_value() && r->has_value());
    EXPECT_EQ(**r, reply::array({reply::number(1), reply::bulk("hello")}));
}

TEST(resp_parser, a_large_array_header_allocates_nothing_before_its_elements) {
    parser p;
    p.feed("*1000000\r\n:1\r\n");
    auto r = p.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
}

TEST(resp_parser, refuses_malformed_input) {
    EXPECT_NE(parse_error("?what\r\n"), "");
    EXPECT_NE(parse_error("\r\n"), "");
    EXPECT_NE(parse_error("+OK\n"), "");
    EXPECT_NE(parse_error("+O\rK\r\n"), "");
    EXPECT_NE(parse_error(":12a\r\n"), "");
    EXPECT_NE(parse_error(":\r\n"), "");
    EXPECT_NE(parse_error(":+1\r\n"), "");
    EXPECT_NE(parse_error(":99999999999999999999\r\n"), "");
    EXPECT_NE(parse_error("$-2\r\n"), "");
    EXPECT_NE(parse_error("$x\r\n"), "");
    EXPECT_NE(parse_error("$3\r\nabcd\r\n"), "");
    EXPECT_NE(parse_error("*-2\r\n"), "");
    EXPECT_NE(parse_error("*1\r\n%1\r\n"), "");  // RESP3's map
    EXPECT_EQ(parse_error("+OK\r\n:1\r\n$-1\r\n"), "");
}

TEST(resp_parser, enforces_its_limits) {
    parser_limits small{
        .bulk_bytes_max = 8, .line_bytes_max = 10, .depth_max = 2, .elements_max = 4};
    EXPECT_EQ(parse_error("$8\r\n12345678\r\n", small), "");
    EXPECT_NE(parse_error("$9\r\n", small), "");
    EXPECT_NE(parse_error("$9223372036854775807\r\n", small), "");
    // The limit counts the type byte.
    EXPECT_EQ(parse_error("+012345678\r\n", small), "");
    EXPECT_NE(parse_error("+0123456789\r\n", small), "");
    // A line that never ends is refused once it is too long, not buffered forever.
    EXPECT_NE(parse_error("+0123456789012", small), "");
    EXPECT_EQ(parse_error("*1\r\n*1\r\n:1\r\n", small), "");
    EXPECT_NE(parse_error("*1\r\n*1\r\n*1\r\n", small), "");
    EXPECT_EQ(parse_error("*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n", small), "");
    EXPECT_NE(parse_error("*2\r\n*3\r\n", small), "");
    EXPECT_NE(parse_error("*5\r\n", small), "");
    EXPECT_NE(parse_error("*2147483648\r\n"), "");
    // The element count starts again with every reply.
    EXPECT_EQ(parse_error("*4\r\n:1\r\n:1\r\n:1\r\n:1\r\n*4\r\n:1\r\n:1\r\n:1\r\n:1\r\n", small),
              "");
}

TEST(resp_parser, stays_failed_after_a_protocol_error) {
    parser p;
    p.feed("!oops\r\n");
    auto first = p.next();
    ASSERT_FALSE(first.has_value());
    EXPECT_EQ(first.error().code, errc::protocol);
    EXPECT_TRUE(p.failed());
    p.feed("+OK\r\n");
    EXPECT_FALSE(p.next().has_value());
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(resp_parser, keeps_its_buffer_small_over_many_replies) {
    parser p;
    std::vector<reply> got;
    for (int i = 0; i < 10'000; ++i) {
        p.feed("$5\r\nhello\r\n:7\r\n");
        drain(p, got);
    }
    EXPECT_EQ(got.size(), 20'000u);
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(resp_reply, debug_strings_read_like_redis_cli) {
    EXPECT_EQ(to_debug_string(reply::array(
                  {reply::bulk("a"), reply::number(2), reply::nil(), reply::error_text("ERR x")})),
              "[\"a\", (integer) 2, (nil), (error) ERR x]");
}

TEST(redis_error, names_its_kind_and_the_server_prefix) {
    EXPECT_EQ(to_string(errc::timeout), "timeout");
    EXPECT_EQ(error_prefix(error{errc::server, "NOSCRIPT No matching script."}), "NOSCRIPT");
    EXPECT_EQ(error_prefix(error{errc::io, "NOSCRIPT"}), "");
}

}  // namespace
}  // namespace tkt::redis
