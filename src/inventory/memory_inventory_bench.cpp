// Hold + release throughput of the embedded engine on one core, through the synchronous core
// (the port's awaitables add one coroutine frame on top). Goal: ≥ 2 million pairs per second.
//
//   cmake --preset release -B build/h-inv-rel && ninja -C build/h-inv-rel ticketon_inventory_bench
//   build/h-inv-rel/src/inventory/ticketon_inventory_bench
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "inventory/memory_inventory.hpp"

namespace tkt::inventory {
namespace {

constexpr event_id bench_event = 1;
constexpr int seat_count = 2'000;
constexpr std::size_t requests_count = 1'024;
const time_point t0{std::chrono::seconds{1'800'000'000}};

layout seated_layout() {
    layout l;
    l.event = bench_event;
    for (int i = 0; i < seat_count; ++i) {
        l.seats.push_back(std::string(1, static_cast<char>('A' + i / 100 % 20)) + "-" +
                          std::to_string(i / 20 % 5 + 1) + "-" + std::to_string(i % 20 + 1));
    }
    return l;
}

// Requests built up front, so the loop measures the engine, not the request's construction.
std::vector<hold_request> seat_requests(const layout& l) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::size_t> seat(0, l.seats.size() - 1);
    std::vector<hold_request> out;
    for (std::size_t i = 0; i < requests_count; ++i) {
        hold_request r{
            bench_event, static_cast<user_id>(i % 97 + 1), "hold-" + std::to_string(i), {}, t0};
        r.items.seats.push_back(l.seats[seat(rng)]);
        if (i % 2 == 1) {
            std::string second;
            do second = l.seats[seat(rng)];
            while (second == r.items.seats[0]);
            r.items.seats.push_back(second);
        }
        out.push_back(std::move(r));
    }
    return out;
}

void hold_release_seats(benchmark::State& state) {
    memory_inventory inv;
    const layout l = seated_layout();
    inv.load_now(l);
    const auto requests = seat_requests(l);
    std::size_t i = 0;
    for (auto _ : state) {
        const hold_request& r = requests[i++ % requests_count];
        auto held = inv.hold_now(r);
        benchmark::DoNotOptimize(held);
        benchmark::DoNotOptimize(inv.release_now(bench_event, r.hold));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel("items = hold+release pairs, 1-2 seats of 2000");
}
BENCHMARK(hold_release_seats);

void hold_release_zone(benchmark::State& state) {
    memory_inventory inv;
    inv.load_now(
        layout{bench_event, {}, {zone_spec{"floor", 5'000}, zone_spec{"balcony", 2'000}}, 4});
    std::vector<hold_request> requests;
    for (std::size_t i = 0; i < requests_count; ++i) {
        hold_request r{
            bench_event, static_cast<user_id>(i % 97 + 1), "hold-" + std::to_string(i), {}, t0};
        r.items.zone = i % 3 == 0 ? "balcony" : "floor";
        r.items.quantity = static_cast<std::int32_t>(i % 4 + 1);
        requests.push_back(std::move(r));
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const hold_request& r = requests[i++ % requests_count];
        auto held = inv.hold_now(r);
        benchmark::DoNotOptimize(held);
        benchmark::DoNotOptimize(inv.release_now(bench_event, r.hold));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel("items = hold+release pairs, GA quantity 1-4");
}
BENCHMARK(hold_release_zone);

// The sweeper's path: each hold is due at once and expire() ends it through the heap.
void hold_expire_seats(benchmark::State& state) {
    memory_inventory inv;
    const layout l = seated_layout();
    inv.load_now(l);
    const auto requests = seat_requests(l);
    std::size_t i = 0;
    for (auto _ : state) {
        const hold_request& r = requests[i++ % requests_count];
        auto held = inv.hold_now(r);
        benchmark::DoNotOptimize(held);
        auto expired = inv.expire_now(t0);
        benchmark::DoNotOptimize(expired);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel("items = hold+expire pairs");
}
BENCHMARK(hold_expire_seats);

}  // namespace
}  // namespace tkt::inventory
