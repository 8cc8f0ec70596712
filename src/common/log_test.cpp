#include "common/log.hpp"

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <boost/json/parse.hpp>

namespace tkt {
namespace {

// Captures the log into a stream for the length of a test, then restores stderr.
class captured_log {
public:
    explicit captured_log(log::level lvl) {
        log::init_with_sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_), lvl);
    }
    // The logger must stop writing into out_ before out_ is destroyed.
    ~captured_log() {
        log::init_with_sink(std::make_shared<spdlog::sinks::stderr_sink_mt>(), log::level::info);
    }
    captured_log(const captured_log&) = delete;
    captured_log& operator=(const captured_log&) = delete;

    std::vector<boost::json::object> lines() const {
        std::vector<boost::json::object> parsed;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) {
            parsed.push_back(boost::json::parse(line).as_object());
        }
        return parsed;
    }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
};

TEST(log, one_json_object_per_line_with_the_fields) {
    captured_log cap(log::level::info);
    const std::string path = "/api/v1/events?q=\"x\"\n";
    log::info(
        "http.request",
        {{"method", "GET"}, {"path", path}, {"status", 200}, {"ms", 1.5}, {"requestId", "r-1"}});
    log::warn("db.slow");
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 2u) << cap.text();
    const auto& first = lines[0];
    EXPECT_EQ(first.at("level").as_string(), "info");
    EXPECT_EQ(first.at("event").as_string(), "http.request");
    EXPECT_EQ(first.at("method").as_string(), "GET");
    EXPECT_EQ(first.at("path").as_string(), path);  // escaped on the way out, intact on the way in
    EXPECT_EQ(first.at("status").as_int64(), 200);
    EXPECT_EQ(first.at("ms").as_double(), 1.5);
    EXPECT_EQ(first.at("requestId").as_string(), "r-1");
    EXPECT_TRUE(first.contains("ts"));
    EXPECT_EQ(lines[1].at("level").as_string(), "warn");
    EXPECT_EQ(lines[1].at("event").as_string(), "db.slow");
}

TEST(log, the_line_starts_with_ts_level_event_in_utc_milliseconds) {
    // 2026-11-30T03:05:15.123Z
    const std::int64_t unix_ms = 1'796'007'915'123;
    const std::string line =
        log::format_line(unix_ms, log::level::error, "x.y", {{"a", 1}, {"level", "spoofed"}});
    EXPECT_EQ(line, R"({"ts":"2026-11-30T03:05:15.123Z","level":"error","event":"x.y","a":1})");
}

TEST(log, levels_below_the_threshold_are_dropped_without_building_fields) {
    captured_log cap(log::level::warn);
    int built = 0;
    log::debug("skipped", [&] {
        ++built;
        return boost::json::object{{"n", 1}};
    });
    TKT_LOG(info, "skipped.too", {{"n", ++built}});
    log::error("kept", [&] {
        ++built;
        return boost::json::object{{"n", 2}};
    });
    TKT_LOG(warn, "kept.too", {{"n", 3}});
    EXPECT_EQ(built, 1);
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].at("event").as_string(), "kept");
    EXPECT_EQ(lines[0].at("n").as_int64(), 2);
    EXPECT_EQ(lines[1].at("event").as_string(), "kept.too");
    EXPECT_FALSE(log::enabled(log::level::info));
    EXPECT_TRUE(log::enabled(log::level::error));
}

TEST(log, off_disables_everything) {
    captured_log cap(log::level::off);
    log::error("nothing");
    EXPECT_EQ(cap.text(), "");
    EXPECT_FALSE(log::enabled(log::level::off));
}

TEST(log, lines_from_many_threads_stay_whole) {
    captured_log cap(log::level::info);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t] {
            for (int i = 0; i < 200; ++i) log::info("race", {{"t", t}, {"i", i}});
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(cap.lines().size(), 800u);  // every line parses on its own
}

TEST(log, init_checks_the_level) {
    EXPECT_EQ(log::parse_level("warn"), log::level::warn);
    EXPECT_EQ(log::parse_level("warning"), std::nullopt);
    const auto bad = log::init("loud");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().find("loud"), std::string::npos);
    EXPECT_TRUE(log::init("error").has_value());
    EXPECT_FALSE(log::enabled(log::level::warn));
}

}  // namespace
}  // namespace tkt
