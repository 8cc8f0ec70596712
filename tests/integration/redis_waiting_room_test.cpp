// The Redis `waiting_room` engine against a real redis-server and a real 3-master Cluster: the
// waiting-room conformance suite, unchanged, on both; then what only this engine has — two nodes
// racing on one room, Redis down, Redis restarted empty and the rooms put back (by hand and by
// the database journal).
#include "waiting_room/redis_waiting_room.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"
#include "waiting_room/journaled_waiting_room.hpp"
#include "waiting_room/memory_waiting_room.hpp"
#include "waiting_room/waiting_room_conformance.hpp"

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

redis::connection_options options(std::uint16_t port) {
    redis::connection_options o;
    o.port = port;
    o.request_timeout = 1000ms;
    o.reconnect_delay_min = 10ms;
    o.reconnect_delay_max = 100ms;
    return o;
}

// The server and the cluster of this test process (ctest runs each case in its own), emptied
// by every engine made on them.
testing::redis_server& shared_server() {
    static testing::redis_server server;
    return server;
}
testing::redis_cluster& shared_cluster() {
    static testing::redis_cluster cluster;
    return cluster;
}

// One node: io threads, a client (one server or the cluster) and the engine on it.
class node {
public:
    explicit node(std::uint16_t port) : client_(threads_.executor(), options(port)) {}
    explicit node(const std::vector<std::uint16_t>& ports)
        : client_(threads_.executor(), seeds(ports)) {}
    ~node() {
        client_.close();
        threads_.join();
    }

    redis_waiting_room& engine() { return engine_; }
    redis::client& client() { return client_; }

private:
    static std::vector<redis::connection_options> seeds(const std::vector<std::uint16_t>& ports) {
        std::vector<redis::connection_options> out;
        for (auto p : ports) out.push_back(options(p));
        return out;
    }

    testing::io_threads threads_;
    redis::client client_;
    redis_waiting_room engine_{client_};
};

// A node as one `waiting_room` the suite can own.
class owning_room final : public waiting_room {
public:
    explicit owning_room(std::unique_ptr<node> n) : node_(std::move(n)), e_(node_->engine()) {}

    boost::asio::awaitable<ticket> join(event_id e, user_id u, time_point now) override {
        return e_.join(e, u, now);
    }
    boost::asio::awaitable<std::optional<ticket>> status(event_id e, user_id u,
                                                         time_point now) override {
        return e_.status(e, u, now);
    }
    boost::asio::awaitable<std::optional<seq_t>> leave(event_id e, user_id u) override {
        return e_.leave(e, u);
    }
    boost::asio::awaitable<void> attach(event_id e, user_id u, time_point now) override {
        return e_.attach(e, u, now);
    }
    boost::asio::awaitable<void> detach(event_id e, user_id u, time_point now) override {
        return e_.detach(e, u, now);
    }
    boost::asio::awaitable<std::vector<std::pair<user_id, seq_t>>> open(
        event_id e, std::uint64_t seed) override {
        return e_.open(e, seed);
    }
    boost::asio::awaitable<tick_outcome> tick(event_id e, time_point now,
                                              room_settings s) override {
        return e_.tick(e, now, s);
    }
    boost::asio::awaitable<bool> admitted(event_id e, user_id u, seq_t seq,
                                          time_point now) override {
        return e_.admitted(e, u, seq, now);
    }
    boost::asio::awaitable<bool> use(event_id e, user_id u, seq_t seq, std::string hold,
                                     time_point now) override {
        return e_.use(e, u, seq, std::move(hold), now);
    }
    boost::asio::awaitable<std::vector<std::pair<user_id, std::string>>> holds_in_use(
        event_id e) override {
        return e_.holds_in_use(e);
    }
    boost::asio::awaitable<std::vector<departure>> holds_ended(
        event_id e, std::vector<std::pair<user_id, std::string>> ended) override {
        return e_.holds_ended(e, std::move(ended));
    }
    boost::asio::awaitable<std::optional<room_stats>> stats(event_id e) override {
        return e_.stats(e);
    }
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e,
                                                           std::int32_t max_active) override {
        return e_.audit(e, max_active);
    }
    boost::asio::awaitable<std::vector<event_id>> rooms() override { return e_.rooms(); }
    boost::asio::awaitable<void> drop(event_id e) override { return e_.drop(e); }

private:
    std::unique_ptr<node> node_;
    redis_waiting_room& e_;
};

std::unique_ptr<waiting_room> on_server() {
    shared_server().call({"FLUSHALL"});
    return std::make_unique<owning_room>(std::make_unique<node>(shared_server().port()));
}

std::unique_ptr<waiting_room> on_cluster() {
    auto& cluster = shared_cluster();
    for (std::size_t i = 0; i < cluster.size(); ++i) cluster.node(i).call({"FLUSHALL"});
    return std::make_unique<owning_room>(std::make_unique<node>(cluster.ports()));
}

}  // namespace
}  // namespace tkt::waiting_room

TKT_INSTANTIATE_WAITING_ROOM_CONFORMANCE(redis, tkt::waiting_room::on_server)
TKT_INSTANTIATE_WAITING_ROOM_CONFORMANCE(redis_cluster, tkt::waiting_room::on_cluster)

namespace tkt::waiting_room {
namespace {

using conformance::run;
using conformance::settings;
using conformance::t0;

struct redis_waiting_room_fixture : ::testing::Test {
    void SetUp() override { shared_server().call({"FLUSHALL"}); }
    testing::redis_server& server() { return shared_server(); }
};

TEST_F(redis_waiting_room_fixture, every_key_of_a_room_is_in_one_slot) {
    node a(server().port());
    run(a.engine().join(42, 1, t0));
    std::set<std::int64_t> slots;
    for (const auto& k : redis_waiting_room::keys(42))
        slots.insert(server().call({"CLUSTER", "KEYSLOT", k}).integer);
    EXPECT_EQ(slots.size(), 1u);
    EXPECT_EQ(server().call({"SMEMBERS", redis_waiting_room::rooms_key()}),
              redis::reply::array({redis::reply::bulk("42")}));
    EXPECT_EQ(server().call({"HGET", "{q:42}", "listed"}), redis::reply::bulk("1"));
}

// Two nodes on one Redis: users join, look, leave, open and close streams and use their entry
// while both nodes tick the room. Each user is driven by one thread, so what that thread saw
// last is the truth to check against at the end.
TEST_F(redis_waiting_room_fixture, two_nodes_racing_keep_the_room_clean) {
    node a(server().port());
    node b(server().port());
    constexpr event_id e = 7;
    constexpr int threads = 4;
    constexpr int users_per_thread = 25;
    constexpr int rounds = 400;
    const auto s =
        room_settings{.admit_per_second = 100, .max_active = 20, .entry_ttl = 3s, .grace = 2s};
    std::atomic<std::int64_t> clock_ms{0};
    auto now = [&] { return t0 + std::chrono::milliseconds(clock_ms.load()); };
    std::atomic<int> working{threads};
    std::atomic<int> done_ops{0};

    std::mutex given_mutex;
    std::map<seq_t, user_id> given;  // every seq handed out, to whom
    std::atomic<int> given_twice{0};
    auto note = [&](user_id u, seq_t seq) {
        if (seq == 0) return;
        std::lock_guard lock(given_mutex);
        auto [it, fresh] = given.emplace(seq, u);
        if (!fresh && it->second != u) ++given_twice;
    };
    std::vector<std::map<user_id, seq_t>> last_seen(threads);

    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            auto& engine = (t % 2 == 0 ? a : b).engine();
            std::mt19937 rng(static_cast<unsigned>(t + 1));
            auto& seen = last_seen[t];
            for (int r = 0; r < rounds; ++r) {
                const user_id u =
                    1 + t * users_per_thread + static_cast<user_id>(rng() % users_per_thread);
                switch (rng() % 7) {
                    case 0:
                    case 1: {
                        auto got = run(engine.join(e, u, now()));
                        note(u, got.seq);
                        seen[u] = got.seq;
                        break;
                    }
                    case 2: {
                        auto got = run(engine.status(e, u, now()));
                        if (got) {
                            note(u, got->seq);
                            seen[u] = got->seq;
                        } else {
                            seen.erase(u);
                        }
                        break;
                    }
                    case 3:
                        run(engine.leave(e, u));
                        seen.erase(u);
                        break;
                    case 4:
                        run(engine.attach(e, u, now()));
                        break;
                    case 5:
                        run(engine.detach(e, u, now()));
                        break;
                    case 6: {
                        auto it = seen.find(u);
                        if (it == seen.end()) break;
                        const auto hold = "h-" + std::to_string(u) + "-" + std::to_string(r);
                        if (run(engine.use(e, u, it->second, hold, now())) && rng() % 2 == 0) {
                            auto ended = std::vector<std::pair<user_id, std::string>>{{u, hold}};
                            run(engine.holds_ended(e, std::move(ended)));
                        }
                        break;
                    }
                }
                ++done_ops;
            }
            --working;
        });
    }
    // Both nodes tick, each as if it held the lease; the room opens a while in.
    std::vector<std::thread> tickers;
    for (int n = 0; n < 2; ++n) {
        tickers.emplace_back([&, n] {
            auto& engine = (n == 0 ? a : b).engine();
            bool opened = false;
            for (int i = 0; working.load() > 0; ++i) {
                if (n == 0 && !opened && done_ops.load() >= threads * rounds / 3) {
                    for (const auto& [u, seq] : run(engine.open(e, 99))) note(u, seq);
                    opened = true;
                }
                clock_ms += 50;
                run(engine.tick(e, now(), s));
                if (i % 10 == 0) {
                    auto in_use = run(engine.holds_in_use(e));
                    run(engine.holds_ended(e, std::move(in_use)));
                }
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& th : tickers) th.join();

    EXPECT_EQ(given_twice.load(), 0);
    const auto broken = run(a.engine().audit(e, s.max_active));
    EXPECT_TRUE(broken.empty()) << broken.front();
    auto saved = run(a.engine().save(e));
    ASSERT_TRUE(saved);
    std::set<seq_t> seqs;
    for (const auto& m : saved->members) {
        if (m.seq > 0) {
            EXPECT_TRUE(seqs.insert(m.seq).second) << "seq " << m.seq << " twice";
        }
        // The member's seq is the last one its thread was told (or the draw gave it).
        const int t = static_cast<int>((m.user - 1) / users_per_thread);
        auto it = last_seen[t].find(m.user);
        if (it != last_seen[t].end() && it->second != 0) {
            EXPECT_EQ(m.seq, it->second) << "user " << m.user;
        }
    }
    EXPECT_GT(given.size(), 10u);
    auto st = run(a.engine().stats(e));
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->open);
    EXPECT_GT(st->admitted_total, 0);
}

TEST_F(redis_waiting_room_fixture, the_audit_sees_a_broken_room) {
    node a(server().port());
    run(a.engine().open(1, 1));
    for (user_id u = 1; u <= 3; ++u) run(a.engine().join(1, u, t0));
    EXPECT_TRUE(run(a.engine().audit(1, 10)).empty());
    server().call({"ZREM", "{q:1}:waiting", "2"});
    server().call({"HSET", "{q:1}:seq", "3", "1"});
    const auto broken = run(a.engine().audit(1, 10));
    EXPECT_GE(broken.size(), 2u);
}

// The same operations, one at a time, on the memory engine and on this one: the same answers
// (the pre-queue is left out: the two engines shuffle it differently, both correctly).
TEST_F(redis_waiting_room_fixture, decides_as_the_memory_engine_does) {
    node a(server().port());
    memory_waiting_room memory;
    auto& redis = a.engine();
    std::mt19937 rng(13);
    auto now = t0;
    constexpr event_id e = 5;
    run(memory.open(e, 1));
    run(redis.open(e, 1));
    auto same_ticket = [](const std::optional<ticket>& m, const std::optional<ticket>& r) {
        ASSERT_EQ(m.has_value(), r.has_value());
        if (!m) return;
        EXPECT_EQ(m->where, r->where);
        EXPECT_EQ(m->seq, r->seq);
        EXPECT_EQ(m->head, r->head);
        EXPECT_EQ(m->created, r->created);
        if (m->where == place::admitted) {
            EXPECT_EQ(m->admitted_until, r->admitted_until);
        }
    };
    auto sorted = [](auto v) {
        std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
            return std::tie(x.user, x.seq) < std::tie(y.user, y.seq);
        });
        return v;
    };
    for (int step = 0; step < 3000; ++step) {
        const user_id u = 1 + static_cast<user_id>(rng() % 60);
        now += std::chrono::milliseconds(rng() % 400);
        switch (rng() % 9) {
            case 0:
            case 1:
                same_ticket(run(memory.join(e, u, now)), run(redis.join(e, u, now)));
                break;
            case 2:
                same_ticket(run(memory.status(e, u, now)), run(redis.status(e, u, now)));
                break;
            case 3:
                EXPECT_EQ(run(memory.leave(e, u)), run(redis.leave(e, u)));
                break;
            case 4:
                run(memory.attach(e, u, now));
                run(redis.attach(e, u, now));
                break;
            case 5:
                run(memory.detach(e, u, now));
                run(redis.detach(e, u, now));
                break;
            case 6: {
                const auto st = run(memory.status(e, u, now));
                const seq_t seq = st ? st->seq : 1;
                run(redis.status(e, u, now));
                const auto hold = "h" + std::to_string(rng() % 3);
                EXPECT_EQ(run(memory.use(e, u, seq, hold, now)),
                          run(redis.use(e, u, seq, hold, now)));
                EXPECT_EQ(run(memory.admitted(e, u, seq, now)),
                          run(redis.admitted(e, u, seq, now)));
                break;
            }
            case 7: {
                auto in_use = run(memory.holds_in_use(e));
                auto in_use_r = run(redis.holds_in_use(e));
                std::sort(in_use.begin(), in_use.end());
                std::sort(in_use_r.begin(), in_use_r.end());
                ASSERT_EQ(in_use, in_use_r);
                std::vector<std::pair<user_id, std::string>> ended;
                for (const auto& h : in_use) {
                    if (rng() % 2 == 0) ended.push_back(h);
                }
                auto copy = ended;
                EXPECT_EQ(sorted(run(memory.holds_ended(e, std::move(ended)))),
                          sorted(run(redis.holds_ended(e, std::move(copy)))));
                break;
            }
            case 8: {
                const auto s =
                    room_settings{.admit_per_second = static_cast<std::int32_t>(rng() % 12),
                                  .max_active = static_cast<std::int32_t>(1 + rng() % 15),
                                  .entry_ttl = std::chrono::seconds(1 + rng() % 20),
                                  .grace = std::chrono::seconds(1 + rng() % 10)};
                auto m = run(memory.tick(e, now, s));
                auto r = run(redis.tick(e, now, s));
                EXPECT_EQ(m.head_before, r.head_before);
                EXPECT_EQ(m.head, r.head);
                ASSERT_EQ(m.admitted.size(), r.admitted.size());
                for (std::size_t i = 0; i < m.admitted.size(); ++i) {
                    EXPECT_EQ(m.admitted[i].user, r.admitted[i].user);
                    EXPECT_EQ(m.admitted[i].seq, r.admitted[i].seq);
                    EXPECT_EQ(m.admitted[i].until, r.admitted[i].until);
                }
                EXPECT_EQ(sorted(m.removed), sorted(r.removed));
                break;
            }
        }
        if (::testing::Test::HasFailure()) FAIL() << "at step " << step;
    }
    const auto ms = run(memory.stats(e));
    const auto rs = run(redis.stats(e));
    EXPECT_EQ(ms->head, rs->head);
    EXPECT_EQ(ms->last_seq, rs->last_seq);
    EXPECT_EQ(ms->waiting, rs->waiting);
    EXPECT_EQ(ms->active, rs->active);
    EXPECT_EQ(ms->admitted_total, rs->admitted_total);
    EXPECT_GT(rs->admitted_total, 20);
    EXPECT_TRUE(run(redis.audit(e, 15)).empty());
}

TEST_F(redis_waiting_room_fixture, without_redis_every_operation_is_unavailable) {
    node a(server().port());
    run(a.engine().open(1, 1));
    EXPECT_EQ(run(a.engine().join(1, 5, t0)).seq, 1);
    server().stop();
    EXPECT_THROW(run(a.engine().join(1, 6, t0)), unavailable);
    EXPECT_THROW(run(a.engine().status(1, 5, t0)), unavailable);
    EXPECT_THROW(run(a.engine().tick(1, t0, settings(10, 10))), unavailable);
    EXPECT_THROW(run(a.engine().rooms()), unavailable);
    server().start();
    EXPECT_TRUE(testing::eventually([&] {
        try {
            // Empty again: a new room, closed until opened again.
            return run(a.engine().join(1, 6, t0)).where == place::pre_queue;
        } catch (const unavailable&) {
            return false;
        }
    }));
}

TEST_F(redis_waiting_room_fixture, a_room_saved_before_redis_lost_it_comes_back_whole) {
    node a(server().port());
    for (user_id u = 1; u <= 3; ++u) run(a.engine().join(1, u, t0));  // pre-queue
    run(a.engine().open(1, 3));
    for (user_id u = 4; u <= 10; ++u) run(a.engine().join(1, u, t0));
    run(a.engine().tick(1, t0, settings(30, 100)));
    run(a.engine().tick(1, t0 + 100ms, settings(30, 100)));
    run(a.engine().join(2, 1, t0));  // another room, still closed
    auto saved = run(a.engine().save(1));
    auto saved_closed = run(a.engine().save(2));
    ASSERT_TRUE(saved && saved_closed);
    auto before = *run(a.engine().stats(1));
    std::map<user_id, seq_t> seqs;
    for (user_id u = 1; u <= 10; ++u) seqs[u] = run(a.engine().status(1, u, t0 + 1s))->seq;

    server().restart();  // empty
    ASSERT_TRUE(testing::eventually([&] {
        try {
            return !run(a.engine().stats(1)).has_value();
        } catch (const unavailable&) {
            return false;
        }
    }));
    EXPECT_TRUE(run(a.engine().rooms()).empty());
    EXPECT_TRUE(run(a.engine().restore(1, *saved, t0 + 1s, restore_mode::only_if_absent)));
    EXPECT_TRUE(run(a.engine().restore(2, *saved_closed, t0 + 1s, restore_mode::only_if_absent)));
    EXPECT_FALSE(run(a.engine().restore(1, *saved, t0 + 1s, restore_mode::only_if_absent)));

    auto after = *run(a.engine().stats(1));
    EXPECT_EQ(after.head, before.head);
    EXPECT_EQ(after.head, 3);
    EXPECT_EQ(after.last_seq, 10);
    EXPECT_EQ(after.active, 3);
    EXPECT_EQ(after.waiting, 7);
    for (user_id u = 1; u <= 10; ++u)
        EXPECT_EQ(run(a.engine().status(1, u, t0 + 1s))->seq, seqs[u]);
    EXPECT_EQ(run(a.engine().join(1, 11, t0 + 1s)).seq, 11);
    EXPECT_EQ(run(a.engine().status(2, 1, t0 + 1s))->where, place::pre_queue);
    auto rooms = run(a.engine().rooms());
    std::sort(rooms.begin(), rooms.end());
    EXPECT_EQ(rooms, (std::vector<event_id>{1, 2}));
    const auto broken = run(a.engine().audit(1, 100));
    EXPECT_TRUE(broken.empty()) << broken.front();
}

TEST_F(redis_waiting_room_fixture, of_two_nodes_restoring_a_room_at_once_exactly_one_does) {
    node a(server().port());
    node b(server().port());
    saved_room saved{.open = true, .head = 0, .last_seq = 0, .members = {}};
    for (user_id u = 1; u <= 2000; ++u)
        saved.members.push_back({.user = u, .seq = u, .admitted_until = std::nullopt});
    for (event_id e = 1; e <= 5; ++e) {
        std::atomic<int> won{0};
        std::thread ta(
            [&] { won += run(a.engine().restore(e, saved, t0, restore_mode::only_if_absent)); });
        std::thread tb(
            [&] { won += run(b.engine().restore(e, saved, t0, restore_mode::only_if_absent)); });
        ta.join();
        tb.join();
        EXPECT_EQ(won.load(), 1) << "event " << e;
        EXPECT_EQ(run(a.engine().stats(e))->waiting, 2000);
    }
}

// The database journal over the Redis engine: Redis restarts empty, the journal puts the room
// back (one event's, if absent), every seq and the head with it.
TEST_F(redis_waiting_room_fixture, the_journal_puts_a_room_back_after_redis_lost_it) {
    testing::temp_dir dir{"journal"};
    auto opened = db::open_database("sqlite://" + (dir.path() / "q.db").string(), {.size = 1});
    ASSERT_TRUE(opened) << opened.error().message;
    auto& db = **opened;
    ASSERT_TRUE(db::migrate(db));
    ASSERT_TRUE(db.run_sync([](db::connection& c) {
        return c.exec_script(
            "PRAGMA foreign_keys = OFF;"
            "INSERT INTO queue_rooms (event_id) VALUES (1);");
    }));
    node a(server().port());
    journaled_waiting_room rooms(a.engine(), db);
    run(rooms.open(1, 7));
    for (user_id u = 1; u <= 6; ++u) EXPECT_EQ(run(rooms.join(1, u, t0)).seq, u);
    run(rooms.tick(1, t0, settings(20, 10)));
    run(rooms.tick(1, t0 + 100ms, settings(20, 10)));  // admits 1 and 2
    EXPECT_EQ(run(rooms.leave(1, 5)), std::optional<seq_t>{5});
    EXPECT_EQ(rooms.backlog(), 0u);

    EXPECT_FALSE(run(rooms.restore_room(1, t0 + 1s)).value());  // Redis has it
    server().restart();
    ASSERT_TRUE(testing::eventually([&] {
        try {
            return !run(a.engine().stats(1)).has_value();
        } catch (const unavailable&) {
            return false;
        }
    }));
    EXPECT_TRUE(run(rooms.restore_room(1, t0 + 1s)).value());
    EXPECT_FALSE(run(rooms.restore_room(1, t0 + 1s)).value());  // back: once is enough
    EXPECT_FALSE(run(rooms.restore_room(9, t0 + 1s)).value());  // never journaled
    auto stats = run(rooms.stats(1));
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->head, 2);
    EXPECT_EQ(stats->last_seq, 6);
    EXPECT_EQ(stats->active, 2);
    for (user_id u : {1, 2, 3, 4, 6}) EXPECT_EQ(run(rooms.status(1, u, t0 + 1s))->seq, u);
    EXPECT_FALSE(run(rooms.status(1, 5, t0 + 1s)));
    EXPECT_TRUE(run(rooms.admitted(1, 2, 2, t0 + 1s)));
    EXPECT_EQ(run(rooms.rooms()), std::vector<event_id>{1});
    EXPECT_EQ(run(rooms.join(1, 5, t0 + 1s)).seq, 7);
    db.shutdown();
}

// Many coroutines joining at once on one pipelined client (distinct users, one room): every
// one is counted once, with its own seq. Prints the rate (a figure for docs/benchmarks.md comes
// from a release build: TKT_JOIN_WORKERS=512 TKT_JOIN_EACH=400).
TEST_F(redis_waiting_room_fixture, many_pipelined_joins_each_get_one_seq) {
    node a(server().port());
    testing::io_threads load(2);
    run(a.engine().open(1, 1));
    const int workers =
        std::getenv("TKT_JOIN_WORKERS") ? std::atoi(std::getenv("TKT_JOIN_WORKERS")) : 64;
    const int per_worker =
        std::getenv("TKT_JOIN_EACH") ? std::atoi(std::getenv("TKT_JOIN_EACH")) : 40;
    std::atomic<int> left{workers};
    std::promise<void> all_done;
    std::vector<seq_t> seqs(static_cast<std::size_t>(workers * per_worker));
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < workers; ++w) {
        boost::asio::co_spawn(
            load.io(),
            [&, w]() -> boost::asio::awaitable<void> {
                for (int i = 0; i < per_worker; ++i) {
                    const user_id u = 1 + static_cast<user_id>(w) * per_worker + i;
                    const auto t = co_await a.engine().join(1, u, t0);
                    seqs[static_cast<std::size_t>(u - 1)] = t.seq;
                }
                if (--left == 0) all_done.set_value();
            },
            boost::asio::detached);
    }
    all_done.get_future().wait();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const double joins = static_cast<double>(workers) * per_worker;
    std::printf("%.0f joins in %.2f s: %.0f joins/s\n", joins, took.count(), joins / took.count());
    EXPECT_EQ(run(a.engine().stats(1))->waiting, workers * per_worker);
    std::sort(seqs.begin(), seqs.end());
    for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], static_cast<seq_t>(i + 1));
    // The server's own time per script call (`usec_per_call`).
    const auto info = server().call({"INFO", "commandstats"}).text;
    const auto at = info.find("cmdstat_evalsha:");
    if (at != std::string::npos)
        std::printf("%s\n", info.substr(at, info.find('\r', at) - at).c_str());
}

}  // namespace
}  // namespace tkt::waiting_room
