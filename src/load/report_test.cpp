// The load generator's figures and reports: percentiles, per-step summaries, the JSON and the
// SVG chart, and the targets it accepts.
#include "load/report.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "load/connection.hpp"

namespace tkt::load {
namespace {

using namespace std::chrono_literals;

TEST(LoadReport, PercentilesAreNearestRank) {
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) v.push_back(i);
    EXPECT_EQ(percentile(v, 50), 50);
    EXPECT_EQ(percentile(v, 90), 90);
    EXPECT_EQ(percentile(v, 99), 99);
    EXPECT_EQ(percentile(v, 100), 100);
    EXPECT_EQ(percentile({7}, 99), 7);
    EXPECT_EQ(percentile({}, 50), 0);
}

TEST(LoadReport, StepsKeepTheirOrderCountsOutcomesAndSeconds) {
    recorder r;
    r.add("signup", sample{100ms, 5ms, "201", true});
    r.add("hold", sample{1500ms, 2ms, "201", true});
    r.add("hold", sample{1600ms, 40ms, "409", true});
    r.add("hold", sample{2100ms, 3ms, "timeout", false});
    auto steps = r.summarize(3.0);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].name, "signup");
    const auto& hold = steps[1];
    EXPECT_EQ(hold.count, 3u);
    EXPECT_EQ(hold.ok, 2u);
    EXPECT_EQ(hold.outcomes.at("201"), 1u);
    EXPECT_EQ(hold.outcomes.at("409"), 1u);
    EXPECT_EQ(hold.outcomes.at("timeout"), 1u);
    EXPECT_DOUBLE_EQ(hold.per_second, 1.0);
    EXPECT_DOUBLE_EQ(hold.p50_ms, 3.0);
    EXPECT_DOUBLE_EQ(hold.max_ms, 40.0);
    EXPECT_EQ(hold.per_second_series, (std::vector<std::uint64_t>{0, 2, 1}));
    // 2 ms, 3 ms and 40 ms fall in the ≤2, ≤5 and ≤50 buckets.
    EXPECT_EQ(hold.histogram[1], 1u);
    EXPECT_EQ(hold.histogram[2], 1u);
    EXPECT_EQ(hold.histogram[5], 1u);
    EXPECT_EQ(r.count("hold"), 3u);
    EXPECT_EQ(r.count("pay"), 0u);
}

run_summary sample_run(bool broken) {
    recorder r;
    r.add("hold", sample{200ms, 2ms, "201", true});
    r.add("confirm", sample{900ms, 12ms, "200", true});
    run_summary s{"onsale", "http://127.0.0.1:8080", 2, 1.0, r.summarize(1.0), {}, {}};
    s.totals["ordersPaid"] = 1;
    if (broken) s.violations.push_back("audit: seat A-1-1 <sold twice>");
    return s;
}

TEST(LoadReport, JsonCarriesStepsTotalsAndViolations) {
    const auto v = boost::json::parse(to_json(sample_run(true))).as_object();
    EXPECT_EQ(v.at("scenario").as_string(), "onsale");
    EXPECT_EQ(v.at("users").to_number<std::int64_t>(), 2);
    const auto& steps = v.at("steps").as_array();
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].at("name").as_string(), "hold");
    EXPECT_EQ(steps[1].at("p99Ms").as_double(), 12.0);
    EXPECT_EQ(v.at("totals").at("ordersPaid").as_int64(), 1);
    EXPECT_EQ(v.at("violations").as_array().size(), 1u);
}

TEST(LoadReport, TextAndChartSayWhetherTheInvariantsHeld) {
    EXPECT_NE(text_report(sample_run(false)).find("invariants: all hold"), std::string::npos);
    const auto bad = text_report(sample_run(true));
    EXPECT_NE(bad.find("1 VIOLATED"), std::string::npos);
    EXPECT_NE(bad.find("seat A-1-1"), std::string::npos);
    const auto svg = to_svg(sample_run(true));
    EXPECT_TRUE(svg.starts_with("<svg "));
    EXPECT_TRUE(svg.ends_with("</svg>\n"));
    EXPECT_NE(svg.find("INVARIANTS VIOLATED"), std::string::npos);
    EXPECT_NE(svg.find("<polyline"), std::string::npos);
    EXPECT_NE(svg.find(">confirm<"), std::string::npos);
    EXPECT_NE(to_svg(sample_run(false)).find("invariants hold"), std::string::npos);
}

TEST(LoadReport, ProgressLineShowsTheShareDone) {
    const auto line = progress_line(0.5, 12.0, 5, 10, sample_run(false).steps);
    EXPECT_NE(line.find(" 50%"), std::string::npos);
    EXPECT_NE(line.find("users 5/10"), std::string::npos);
    EXPECT_NE(line.find("hold 1"), std::string::npos);
}

TEST(LoadTarget, OnlyHttpToAnAddress) {
    auto t = parse_target("http://127.0.0.1:8080");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 8080);
    EXPECT_EQ(t->prefix, "");
    auto p = parse_target("http://localhost/tkt/");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->host, "127.0.0.1");
    EXPECT_EQ(p->port, 80);
    EXPECT_EQ(p->prefix, "/tkt");
    EXPECT_EQ(p->url(), "http://127.0.0.1:80/tkt");
    EXPECT_FALSE(parse_target("https://127.0.0.1:8443"));
    EXPECT_FALSE(parse_target("http://127.0.0.1:0"));
    EXPECT_FALSE(parse_target("http://127.0.0.1:99999"));
    EXPECT_FALSE(parse_target("http://example.com:80"));
    EXPECT_FALSE(parse_target("127.0.0.1:8080"));
}

}  // namespace
}  // namespace tkt::load
