// What the entry check adds to a hold (issue 11: "verifying it must not cost the hold path its
// speed"): verifying an entry token (HMAC-SHA256 and two small JSON parses) and checking its
// slot in the memory engine, against verifying an access token the same way.
//
//   cmake --build --preset release --target ticketon_waiting_room_bench
//   build/release/src/waiting_room/ticketon_waiting_room_bench
#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "waiting_room/entry_token.hpp"
#include "waiting_room/memory_waiting_room.hpp"

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

const time_point now{std::chrono::seconds{1'800'000'000}};
const auth::keyring keys = auth::make_keyring({"k1", std::string(32, 'k')});

template <class T>
T run(boost::asio::awaitable<T> op) {
    boost::asio::io_context io;
    auto f = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
    io.run();
    return f.get();
}

void bm_verify_entry(benchmark::State& state) {
    const auto token =
        sign_entry({.user = 7, .event = 3, .seq = 41, .expires_at = now + 600s}, keys, "ticketon");
    for (auto _ : state) {
        auto c = verify_entry(token, keys, "ticketon", 3, 7, now);
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(bm_verify_entry);

void bm_verify_access_token(benchmark::State& state) {
    const auto token = auth::sign({.sub = "7",
                                   .role = "USER",
                                   .iat = unix_seconds(now),
                                   .exp = unix_seconds(now + 600s),
                                   .iss = "ticketon"},
                                  keys);
    for (auto _ : state) {
        auto c = auth::verify(token, keys, "ticketon", now);
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(bm_verify_access_token);

// The slot check of the hold path: one lookup under the room's mutex, 1,000 admitted.
void bm_slot_check(benchmark::State& state) {
    memory_waiting_room rooms;
    run(rooms.open(3, 1));
    for (user_id u = 1; u <= 1000; ++u) run(rooms.join(3, u, now));
    run(rooms.tick(3, now, {.admit_per_second = 100000, .max_active = 100000}));
    run(rooms.tick(3, now + 100ms, {.admit_per_second = 100000, .max_active = 100000}));
    user_id u = 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(rooms.admitted_now(3, u, u, now + 1s));
        u = u % 1000 + 1;
    }
}
BENCHMARK(bm_slot_check);

}  // namespace
}  // namespace tkt::waiting_room
