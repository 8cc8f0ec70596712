#pragma once
// Request metrics in Prometheus text format: requests by route and status, a latency
// histogram per route, open connections. Lock-free on the hot path (relaxed atomics into
// arrays sized at start-up); other modules add their own lines through collectors.
// `bind_routes` runs once before serving; `observe` from any I/O thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tkt::http {

class router;

// Appends one counter to a collector's output: its # HELP and # TYPE lines, then its value.
void append_counter(std::string& out, std::string_view name, std::string_view help,
                    std::uint64_t value);

class metrics {
public:
    // Bucket upper bounds in seconds.
    static constexpr std::array<double, 12> latency_buckets{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
    metrics();
    ~metrics();

    // Creates a series for each route, plus one for requests no route matched.
    void bind_routes(const router& r);
    // `route_index` as given by router::match; SIZE_MAX for unmatched.
    void observe(std::size_t route_index, int status, double seconds);
    void connection_opened() { connections_open_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
    void connection_rejected() { connections_rejected_.fetch_add(1, std::memory_order_relaxed); }
    std::int64_t connections_open() const {
        return connections_open_.load(std::memory_order_relaxed);
    }

    // A collector appends complete Prometheus lines (with # HELP/# TYPE) to the output.
    void add_collector(std::function<void(std::string&)> collector);
    std::string render() const;

private:
    struct series;
    std::vector<std::unique_ptr<series>> series_;  // routes..., then "unmatched"
    std::atomic<std::int64_t> connections_open_{0};
    std::atomic<std::uint64_t> connections_rejected_{0};
    mutable std::mutex collectors_mutex_;
    std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace tkt::http
