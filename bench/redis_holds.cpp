// Hold + release pairs per second through redis_inventory, for bench/redis_holds.sh.
//
//   redis_holds --port P [--seconds 10] [--coroutines 200] [--seats 2000]
//       Loads event 1 with that many seats, then runs that many coroutines on one I/O thread
//       and one pipelined connection; each holds one seat of its own (a user of its own) and
//       releases it, again and again, until the time is up. Prints "pairs N", "seconds S".
//   redis_holds --port P --holds-only [--seconds 10] [--coroutines 200]
//       Loads event 1 as one general-admission zone "floor" of 2,000,000,000 places and only
//       holds (quantity 1, a new hold id each time, never released): the hold script alone.
//       Prints "holds N", "seconds S".
//   redis_holds --pair-script
//       Prints the Lua script the reference runs: the hold script's work and then the release
//       script's, in one EVAL (so the reference pays one round trip per pair, we pay two).
//   redis_holds --hold-script
//       Prints the engine's own hold script (the reference of --holds-only).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "inventory/detail/redis_scripts.hpp"
#include "inventory/redis_inventory.hpp"

namespace {

namespace asio = boost::asio;
using namespace tkt::inventory;

// KEYS: the event's. ARGV as the hold script's (id, user, expires_ms, zone, quantity, n, seats).
constexpr const char* pair_body = R"lua(
local it = items_at(4)
local code = check_hold(ARGV[1], ARGV[2], it, tonumber(redis.call('HGET', meta, 'max')))
if code then return {code} end
put_hold(ARGV[1], ARGV[2], ARGV[3], 'h', it, bump())
local rec = redis.call('HGET', holds, ARGV[1])
end_hold(ARGV[1], rec, false, bump())
return {0}
)lua";

struct settings {
    std::uint16_t port = 6379;
    bool holds_only = false;
    int seconds = 10;
    int coroutines = 200;
    int seats = 2000;
};

asio::awaitable<void> pairs(redis_inventory& inv, int index, int seat_count,
                            std::chrono::steady_clock::time_point until,
                            std::atomic<std::uint64_t>& done) {
    const auto expires = tkt::time_point{std::chrono::seconds{4'000'000'000}};
    int seat = index % seat_count;
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until) {
        hold_request r;
        r.event = 1;
        r.user = index + 1;
        r.hold = fmt::format("b{}-{}", index, n);
        r.items.seats.push_back(fmt::format("S-{}", seat + 1));
        r.expires_at = expires;
        auto op = inv.hold(std::move(r));
        auto held = co_await std::move(op);
        if (!held) {
            std::fprintf(stderr, "hold refused: %d\n", static_cast<int>(held.error().code));
            co_return;
        }
        auto released = inv.release(1, held->hold);
        if (!co_await std::move(released)) {
            std::fprintf(stderr, "release refused\n");
            co_return;
        }
        ++n;
        ++done;
    }
}

asio::awaitable<void> holds(redis_inventory& inv, int index,
                            std::chrono::steady_clock::time_point until,
                            std::atomic<std::uint64_t>& done) {
    const auto expires = tkt::time_point{std::chrono::seconds{4'000'000'000}};
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until) {
        hold_request r;
        r.event = 1;
        r.user = index + 1;
        r.hold = fmt::format("z{}-{}", index, n++);
        r.items.zone = "floor";
        r.items.quantity = 1;
        r.expires_at = expires;
        auto op = inv.hold(std::move(r));
        if (!co_await std::move(op)) {
            std::fprintf(stderr, "hold refused\n");
            co_return;
        }
        ++done;
    }
}

int run(const settings& s) {
    asio::io_context io(1);
    auto guard = asio::make_work_guard(io);
    std::thread io_thread([&] { io.run(); });
    tkt::redis::connection_options o;
    o.port = s.port;
    o.request_timeout = std::chrono::seconds{10};
    tkt::redis::client client(io.get_executor(), o);
    redis_inventory inv(client);
    layout l;
    l.event = 1;
    l.max_per_user = 1'000'000;
    if (s.holds_only) {
        l.zones.push_back(zone_spec{"floor", 2'000'000'000});
    } else {
        for (int i = 1; i <= s.seats; ++i) l.seats.push_back(fmt::format("S-{}", i));
    }
    asio::co_spawn(io, inv.load(std::move(l)), asio::use_future).get();

    std::atomic<std::uint64_t> done{0};
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::seconds{s.seconds};
    std::vector<std::future<void>> running;
    for (int i = 0; i < s.coroutines; ++i) {
        if (s.holds_only) {
            running.push_back(asio::co_spawn(io, holds(inv, i, until, done), asio::use_future));
        } else {
            running.push_back(
                asio::co_spawn(io, pairs(inv, i, s.seats, until, done), asio::use_future));
        }
    }
    for (auto& f : running) f.get();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    client.close();
    guard.reset();
    io_thread.join();
    std::printf("%s %llu\nseconds %.3f\n", s.holds_only ? "holds" : "pairs",
                static_cast<unsigned long long>(done.load()), seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--pair-script") {
            std::fputs(detail::redis_scripts::with_prelude(pair_body).c_str(), stdout);
            return 0;
        }
        if (a == "--hold-script") {
            std::fputs(detail::redis_scripts::with_prelude(detail::redis_scripts::hold).c_str(),
                       stdout);
            return 0;
        }
        if (a == "--holds-only") {
            s.holds_only = true;
            continue;
        }
        if (i + 1 >= argc) break;
        const int v = std::atoi(argv[++i]);
        if (a == "--port") s.port = static_cast<std::uint16_t>(v);
        if (a == "--seconds") s.seconds = v;
        if (a == "--coroutines") s.coroutines = v;
        if (a == "--seats") s.seats = v;
    }
    if (s.coroutines > s.seats) {
        std::fputs("more coroutines than seats\n", stderr);
        return 1;
    }
    return run(s);
}
