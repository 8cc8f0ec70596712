#include "http/metrics.hpp"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "http/router.hpp"

namespace tkt::http {
namespace {

// The statuses we count individually; anything else falls into its class ("2xx" etc.).
constexpr std::array<int, 24> known_statuses{200, 201, 204, 301, 302, 304, 400, 401,
                                             402, 403, 404, 405, 408, 409, 413, 422,
                                             423, 429, 431, 500, 502, 503, 504, 0};
constexpr std::size_t status_slots = known_statuses.size() + 5;  // + 1xx..5xx "other" slots

std::size_t status_slot(int status) {
    for (std::size_t i = 0; i + 1 < known_statuses.size(); ++i) {
        if (known_statuses[i] == status) return i;
    }
    int cls = std::clamp(status / 100, 1, 5);
    return known_statuses.size() + static_cast<std::size_t>(cls - 1);
}

std::string slot_label(std::size_t slot) {
    if (slot + 1 < known_statuses.size()) return std::to_string(known_statuses[slot]);
    return fmt::format("{}xx", slot - known_statuses.size() + 1);
}

}  // namespace

void append_counter(std::string& out, std::string_view name, std::string_view help,
                    std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}

struct metrics::series {
    std::string label;
    std::array<std::atomic<std::uint64_t>, status_slots> by_status{};
    std::array<std::atomic<std::uint64_t>, latency_buckets.size() + 1> buckets{};  // + Inf
    std::atomic<std::uint64_t> sum_us{0};
};

metrics::metrics() = default;
metrics::~metrics() = default;

void metrics::bind_routes(const router& r) {
    series_.clear();
    for (const auto& route : r.routes()) {
        auto s = std::make_unique<series>();
        s->label =
            fmt::format("method=\"{}\",route=\"{}\"", to_string(route.method), route.pattern);
        series_.push_back(std::move(s));
    }
    auto unmatched = std::make_unique<series>();
    unmatched->label = "method=\"\",route=\"unmatched\"";
    series_.push_back(std::move(unmatched));
}

void metrics::observe(std::size_t route_index, int status, double seconds) {
    if (series_.empty()) return;
    series& s = *series_[std::min(route_index, series_.size() - 1)];
    s.by_status[status_slot(status)].fetch_add(1, std::memory_order_relaxed);
    auto bucket = std::lower_bound(latency_buckets.begin(), latency_buckets.end(), seconds);
    s.buckets[static_cast<std::size_t>(bucket - latency_buckets.begin())].fetch_add(
        1, std::memory_order_relaxed);
    s.sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void metrics::add_collector(std::function<void(std::string&)> collector) {
    std::lock_guard lock(collectors_mutex_);
    collectors_.push_back(std::move(collector));
}

std::string metrics::render() const {
    std::string out;
    out.reserve(4096);
    out += "# HELP ticketon_http_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE ticketon_http_requests_total counter\n";
    for (const auto& s : series_) {
        for (std::size_t slot = 0; slot < status_slots; ++slot) {
            auto n = s->by_status[slot].load(std::memory_order_relaxed);
            if (n == 0) continue;
            out += fmt::format("ticketon_http_requests_total{{{},status=\"{}\"}} {}\n", s->label,
                               slot_label(slot), n);
        }
    }
    out +=
        "# HELP ticketon_http_request_duration_seconds Time from a request's last byte to its "
        "answer.\n";
    out += "# TYPE ticketon_http_request_duration_seconds histogram\n";
    for (const auto& s : series_) {
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < s->buckets.size(); ++b)
            cumulative += s->buckets[b].load(std::memory_order_relaxed);
        if (cumulative == 0) continue;
        std::uint64_t running = 0;
        for (std::size_t b = 0; b < s->buckets.size(); ++b) {
            running += s->buckets[b].load(std::memory_order_relaxed);
            std::string le =
                b < latency_buckets.size() ? fmt::format("{}", latency_buckets[b]) : "+Inf";
            out += fmt::format("ticketon_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                               s->label, le, running);
        }
        out += fmt::format("ticketon_http_request_duration_seconds_sum{{{}}} {:.6f}\n", s->label,
                           static_cast<double>(s->sum_us.load(std::memory_order_relaxed)) / 1e6);
        out += fmt::format("ticketon_http_request_duration_seconds_count{{{}}} {}\n", s->label,
                           running);
    }
    out += "# HELP ticketon_http_connections_open Client connections open now.\n";
    out += "# TYPE ticketon_http_connections_open gauge\n";
    out += fmt::format("ticketon_http_connections_open {}\n", connections_open());
    out += "# HELP ticketon_http_connections_rejected_total Connections refused at the limit.\n";
    out += "# TYPE ticketon_http_connections_rejected_total counter\n";
    out += fmt::format("ticketon_http_connections_rejected_total {}\n",
                       connections_rejected_.load(std::memory_order_relaxed));
    std::lock_guard lock(collectors_mutex_);
    for (const auto& c : collectors_) c(out);
    return out;
}

}  // namespace tkt::http
