#include "load/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.hpp"

namespace tkt::load {
namespace {

// Colours for the chart's steps, in order.
constexpr const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

}  // namespace

void recorder::add(const std::string& step, sample s) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = steps_.try_emplace(step);
    if (inserted) order_.push_back(step);
    it->second.samples.push_back(std::move(s));
}

std::uint64_t recorder::count(const std::string& step) const {
    std::lock_guard lock(mutex_);
    auto it = steps_.find(step);
    return it == steps_.end() ? 0 : it->second.samples.size();
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::vector<step_summary> recorder::summarize(double seconds) const {
    std::lock_guard lock(mutex_);
    std::vector<step_summary> out;
    const auto buckets = static_cast<std::size_t>(std::max(1.0, std::ceil(seconds)));
    for (const auto& name : order_) {
        const auto& samples = steps_.at(name).samples;
        step_summary s;
        s.name = name;
        s.count = samples.size();
        s.per_second_series.assign(buckets, 0);
        std::vector<double> ms;
        ms.reserve(samples.size());
        for (const auto& x : samples) {
            if (x.ok) ++s.ok;
            ++s.outcomes[x.outcome];
            ms.push_back(static_cast<double>(x.took.count()) / 1000.0);
            auto second = static_cast<std::size_t>(x.at.count() / 1'000'000);
            s.per_second_series[std::min(second, buckets - 1)]++;
        }
        std::sort(ms.begin(), ms.end());
        s.histogram.assign(std::size(latency_edges_ms), 0);
        std::size_t bucket = 0;
        for (double v : ms) {
            while (v > latency_edges_ms[bucket]) ++bucket;
            s.histogram[bucket]++;
        }
        s.per_second = seconds > 0 ? static_cast<double>(s.count) / seconds : 0;
        s.p50_ms = percentile(ms, 50);
        s.p90_ms = percentile(ms, 90);
        s.p99_ms = percentile(ms, 99);
        s.max_ms = ms.empty() ? 0 : ms.back();
        out.push_back(std::move(s));
    }
    return out;
}

std::string progress_line(double fraction, double seconds, std::uint64_t users_done,
                          std::uint64_t users, const std::vector<step_summary>& steps) {
    constexpr int width = 24;
    const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::uint64_t errors = 0;
    std::string rates;
    for (const auto& s : steps) {
        errors += s.count - s.ok;
        rates += fmt::format("  {} {}", s.name, s.count);
    }
    return fmt::format("[{}] {:3.0f}% {:6.1f} s  users {}/{} done{}  not ok {}", bar,
                       fraction * 100, seconds, users_done, users, rates, errors);
}

std::string text_report(const run_summary& r) {
    std::string out = fmt::format("{} against {}: {} users in {:.1f} s\n", r.scenario, r.target,
                                  r.users, r.seconds);
    out += fmt::format("{:<14} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9}  outcomes\n", "step",
                       "count", "ok", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms");
    for (const auto& s : r.steps) {
        std::string outcomes;
        for (const auto& [k, v] : s.outcomes) outcomes += fmt::format(" {}:{}", k, v);
        out += fmt::format("{:<14} {:>9} {:>9} {:>10.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {}\n",
                           s.name, s.count, s.ok, s.per_second, s.p50_ms, s.p90_ms, s.p99_ms,
                           s.max_ms, outcomes);
    }
    for (const auto& [k, v] : r.totals) out += fmt::format("{}: {}\n", k, v);
    if (r.violations.empty()) {
        out += "invariants: all hold\n";
    } else {
        out += fmt::format("invariants: {} VIOLATED\n", r.violations.size());
        for (const auto& v : r.violations) out += "  - " + v + "\n";
    }
    return out;
}

std::string to_json(const run_summary& r) {
    boost::json::array steps;
    for (const auto& s : r.steps) {
        boost::json::object outcomes;
        for (const auto& [k, v] : s.outcomes) outcomes[k] = v;
        boost::json::array series(s.per_second_series.begin(), s.per_second_series.end());
        steps.push_back(boost::json::object{{"name", s.name},
                                            {"count", s.count},
                                            {"ok", s.ok},
                                            {"perSecond", s.per_second},
                                            {"p50Ms", s.p50_ms},
                                            {"p90Ms", s.p90_ms},
                                            {"p99Ms", s.p99_ms},
                                            {"maxMs", s.max_ms},
                                            {"outcomes", std::move(outcomes)},
                                            {"perSecondSeries", std::move(series)}});
    }
    boost::json::object totals;
    for (const auto& [k, v] : r.totals) totals[k] = v;
    boost::json::array violations(r.violations.begin(), r.violations.end());
    return boost::json::serialize(boost::json::object{{"scenario", r.scenario},
                                                      {"target", r.target},
                                                      {"users", r.users},
                                                      {"seconds", r.seconds},
                                                      {"steps", std::move(steps)},
                                                      {"totals", std::move(totals)},
                                                      {"violations", std::move(violations)}});
}

std::string to_svg(const run_summary& r) {
    constexpr double w = 900, h = 620, left = 70, right = 20, top = 40;
    constexpr double plot_h = 230, gap = 70;
    const double plot_w = w - left - right;
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
        "fill=\"white\"/>\n<text x=\"{}\" y=\"20\" font-size=\"15\">{}: {} users, {:.1f} s, "
        "{}</text>\n",
        w, h, left, escape_markup(r.scenario), r.users, r.seconds,
        r.violations.empty() ? "invariants hold" : "INVARIANTS VIOLATED");

    // Throughput over time.
    std::uint64_t peak = 1;
    std::size_t buckets = 1;
    for (const auto& s : r.steps) {
        buckets = std::max(buckets, s.per_second_series.size());
        for (auto v : s.per_second_series) peak = std::max(peak, v);
    }
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\">throughput (per second, by step)</text>\n<line x1=\"{}\" "
        "y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" "
        "y2=\"{}\" stroke=\"black\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n<text x=\"{}\" y=\"{}\" "
        "text-anchor=\"end\">{} s</text>\n",
        left, top - 5, left, top, left, top + plot_h, left, top + plot_h, left + plot_w,
        top + plot_h, left - 5, top + 10, peak, left - 5, top + plot_h, left + plot_w,
        top + plot_h + 15, buckets);
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
        const auto& s = r.steps[i];
        const char* colour = palette[i % std::size(palette)];
        std::string points;
        for (std::size_t b = 0; b < s.per_second_series.size(); ++b) {
            const double x =
                left + plot_w * (static_cast<double>(b) + 0.5) / static_cast<double>(buckets);
            const double y =
                top + plot_h -
                plot_h * static_cast<double>(s.per_second_series[b]) / static_cast<double>(peak);
            points += fmt::format("{:.1f},{:.1f} ", x, y);
        }
        out += fmt::format(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n"
            "<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n",
            colour, points, left + 10 + 110 * static_cast<double>(i % 7),
            top + plot_h + 32 + 14 * static_cast<double>(i / 7), colour, escape_markup(s.name));
    }

    // Latency histogram: buckets 1, 2, 5, 10 … ms, the share of each step's samples.
    const double hist_top = top + plot_h + gap + 20;
    const std::size_t edges = std::size(latency_edges_ms);
    out += fmt::format("<text x=\"{}\" y=\"{}\">latency (share of each step's requests)</text>\n",
                       left, hist_top - 5);
    const double slot = plot_w / static_cast<double>(edges);
    const double bar_w = slot / static_cast<double>(std::max<std::size_t>(1, r.steps.size()) + 1);
    for (std::size_t e = 0; e < edges; ++e) {
        const auto label =
            e + 1 == edges ? std::string("more") : fmt::format("≤{:g}", latency_edges_ms[e]);
        out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                           left + slot * (static_cast<double>(e) + 0.5), hist_top + plot_h + 15,
                           label);
    }
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", left,
                       hist_top + plot_h, left + plot_w, hist_top + plot_h);
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
        const auto& s = r.steps[i];
        if (s.count == 0) continue;
        const char* colour = palette[i % std::size(palette)];
        for (std::size_t e = 0; e < s.histogram.size(); ++e) {
            const double share = static_cast<double>(s.histogram[e]) / static_cast<double>(s.count);
            const double bh = plot_h * share;
            out += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                "fill=\"{}\"><title>{} {:.1f}%</title></rect>\n",
                left + slot * static_cast<double>(e) + bar_w * (static_cast<double>(i) + 0.5),
                hist_top + plot_h - bh, bar_w, bh, colour, escape_markup(s.name), share * 100);
        }
    }
    out += "</svg>\n";
    return out;
}

}  // namespace tkt::load
