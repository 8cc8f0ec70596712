#pragma once
// What a load run measured (`ticketon load`, issue 14), and its reports: the per-step figures
// (throughput, latency percentiles, outcomes), a progress line, the JSON figures and an SVG
// chart (throughput over time per step, latency histogram). Sans-io: the runner feeds samples
// in, with times measured from the start of the run.
//
// Thread-safety: `recorder` may be fed from any thread; the reports are pure functions.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tkt::load {

// One request (or wait) of a step: when it ended, since the run began; how long it took; what
// came of it ("201", "409", "timeout", …; ok says whether the flow went on as planned).
struct sample {
    std::chrono::microseconds at{0};
    std::chrono::microseconds took{0};
    std::string outcome;
    bool ok = true;
};

struct step_summary {
    std::string name;
    std::uint64_t count = 0;
    std::uint64_t ok = 0;
    std::map<std::string, std::uint64_t> outcomes;
    double per_second = 0;  // count / the run's length
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
    std::vector<std::uint64_t> per_second_series;  // samples ended in each second of the run
    std::vector<std::uint64_t> histogram;          // samples per latency_edges_ms bucket
};

// The upper bounds (ms) of the latency histogram's buckets; the last one takes the rest.
inline constexpr double latency_edges_ms[] = {1,   2,   5,    10,   20,   50,   100,
                                              200, 500, 1000, 2000, 5000, 1e300};

struct run_summary {
    std::string scenario;
    std::string target;
    std::uint64_t users = 0;
    double seconds = 0;
    std::vector<step_summary> steps;  // in the order the steps first occurred
    std::vector<std::string> violations;
    std::map<std::string, std::int64_t> totals;  // e.g. paid orders, seats sold, declined
};

class recorder {
public:
    void add(const std::string& step, sample s);
    // The figures so far, over a run of `seconds`.
    std::vector<step_summary> summarize(double seconds) const;
    std::uint64_t count(const std::string& step) const;

private:
    struct series {
        std::vector<sample> samples;
    };
    mutable std::mutex mutex_;
    std::vector<std::string> order_;
    std::map<std::string, series> steps_;
};

// The value below which `p` percent of `sorted` lie (nearest rank); 0 for none.
double percentile(const std::vector<double>& sorted, double p);

// "[=====>     ] 42% 12.3 s  users 840/2000 done  hold 512/s  pay 301/s  errors 3"
std::string progress_line(double fraction, double seconds, std::uint64_t users_done,
                          std::uint64_t users, const std::vector<step_summary>& steps);
// The figures as plain text, one line per step.
std::string text_report(const run_summary& r);
std::string to_json(const run_summary& r);
// A self-contained SVG: throughput per second of each step over the run, and a latency
// histogram (log-spaced buckets) per step.
std::string to_svg(const run_summary& r);

}  // namespace tkt::load
