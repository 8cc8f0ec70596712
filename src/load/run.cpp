#include "load/run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "load/report.hpp"

namespace tkt::load {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr auto call_timeout = 30s;
// A 503 or 429 (the server at its connection limit, a dependency busy, a rate limit) is asked
// again after its Retry-After, as a page does, this many times in all.
constexpr int tries_max = 5;
constexpr std::string_view password = "load-generator-pw-1";

json::value parse(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value() : v;
}

std::string str(const json::value& v, std::string_view key) {
    if (!v.is_object()) return {};
    const auto* x = v.as_object().if_contains(key);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
}

std::int64_t num(const json::value& v, std::string_view key) {
    if (!v.is_object()) return 0;
    const auto* x = v.as_object().if_contains(key);
    return x && x->is_int64() ? x->as_int64() : 0;
}

// Waits while `max` holders are in; single-threaded (one io_context thread).
class gate {
public:
    gate(asio::any_io_executor ex, std::int64_t max) : ex_(std::move(ex)), max_(max) {}
    awaitable<void> acquire() {
        while (in_ >= max_) {
            auto timer = std::make_shared<asio::steady_timer>(ex_, clock_type::time_point::max());
            waiting_.push_back(timer);
            co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        }
        ++in_;
    }
    void release() {
        --in_;
        while (!waiting_.empty()) {
            auto t = waiting_.front().lock();
            waiting_.pop_front();
            if (t) {
                t->cancel();
                break;
            }
        }
    }
    std::int64_t in() const { return in_; }

private:
    asio::any_io_executor ex_;
    std::int64_t max_;
    std::int64_t in_ = 0;
    std::deque<std::weak_ptr<asio::steady_timer>> waiting_;
};

// `streams`: when the driver made each seat HELD and AVAILABLE again.
struct seat_moves {
    std::map<std::string, clock_type::time_point> held, released;
};

// The seat map as the run sees it live: one snapshot, then the seat stream's deltas (what a
// browser does). Users pick from it instead of each parsing a map of thousands of seats.
struct live_map {
    std::vector<std::string> ids;
    std::unordered_map<std::string, std::size_t> index;
    std::set<std::size_t> available;  // indices into ids, in map order
    std::uint64_t version = 0;
    bool ready = false;

    void load(const json::value& snapshot) {
        ids.clear();
        index.clear();
        available.clear();
        version = static_cast<std::uint64_t>(num(snapshot, "version"));
        const auto* sections =
            snapshot.is_object() ? snapshot.as_object().if_contains("sections") : nullptr;
        if (!sections || !sections->is_array()) return;
        for (const auto& section : sections->as_array()) {
            for (const auto& row : section.at("rows").as_array()) {
                for (const auto& seat : row.at("seats").as_array()) {
                    const std::string id(seat.at("id").as_string());
                    index.emplace(id, ids.size());
                    if (seat.at("status").as_string() == "AVAILABLE") available.insert(ids.size());
                    ids.push_back(id);
                }
            }
        }
        ready = true;
    }
    void apply(const json::value& delta) {
        const auto* changes =
            delta.is_object() ? delta.as_object().if_contains("changes") : nullptr;
        if (!changes || !changes->is_array()) return;
        for (const auto& ch : changes->as_array()) {
            auto it = index.find(str(ch, "id"));
            if (it == index.end()) continue;
            if (str(ch, "status") == "AVAILABLE") {
                available.insert(it->second);
            } else {
                available.erase(it->second);
            }
        }
        version = std::max(version, static_cast<std::uint64_t>(num(delta, "version")));
    }
    // The available seats at `offsets` (ascending) counted in map order: one walk, no copy of
    // the front of the map per pick.
    std::vector<std::string> at(const std::vector<std::size_t>& offsets) const {
        std::vector<std::string> out;
        std::size_t k = 0;
        auto want = offsets.begin();
        for (auto it = available.begin(); it != available.end() && want != offsets.end();
             ++it, ++k) {
            if (k == *want) {
                out.push_back(ids[*it]);
                ++want;
            }
        }
        return out;
    }
};

struct context {
    const options& o;
    asio::io_context& io;
    std::FILE* out;
    recorder rec;
    clock_type::time_point t0 = clock_type::now();
    clock_type::time_point deadline;
    std::int64_t event_id = 0;
    std::string run_id;
    // The run's sockets, `o.connections` in all: queue streams up to `streams_cap` (the waiting
    // users beyond it poll), the rest for calls.
    std::int64_t streams_cap;
    std::mt19937_64 jitter_rng;  // the pauses' jitter, from the run's seed
    gate connections;
    std::int64_t streams_open = 0;
    std::int64_t users_started = 0;
    bool spawning_done = false;
    std::int64_t users_done = 0;
    std::map<std::string, std::int64_t> totals;
    std::map<std::string, std::string> paid_seats;  // seat → order, of orders paid and kept
    std::vector<std::string> violations;
    live_map map;
    seat_moves moves;

    context(const options& opts, asio::io_context& ctx, std::FILE* o_)
        : o(opts),
          io(ctx),
          out(o_),
          streams_cap(std::min(opts.streams_max, opts.connections * 3 / 4)),
          jitter_rng(opts.seed),
          connections(ctx.get_executor(),
                      std::max<std::int64_t>(1, opts.connections - streams_cap)) {}

    std::chrono::microseconds now() const {
        return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0);
    }
    bool over() const { return clock_type::now() >= deadline; }
    std::chrono::milliseconds left() const {
        return std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - clock_type::now()));
    }
    void record(const std::string& step, const reply& r, bool ok) {
        rec.add(step, sample{now(), r.took, r.ok() ? std::to_string(r.status) : r.error, ok});
    }
    void count(const std::string& what, std::int64_t n = 1) { totals[what] += n; }
    const target& target_of(std::int64_t i) const {
        return o.targets[static_cast<std::size_t>(i) % o.targets.size()];
    }
    std::string source_of(std::int64_t i) const {
        if (!o.spread_sources || !target_of(i).host.starts_with("127.")) return {};
        return fmt::format("127.{}.{}.{}", 1 + i / 64'000, (i / 250) % 256, 1 + i % 250);
    }
    // A pause of `base` plus up to `spread` more, so that users told to come back together
    // do not all come back in the same millisecond.
    std::chrono::milliseconds jittered(std::chrono::milliseconds base,
                                       std::chrono::milliseconds spread) {
        return base + std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
                          0, spread.count())(jitter_rng));
    }
};

awaitable<void> pause(context& c, std::chrono::milliseconds d) {
    asio::steady_timer timer(c.io.get_executor(), d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// One step of a user on `conn`, recorded under `name` (`ok`: whether its answer is what the
// step expects). A 503 or 429 is recorded too, and asked again after its Retry-After (1 s when
// it named none) and up to a second of jitter, tries_max times in all, unless the run ends.
// Everything by value: the frame outlives the caller's temporaries (`{}` for no token).
template <class Ok>
awaitable<reply> step(context& c, connection& conn, std::string_view name, std::string method,
                      std::string path, std::string body, std::string token, header_list headers,
                      Ok ok) {
    for (int attempt = 1;; ++attempt) {
        auto op = conn.call(method, path, body, token, headers, call_timeout);
        auto r = co_await std::move(op);
        const bool again = r.status == 503 || r.status == 429;
        c.rec.add(std::string(name),
                  sample{c.now(), r.took, r.ok() ? std::to_string(r.status) : r.error,
                         !again && ok(r.status)});
        if (!again || attempt == tries_max || c.over()) co_return r;
        c.count("retries");
        auto wait = c.jittered(std::chrono::seconds(std::max(1, r.retry_after_s)), 1000ms);
        auto p = pause(c, std::min(wait, c.left()));
        co_await std::move(p);
    }
}

// `ok` for a step whose only expected answer is `status`.
auto is(int status) {
    return [status](int s) { return s == status; };
}

// Waits for admission: the queue stream while streams are to spare, else polling GET /queue.
awaitable<std::string> wait_for_entry(context& c, std::int64_t i, const std::string& token) {
    const auto path = fmt::format("/api/v1/events/{}/queue", c.event_id);
    const auto begun = clock_type::now();
    auto waited = [&] {
        return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - begun);
    };
    if (c.streams_open < c.streams_cap) {
        ++c.streams_open;
        event_stream s(c.io.get_executor(), c.target_of(i), c.source_of(i));
        auto opened = co_await s.open(path + "/stream", token, call_timeout);
        if (opened.ok() && opened.status == 200) {
            while (!c.over()) {
                auto e = co_await s.next(c.left());
                if (!e) break;
                if (e->type == "admitted") {
                    --c.streams_open;
                    c.rec.add("wait", sample{c.now(), waited(), "admitted", true});
                    co_return str(parse(e->data), "entryToken");
                }
            }
        }
        --c.streams_open;
    }
    // Polling, one connection per look, as a page that reloads: sooner as the turn nears (half
    // the ETA, 1 to 15 s), every 5 s in a pre-queue (no position yet).
    while (!c.over()) {
        co_await c.connections.acquire();
        reply r;
        {
            connection conn(c.io.get_executor(), c.target_of(i), c.source_of(i));
            auto op = step(c, conn, "poll", "GET", path, {}, token, {}, is(200));
            r = co_await std::move(op);
        }
        c.connections.release();
        auto next = 1s;
        if (r.status == 200) {
            auto v = parse(r.body);
            if (str(v, "status") == "ADMITTED") {
                c.rec.add("wait", sample{c.now(), waited(), "admitted", true});
                co_return str(v, "entryToken");
            }
            const auto* position = v.is_object() ? v.as_object().if_contains("position") : nullptr;
            next = position && position->is_int64() ? std::chrono::seconds(std::clamp<std::int64_t>(
                                                          num(v, "etaSeconds") / 2, 1, 15))
                                                    : 5s;
        }
        auto p = pause(c, std::min(c.jittered(next, 500ms), c.left()));
        co_await std::move(p);
    }
    c.rec.add("wait", sample{c.now(), waited(), "run ended", false});
    co_return std::string();
}

// The available seat ids of the event's map, in map order.
std::vector<std::string> available_seats(const json::value& map) {
    std::vector<std::string> out;
    if (!map.is_object()) return out;
    const auto* sections = map.as_object().if_contains("sections");
    if (!sections || !sections->is_array()) return out;
    for (const auto& section : sections->as_array()) {
        for (const auto& row : section.at("rows").as_array()) {
            for (const auto& seat : row.at("seats").as_array()) {
                if (seat.at("status").as_string() == "AVAILABLE")
                    out.emplace_back(seat.at("id").as_string());
            }
        }
    }
    return out;
}

// True when the user bought or left a hold behind; false when they gave up (sold out, or no
// seat after three tries), and then they leave the line, freeing their entry's slot.
awaitable<bool> buy(context& c, connection& conn, const std::string& token,
                    const std::string& entry, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> chance(0, 1);
    header_list queue_token;
    if (!entry.empty()) queue_token.emplace_back("Queue-Token", entry);
    json::value hold;
    // The page loads the map once (the server pays for it); the picks come from the live view.
    auto op = step(c, conn, "seatmap", "GET", fmt::format("/api/v1/events/{}/seats", c.event_id),
                   {}, {}, {}, is(200));
    auto page = co_await std::move(op);
    if (page.status != 200) co_return false;
    for (int attempt = 0; attempt < 3 && !c.over(); ++attempt) {
        if (!c.map.ready) co_return false;
        const auto left = c.map.available.size();
        if (left == 0) {
            c.count("usersSoldOut");
            co_return false;
        }
        // Among the front of what is available (the first 16, or the first eighth of a big
        // map): people go for the same good seats, and collide.
        const std::size_t window = std::min(left, std::max<std::size_t>(16, left / 8));
        const std::size_t want = std::min<std::size_t>(chance(rng) < 0.5 ? 1 : 2, window);
        std::vector<std::size_t> offsets;
        while (offsets.size() < want) {
            const auto k = std::uniform_int_distribution<std::size_t>(0, window - 1)(rng);
            if (std::find(offsets.begin(), offsets.end(), k) == offsets.end()) offsets.push_back(k);
        }
        std::sort(offsets.begin(), offsets.end());
        const auto pick = c.map.at(offsets);
        json::array ids(pick.begin(), pick.end());
        auto hop = step(c, conn, "hold", "POST", fmt::format("/api/v1/events/{}/holds", c.event_id),
                        json::serialize(json::object{{"seats", std::move(ids)}}), token,
                        queue_token, [](int s) { return s == 201 || s == 409; });
        auto held = co_await std::move(hop);
        if (held.status == 201) {
            hold = parse(held.body);
            break;
        }
        if (held.status != 409) co_return false;
        // The answer names the seats taken: the page marks them before the next try.
        const auto refused = parse(held.body);
        if (const auto* taken =
                refused.is_object() ? refused.as_object().if_contains("seats") : nullptr;
            taken && taken->is_array()) {
            for (const auto& t : taken->as_array()) {
                if (!t.is_string()) continue;
                auto it = c.map.index.find(std::string(t.as_string()));
                if (it != c.map.index.end()) c.map.available.erase(it->second);
            }
        }
    }
    if (!hold.is_object()) co_return false;
    const auto order_id = str(hold, "orderId");
    const auto amount = num(hold, "amount");

    if (chance(rng) < c.o.abandon_rate) {
        c.count("holdsAbandoned");
        if (chance(rng) < 0.5) {
            auto op = step(c, conn, "release", "DELETE", "/api/v1/holds/" + str(hold, "holdId"), {},
                           token, {}, is(204));
            co_await std::move(op);
        }
        co_return true;
    }
    const bool decline = chance(rng) < c.o.decline_rate;
    json::object pay{{"orderId", order_id}, {"amount", amount}};
    if (decline) pay["outcome"] = "decline";
    // At the deployment's standalone sandbox (a short connection of its own, beside the one the
    // user holds), else at the target's built-in one.
    std::optional<connection> toss;
    if (c.o.sandbox) toss.emplace(c.io.get_executor(), *c.o.sandbox, std::string());
    auto pop =
        step(c, toss ? *toss : conn, "pay", "POST", toss ? "/payments" : "/sandbox/toss/payments",
             json::serialize(pay), {}, {}, is(201));
    const auto paid = co_await std::move(pop);
    if (paid.status != 201) co_return true;
    const json::object confirm{{"paymentKey", str(parse(paid.body), "paymentKey")},
                               {"orderId", order_id},
                               {"amount", amount}};
    auto cop =
        step(c, conn, "confirm", "POST", "/api/v1/payments/confirm", json::serialize(confirm),
             token, {}, [decline](int s) { return decline ? s == 402 : s == 200; });
    auto confirmed = co_await std::move(cop);
    if (confirmed.status == 402) c.count("paymentsDeclined");
    if (confirmed.status != 200) co_return true;
    auto order = parse(confirmed.body);
    if (str(order, "status") != "PAID") co_return true;
    c.count("ordersPaid");
    std::vector<std::string> seats;
    for (const auto& s : order.at("seats").as_array()) seats.emplace_back(s.as_string());
    if (chance(rng) < c.o.cancel_rate) {
        auto op = step(c, conn, "cancel", "POST", fmt::format("/api/v1/orders/{}/cancel", order_id),
                       R"({"reason":"load generator"})", token, {},
                       [](int s) { return s == 200 || s == 202; });
        auto cancelled = co_await std::move(op);
        if (cancelled.status == 200 || cancelled.status == 202) {
            c.count("ordersCancelled");
            co_return true;
        }
    }
    for (const auto& s : seats) {
        auto [it, fresh] = c.paid_seats.emplace(s, order_id);
        if (!fresh)
            c.violations.push_back(
                fmt::format("seat {} is in two paid orders: {} and {}", s, it->second, order_id));
    }
    co_return true;
}

// Signs user `i` up on `conn`; its access token, or "" (recorded either way).
awaitable<std::string> sign_up(context& c, connection& conn, std::int64_t i) {
    const json::object body{{"email", fmt::format("load-{}-{}@example.com", c.run_id, i)},
                            {"password", password},
                            {"name", fmt::format("Load {}", i)}};
    auto op = step(c, conn, "signup", "POST", "/api/v1/auth/signup", json::serialize(body), {}, {},
                   is(201));
    auto r = co_await std::move(op);
    co_return r.status == 201 ? str(parse(r.body), "accessToken") : std::string();
}

// Keeps c.map live: the snapshot, then the seat stream from its version (a `reset` or a dropped
// stream reads the snapshot again).
awaitable<void> follow_map(context& c) {
    const auto path = fmt::format("/api/v1/events/{}/seats", c.event_id);
    while (!c.over()) {
        {
            connection conn(c.io.get_executor(), c.o.targets.front(), {});
            auto op = conn.call("GET", path, {}, {}, {}, call_timeout);
            auto snap = co_await std::move(op);
            if (snap.status == 200) c.map.load(parse(snap.body));
        }
        event_stream s(c.io.get_executor(), c.o.targets.front(), {});
        auto oop = s.open(fmt::format("{}/stream?since={}", path, c.map.version), {}, call_timeout);
        auto opened = co_await std::move(oop);
        while (opened.status == 200 && !c.over()) {
            auto nop = s.next(c.left());
            auto e = co_await std::move(nop);
            if (!e || e->type == "reset") break;
            if (e->type == "seats") c.map.apply(parse(e->data));
        }
    }
}

awaitable<void> user(context& c, std::int64_t i) {
    std::mt19937_64 rng(c.o.seed * 1'000'003 + static_cast<std::uint64_t>(i));
    std::string token;
    json::value joined;
    co_await c.connections.acquire();
    {
        connection conn(c.io.get_executor(), c.target_of(i), c.source_of(i));
        auto sop = sign_up(c, conn, i);
        token = co_await std::move(sop);
        if (!token.empty()) {
            auto jop =
                step(c, conn, "join", "POST", fmt::format("/api/v1/events/{}/queue", c.event_id),
                     {}, token, {}, is(200));
            auto j = co_await std::move(jop);
            if (j.status == 200) joined = parse(j.body);
        }
    }
    c.connections.release();
    if (!joined.is_object()) {
        ++c.users_done;
        co_return;
    }
    std::string entry = str(joined, "entryToken");
    if (str(joined, "status") != "ADMITTED") {
        auto wop = wait_for_entry(c, i, token);
        entry = co_await std::move(wop);
        if (entry.empty()) {
            c.count("usersNotAdmitted");
            ++c.users_done;
            co_return;
        }
    }
    co_await c.connections.acquire();
    {
        connection conn(c.io.get_executor(), c.target_of(i), c.source_of(i));
        auto bop = buy(c, conn, token, entry, rng);
        if (!co_await std::move(bop) && !c.over()) {
            auto lop =
                step(c, conn, "leave", "DELETE", fmt::format("/api/v1/events/{}/queue", c.event_id),
                     {}, token, {}, is(204));
            co_await std::move(lop);
        }
    }
    c.connections.release();
    ++c.users_done;
}

// One user's steps on a keep-alive connection of its own, holding a place at the gate the while.
using user_steps = awaitable<void> (*)(context&, connection&, std::int64_t);

awaitable<void> as_user(context& c, std::int64_t i, user_steps steps) {
    co_await c.connections.acquire();
    {
        connection conn(c.io.get_executor(), c.target_of(i), c.source_of(i));
        auto op = steps(c, conn, i);
        co_await std::move(op);
    }
    c.connections.release();
    ++c.users_done;
}

// `seatmap`: read the seat map over and over.
awaitable<void> read_maps(context& c, connection& conn, std::int64_t) {
    const auto path = fmt::format("/api/v1/events/{}/seats", c.event_id);
    while (!c.over()) {
        auto op = conn.call("GET", path, {}, {}, {}, call_timeout);
        auto r = co_await std::move(op);
        c.record("seatmap", r, r.status == 200);
    }
}

// `hold`: sign up, then hold one available seat and release it, over and over (users collide on
// the first seats; a 409 counts as a served answer).
awaitable<void> hold_and_release(context& c, connection& conn, std::int64_t i) {
    std::mt19937_64 rng(c.o.seed * 1'000'003 + static_cast<std::uint64_t>(i));
    auto sop = sign_up(c, conn, i);
    const auto token = co_await std::move(sop);
    std::vector<std::string> seats;
    while (!token.empty() && !c.over()) {
        if (seats.empty()) {
            auto mop = conn.call("GET", fmt::format("/api/v1/events/{}/seats", c.event_id), {}, {},
                                 {}, call_timeout);
            auto map = co_await std::move(mop);
            c.record("seatmap", map, map.status == 200);
            seats = available_seats(parse(map.body));
            if (seats.size() > 64) seats.resize(64);
            if (seats.empty()) break;
        }
        const auto& seat =
            seats[std::uniform_int_distribution<std::size_t>(0, seats.size() - 1)(rng)];
        json::array ids{json::value(seat)};
        auto hop = conn.call("POST", fmt::format("/api/v1/events/{}/holds", c.event_id),
                             json::serialize(json::object{{"seats", std::move(ids)}}), token, {},
                             call_timeout);
        auto held = co_await std::move(hop);
        c.record("hold", held, held.status == 201 || held.status == 409);
        if (held.status == 201) {
            auto rop = conn.call("DELETE", "/api/v1/holds/" + str(parse(held.body), "holdId"), {},
                                 token, {}, call_timeout);
            auto r = co_await std::move(rop);
            c.record("release", r, r.status == 204);
        } else if (held.status != 409) {
            break;
        }
    }
}

// `join`: sign up and join the waiting room once.
awaitable<void> sign_up_and_join(context& c, connection& conn, std::int64_t i) {
    auto sop = sign_up(c, conn, i);
    const auto token = co_await std::move(sop);
    if (token.empty()) co_return;
    auto op = conn.call("POST", fmt::format("/api/v1/events/{}/queue", c.event_id), {}, token, {},
                        call_timeout);
    auto r = co_await std::move(op);
    c.record("join", r, r.status == 200);
}

// `streams`: users 1… each hold the event's seat stream open (no account needed) and time every
// change the driver (user 0) makes: it holds a seat, and releases it half a second later, once a
// second; the push delay is from the driver's answer to the delta carrying the change.

awaitable<void> stream_driver(context& c) {
    auto& moves = c.moves;
    connection conn(c.io.get_executor(), c.target_of(0), c.source_of(0));
    auto sop = sign_up(c, conn, 0);
    const auto token = co_await std::move(sop);
    asio::steady_timer timer(c.io.get_executor());
    // Give the streams a moment to open before the first move.
    timer.expires_after(1s);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::vector<std::string> seats;
    std::size_t next = 0;
    while (!token.empty() && !c.over()) {
        if (seats.empty()) {
            auto mop = conn.call("GET", fmt::format("/api/v1/events/{}/seats", c.event_id), {}, {},
                                 {}, call_timeout);
            auto map = co_await std::move(mop);
            seats = available_seats(parse(map.body));
            if (seats.empty()) break;
        }
        const auto seat = seats[next++ % seats.size()];
        json::array ids{json::value(seat)};
        auto hop = conn.call("POST", fmt::format("/api/v1/events/{}/holds", c.event_id),
                             json::serialize(json::object{{"seats", std::move(ids)}}), token, {},
                             call_timeout);
        auto held = co_await std::move(hop);
        c.record("hold", held, held.status == 201);
        if (held.status != 201) break;
        moves.held[seat] = clock_type::now();
        timer.expires_after(500ms);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        auto rop = conn.call("DELETE", "/api/v1/holds/" + str(parse(held.body), "holdId"), {},
                             token, {}, call_timeout);
        auto r = co_await std::move(rop);
        c.record("release", r, r.status == 204);
        moves.released[seat] = clock_type::now();
        timer.expires_after(500ms);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ++c.users_done;
}

awaitable<void> stream_watcher(context& c, std::int64_t i) {
    const auto& moves = c.moves;
    event_stream s(c.io.get_executor(), c.target_of(i), c.source_of(i));
    auto oop = s.open(fmt::format("/api/v1/events/{}/seats/stream", c.event_id), {}, call_timeout);
    auto opened = co_await std::move(oop);
    c.record("open", opened, opened.status == 200);
    while (opened.status == 200 && !c.over()) {
        auto nop = s.next(c.left());
        auto e = co_await std::move(nop);
        if (!e) break;
        if (e->type != "seats") continue;
        const auto now = clock_type::now();
        const auto data = parse(e->data);
        const auto* changes = data.is_object() ? data.as_object().if_contains("changes") : nullptr;
        if (!changes || !changes->is_array()) continue;
        for (const auto& ch : changes->as_array()) {
            const auto id = str(ch, "id");
            const auto status = str(ch, "status");
            const auto& when = status == "HELD" ? moves.held : moves.released;
            auto it = when.find(id);
            if (it == when.end() || it->second > now) continue;
            c.rec.add(
                "push",
                sample{c.now(),
                       std::chrono::duration_cast<std::chrono::microseconds>(now - it->second),
                       status, true});
        }
    }
    ++c.users_done;
}

awaitable<void> scenario_user(context& c, std::int64_t i) {
    if (c.o.scenario == "seatmap") return as_user(c, i, read_maps);
    if (c.o.scenario == "hold") return as_user(c, i, hold_and_release);
    if (c.o.scenario == "join") return as_user(c, i, sign_up_and_join);
    if (c.o.scenario == "streams") {
        if (i == 0) return stream_driver(c);
        return stream_watcher(c, i);
    }
    return user(c, i);
}

// The event to sell: the given one, or a new one of the manager's, on sale now with its
// waiting room on.
awaitable<std::string> prepare(context& c, std::string& manager_token) {
    connection conn(c.io.get_executor(), c.o.targets.front(), {});
    const json::object login{{"email", c.o.manager_email}, {"password", c.o.manager_password}};
    auto lop =
        conn.call("POST", "/api/v1/auth/login", json::serialize(login), {}, {}, call_timeout);
    auto r = co_await std::move(lop);
    if (r.status != 200) co_return fmt::format("manager login answered {} {}", r.status, r.error);
    manager_token = str(parse(r.body), "accessToken");
    if (c.o.event_id) {
        c.event_id = *c.o.event_id;
        co_return std::string();
    }
    json::array rows;
    std::int64_t left = c.o.seats;
    for (int n = 1; left > 0; ++n) {
        const auto in_row = std::min<std::int64_t>(left, 50);
        rows.push_back(json::object{{"row", std::to_string(n)}, {"seats", in_row}});
        left -= in_row;
    }
    const auto now = std::chrono::system_clock::now();
    auto stamp = [](std::chrono::system_clock::time_point t) {
        const auto secs = std::chrono::floor<std::chrono::seconds>(t);
        const auto day = std::chrono::floor<std::chrono::days>(secs);
        const std::chrono::year_month_day ymd{day};
        const std::chrono::hh_mm_ss hms{secs - day};
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                           hms.hours().count(), hms.minutes().count(), hms.seconds().count());
    };
    const std::int64_t admit = c.o.admit_per_second > 0
                                   ? c.o.admit_per_second
                                   : std::max<std::int64_t>(50, c.o.users / 20);
    const json::object event{
        {"title", fmt::format("Load run {}", c.run_id)},
        {"venue", "Load Hall"},
        {"category", "CONCERT"},
        {"startsAt", stamp(now + std::chrono::days(30))},
        {"salesOpenAt", stamp(now + std::chrono::days(1))},
        {"seating", "RESERVED"},
        {"grades", json::array{json::object{{"name", "R"}, {"price", 50000}}}},
        {"sections", json::array{json::object{{"name", "A"}, {"grade", "R"}, {"rows", rows}}}},
        {"maxPerUser", 4},
        {"holdSeconds", 300},
        {"waitingRoom",
         json::object{{"enabled", c.o.scenario == "onsale" || c.o.scenario == "join"},
                      {"admitPerSecond", admit},
                      {"maxActive", admit * 10},
                      {"entryTtlSeconds", 600}}}};
    auto cop = conn.call("POST", "/api/v1/events", json::serialize(event), manager_token, {},
                         call_timeout);
    r = co_await std::move(cop);
    if (r.status != 201)
        co_return fmt::format("creating the event answered {}: {}", r.status, r.body);
    c.event_id = num(parse(r.body), "id");
    auto oop = conn.call("PATCH", fmt::format("/api/v1/events/{}", c.event_id),
                         R"({"status":"ON_SALE"})", manager_token, {}, call_timeout);
    r = co_await std::move(oop);
    if (r.status != 200)
        co_return fmt::format("opening the event answered {}: {}", r.status, r.body);
    co_return std::string();
}

// The audit and the queue's report, as the event's manager, and the run's own view of sales.
awaitable<void> audit(context& c, const std::string& manager_token, run_summary& summary) {
    connection conn(c.io.get_executor(), c.o.targets.front(), {});
    auto aop = conn.call("GET", fmt::format("/api/v1/manager/events/{}/audit", c.event_id), {},
                         manager_token, {}, call_timeout);
    auto a = co_await std::move(aop);
    if (a.status != 200) {
        summary.violations.push_back(fmt::format("the audit answered {} {}", a.status, a.error));
        co_return;
    }
    auto report = parse(a.body);
    for (const auto& v : report.at("violations").as_array())
        summary.violations.push_back("audit: " + std::string(v.as_string()));
    for (const auto* key : {"capacity", "available", "held", "sold"})
        summary.totals[std::string("audit.") + key] = num(report, key);
    const auto sold = num(report, "sold");
    const auto seen = static_cast<std::int64_t>(c.paid_seats.size());
    if (seen > sold)
        summary.violations.push_back(
            fmt::format("the run paid for {} seats it kept, the audit counts {} sold", seen, sold));
    if (num(report, "sold") + num(report, "held") + num(report, "available") !=
        num(report, "capacity"))
        summary.violations.push_back("sold + held + available differs from the capacity");
    auto qop = conn.call("GET", fmt::format("/api/v1/manager/events/{}/queue", c.event_id), {},
                         manager_token, {}, call_timeout);
    auto q = co_await std::move(qop);
    if (q.status == 200) {
        // Named: a range-for over a part of a temporary would outlive it (ASan found it).
        const auto room = parse(q.body);
        for (const auto& v : room.at("violations").as_array())
            summary.violations.push_back("queue: " + std::string(v.as_string()));
        summary.totals["queue.admittedTotal"] = num(room, "admittedTotal");
    }
}

// "http://a:1,http://b:2".
std::string urls(const std::vector<target>& targets) {
    std::string out;
    for (const auto& t : targets) {
        if (!out.empty()) out += ',';
        out += t.url();
    }
    return out;
}

}  // namespace

int run(const options& o, std::FILE* out) {
    if (o.targets.empty()) {
        std::fprintf(out, "ticketon load: no target\n");
        return 1;
    }
    asio::io_context io(1);
    context c(o, io, out);
    c.run_id = fmt::format(
        "{:x}{:x}", static_cast<std::uint64_t>(::getpid()),
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) &
            0xffffff);
    const bool tty = ::isatty(::fileno(out)) != 0;
    std::string manager_token;
    std::string failed;
    run_summary summary;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            auto pop = prepare(c, manager_token);
            failed = co_await std::move(pop);
            if (!failed.empty()) co_return;
            std::fprintf(out, "load: event %lld, %lld users against %s\n",
                         static_cast<long long>(c.event_id), static_cast<long long>(o.users),
                         urls(o.targets).c_str());
            c.t0 = clock_type::now();
            c.deadline = c.t0 + std::chrono::seconds(o.duration_s);
            if (o.scenario == "onsale") asio::co_spawn(io, follow_map(c), asio::detached);
            // Users arrive at `rate` a second while the progress line runs below.
            asio::co_spawn(
                io,
                [&]() -> awaitable<void> {
                    asio::steady_timer pace(io);
                    for (std::int64_t i = 0; i < o.users && !c.over(); ++i) {
                        ++c.users_started;
                        asio::co_spawn(io, scenario_user(c, i), asio::detached);
                        if (o.rate > 0) {
                            pace.expires_at(c.t0 +
                                            std::chrono::microseconds(static_cast<std::int64_t>(
                                                1e6 * static_cast<double>(i + 1) / o.rate)));
                            co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
                        }
                    }
                    c.spawning_done = true;
                },
                asio::detached);
            asio::steady_timer tick(io);
            auto last_line = clock_type::now();
            while ((!c.spawning_done || c.users_done < c.users_started) && !c.over()) {
                tick.expires_after(200ms);
                co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
                if (clock_type::now() - last_line >= (tty ? 200ms : 5s)) {
                    last_line = clock_type::now();
                    const double secs = static_cast<double>(c.now().count()) / 1e6;
                    auto line = progress_line(
                        static_cast<double>(c.users_done) / static_cast<double>(o.users), secs,
                        static_cast<std::uint64_t>(c.users_done),
                        static_cast<std::uint64_t>(o.users), c.rec.summarize(secs));
                    std::fprintf(out, tty ? "\r%s" : "%s\n", line.c_str());
                    std::fflush(out);
                }
            }
            // Users still at work when the time ran out finish their step first, so that the
            // audit sees no hold a user is about to release.
            const auto grace = clock_type::now() + 15s;
            while (c.users_done < c.users_started && clock_type::now() < grace) {
                tick.expires_after(50ms);
                co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            if (tty) std::fprintf(out, "\n");
            summary.seconds = static_cast<double>(c.now().count()) / 1e6;
            // Holds the run left behind are part of the state the audit checks.
            auto aop = audit(c, manager_token, summary);
            co_await std::move(aop);
            io.stop();  // users cut off by the deadline end with the process
        },
        asio::detached);
    io.run();
    if (!failed.empty()) {
        std::fprintf(out, "ticketon load: %s\n", failed.c_str());
        return 1;
    }
    summary.scenario = o.scenario;
    summary.target = urls(o.targets);
    summary.users = static_cast<std::uint64_t>(o.users);
    summary.steps = c.rec.summarize(summary.seconds);
    for (const auto& [k, v] : c.totals) summary.totals[k] = v;
    summary.totals["usersFinished"] = c.users_done;
    summary.totals["seatsPaidAndKept"] = static_cast<std::int64_t>(c.paid_seats.size());
    for (auto& v : c.violations) summary.violations.push_back(std::move(v));
    std::fprintf(out, "%s", text_report(summary).c_str());
    if (!o.json_file.empty()) std::ofstream(o.json_file) << to_json(summary) << '\n';
    if (!o.chart_file.empty()) std::ofstream(o.chart_file) << to_svg(summary);
    return summary.violations.empty() ? 0 : 1;
}

}  // namespace tkt::load
