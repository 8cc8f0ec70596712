#include "http/sse.hpp"

#include <gtest/gtest.h>

namespace tkt::http {
namespace {

using namespace std::chrono_literals;

std::string framed(const sse_event& e) {
    std::string out;
    append_sse_event(out, e);
    return out;
}

TEST(sse, an_event_has_its_id_type_and_data_then_a_blank_line) {
    EXPECT_EQ(framed({.id = "42", .type = "position", .data = R"({"position":7})"}),
              "id: 42\nevent: position\ndata: {\"position\":7}\n\n");
    EXPECT_EQ(framed({.id = "", .type = "", .data = "hello"}), "data: hello\n\n");
}

TEST(sse, every_line_of_data_is_a_data_line_whatever_ends_it) {
    EXPECT_EQ(framed({.id = "", .type = "", .data = "a\nb\r\nc\rd"}),
              "data: a\ndata: b\ndata: c\ndata: d\n\n");
    EXPECT_EQ(framed({.id = "", .type = "", .data = "ends\n"}), "data: ends\ndata: \n\n");
    EXPECT_EQ(framed({.id = "", .type = "", .data = ""}), "data: \n\n");
}

TEST(sse, line_breaks_cannot_end_the_id_or_type_early) {
    EXPECT_EQ(framed({.id = "1\n\ndata: forged", .type = "x\r\ny", .data = "d"}),
              "id: 1data: forged\nevent: xy\ndata: d\n\n");
}

TEST(sse, retry_hints_and_heartbeat_comments) {
    std::string out;
    append_sse_retry(out, 3000ms);
    append_sse_comment(out, "heartbeat");
    EXPECT_EQ(out, "retry: 3000\n\n: heartbeat\n\n");
}

TEST(sse, last_event_id_comes_from_the_header_else_the_query) {
    EXPECT_EQ(sse_last_event_id("17", "9"), "17");
    EXPECT_EQ(sse_last_event_id("", "9"), "9");
    EXPECT_EQ(sse_last_event_id(" 17 ", std::nullopt), "17");
    EXPECT_EQ(sse_last_event_id("", std::nullopt), std::nullopt);
    EXPECT_EQ(sse_last_event_id("   ", std::nullopt), std::nullopt);
    EXPECT_EQ(sse_last_event_id(std::string(sse_last_event_id_max + 1, '7'), std::nullopt),
              std::nullopt);
    EXPECT_EQ(sse_last_event_id("1\n2", std::nullopt), std::nullopt);
}

TEST(sse_queue, pending_frames_are_written_in_order_in_one_buffer) {
    sse_queue q;
    const auto now = sse_queue::time_point{};
    EXPECT_EQ(q.push("data: a\n\n", now), sse_queue::outcome::queued);
    EXPECT_EQ(q.push("data: b\n\n", now), sse_queue::outcome::queued);
    EXPECT_EQ(q.bytes(), 18u);
    EXPECT_EQ(q.take(), "data: a\n\ndata: b\n\n");
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(q.take(), "");
}

TEST(sse_queue, a_newer_value_of_a_kind_replaces_the_pending_one_where_it_stands) {
    sse_queue q;
    const auto now = sse_queue::time_point{};
    q.push_latest("position", "P1", now);
    q.push("S1", now);
    q.push_latest("position", "P22", now + 1s);
    q.push_latest("admitted", "A", now + 1s);
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(q.bytes(), 6u);
    EXPECT_EQ(q.take(), "P22S1A");
    q.push_latest("position", "P3", now + 2s);
    EXPECT_EQ(q.take(), "P3");
}

TEST(sse_queue, a_client_past_the_byte_bound_overflows_and_nothing_is_queued) {
    sse_queue q({.bytes_max = 10, .age_max = 10s});
    const auto now = sse_queue::time_point{};
    EXPECT_EQ(q.push("12345678", now), sse_queue::outcome::queued);
    EXPECT_EQ(q.push("123", now), sse_queue::outcome::overflow);
    EXPECT_EQ(q.push_latest("k", "123", now), sse_queue::outcome::overflow);
    EXPECT_EQ(q.bytes(), 8u);
    EXPECT_EQ(q.push("12", now), sse_queue::outcome::queued);
    EXPECT_EQ(q.take(), "1234567812");
}

TEST(sse_queue, a_client_that_does_not_read_goes_stale_by_its_oldest_frame) {
    sse_queue q({.bytes_max = 1024, .age_max = 5s});
    const auto t0 = sse_queue::time_point{} + 100s;
    EXPECT_FALSE(q.stale(t0 + 1h)) << "an empty queue is never stale";
    q.push_latest("position", "P1", t0);
    q.push_latest("position", "P2", t0 + 4s);  // replaced, but as old as the first
    EXPECT_FALSE(q.stale(t0 + 5s));
    EXPECT_TRUE(q.stale(t0 + 5s + 1ms));
    q.take();
    q.push("S", t0 + 6s);
    EXPECT_FALSE(q.stale(t0 + 10s));
}

}  // namespace
}  // namespace tkt::http
