#pragma once
// Time is passed in, never read inside domain logic (sans-io). Services take a `clock&`;
// production uses `system_clock`, tests a `manual_clock` they move by hand.
#include <atomic>
#include <chrono>

namespace tkt {

using time_point = std::chrono::system_clock::time_point;

class clock {
public:
    virtual ~clock() = default;
    virtual time_point now() const = 0;
};

class system_clock final : public clock {
public:
    time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock for tests: thread-safe, moves only when told.
class manual_clock final : public clock {
public:
    explicit manual_clock(time_point start = time_point{std::chrono::seconds{1'800'000'000}})
        : now_ns_(start.time_since_epoch().count()) {}
    time_point now() const override {
        return time_point{time_point::duration{now_ns_.load(std::memory_order_relaxed)}};
    }
    void advance(std::chrono::nanoseconds d) {
        now_ns_.fetch_add(std::chrono::duration_cast<time_point::duration>(d).count(),
                          std::memory_order_relaxed);
    }
    void set(time_point t) {
        now_ns_.store(t.time_since_epoch().count(), std::memory_order_relaxed);
    }

private:
    std::atomic<time_point::rep> now_ns_;
};

inline std::int64_t unix_seconds(time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace tkt
