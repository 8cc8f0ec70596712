// What the database writer spends per hold + release, without HTTP: the order INSERT of a hold
// and the find + compare-and-set UPDATE of its release, through the real store functions, the
// real schema (every migration) and the real SQLite settings (WAL, background checkpoints),
// committed in batches as the group commit does. Items are pairs; one iteration is one batch
// of `batch` holds and the releases of the previous batch's holds, spread over 1,000 users as
// in an on-sale (since migration 005 a hold no longer enters orders_user; a user's live holds
// sit in orders_live, which stays small).
//
// The second argument takes a savepoint around each write, as write_kind::any does. The third
// drops the three secondary indexes of orders first (orders_user, orders_event, orders_live:
// the per-user list, the manager's list, the rebuild and the reconciler need them), to show
// what the table (keyed by the order id since migration 006) costs alone.
//
// Build and run (the release preset builds benchmarks):
//   cmake --build --preset release --target ticketon_booking_bench
//   taskset -c 0 build/release/src/booking/ticketon_booking_bench --benchmark_filter=order_writes
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "booking/order_store.hpp"
#include "common/ids.hpp"
#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"

namespace tkt::booking {
namespace {

constexpr std::int64_t users = 1'000;
const std::string now_text = "2026-11-30T09:00:00Z";

void check(const db::expected<void>& r) {
    if (!r) throw std::runtime_error(r.error().message);
}

template <class T>
T value_of(db::expected<T> r) {
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(*r);
}

std::unique_ptr<db::database> open_bench_database(const tkt::testing::temp_dir& dir, bool bare) {
    auto opened = db::open_database("sqlite://" + (dir.path() / "bench.db").string(), {.size = 1});
    if (!opened) throw std::runtime_error(opened.error().message);
    auto db = std::move(*opened);
    value_of(db::migrate(*db));
    if (bare) {
        db->run_sync([](db::connection& c) {
            check(c.exec_script(
                "DROP INDEX orders_user; DROP INDEX orders_event; DROP INDEX orders_live;"));
            return 0;
        });
    }
    db->run_sync([](db::connection& c) {
        check(c.begin());
        for (std::int64_t u = 1; u <= users; ++u) {
            value_of(
                c.exec("INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
                       "VALUES (?, ?, 'Bench', 'x', ?, ?)",
                       {u, "bench" + std::to_string(u) + "@example.com", now_text, now_text}));
        }
        value_of(
            c.exec("INSERT INTO events (id, manager_id, title, description, venue, starts_at, "
                   "sales_open_at, seating, layout_json, created_at, updated_at) VALUES "
                   "(1, 1, 'Bench', '', 'Hall', ?, ?, 'RESERVED', '{}', ?, ?)",
                   {now_text, now_text, now_text, now_text}));
        check(c.commit());
        return 0;
    });
    return db;
}

template <class F>
void in_savepoint(db::connection& c, bool savepoint, F f) {
    if (savepoint) value_of(c.exec("SAVEPOINT tkt_write"));
    f();
    if (savepoint) value_of(c.exec("RELEASE tkt_write"));
}

void order_writes(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const bool savepoint = state.range(1) != 0;
    tkt::testing::temp_dir dir("order-bench");
    auto db = open_bench_database(dir, state.range(2) != 0);
    std::vector<std::string> previous;
    std::vector<std::string> current;
    std::int64_t n = 0;
    auto t = std::chrono::system_clock::now();
    for (auto _ : state) {
        db->run_sync([&](db::connection& c) {
            check(c.begin());
            current.clear();
            for (std::size_t i = 0; i < batch; ++i) {
                t += std::chrono::microseconds(50);
                order o;
                o.hold_id = sortable_id(store::hold_id_prefix, t);
                o.id = store::order_id_of_hold(o.hold_id);  // as booking::service::hold does
                o.event_id = 1;
                o.user_id = (n++ * 7919) % users + 1;
                o.items.seats = {"A-1-" + std::to_string(n % 100 + 1)};
                o.amount = 150'000;
                o.expires_at = 1'800'000'000;
                in_savepoint(c, savepoint, [&] { check(store::insert_order(c, o, now_text)); });
                current.push_back(o.hold_id);
            }
            for (const auto& hold_id : previous) {
                in_savepoint(c, savepoint, [&] {
                    auto found = value_of(store::find_hold(c, hold_id));
                    if (!found) throw std::runtime_error("hold not found");
                    store::transition tr{.id = found->order_id,
                                         .from = {order_status::pending_payment},
                                         .to = order_status::cancelled,
                                         .now_text = now_text};
                    if (!value_of(store::change_status(c, tr)))
                        throw std::runtime_error("not cancelled");
                });
            }
            check(c.commit());
            return 0;  // the lease wrote: its check-in calls maintain(), as the writer does
                       // between its batches
        });
        std::swap(previous, current);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
    state.counters["checkpoints"] = static_cast<double>(db->writes().checkpoints);
}
BENCHMARK(order_writes)
    ->ArgNames({"batch", "savepoint", "bare"})
    ->Args({1, 0, 0})
    ->Args({16, 0, 0})
    ->Args({16, 1, 0})
    ->Args({64, 0, 0})
    ->Args({256, 0, 0})
    ->Args({16, 0, 1})
    ->MinTime(1.0)
    ->Repetitions(5)  // a shared machine: read the median
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tkt::booking
