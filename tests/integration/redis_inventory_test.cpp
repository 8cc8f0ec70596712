// The Redis `inventory` engine against real servers: the inventory conformance suite, unchanged,
// on one redis-server and on a 3-master Cluster; then what only this engine has — two nodes
// racing on one Redis, a Redis that restarts empty, a Redis that is gone.
#include "inventory/redis_inventory.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inventory/forwarding_inventory.hpp"
#include "inventory/inventory_conformance.hpp"
#include "redis/cluster.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::inventory {
namespace {

using namespace std::chrono_literals;

redis::connection_options options(
    std::uint16_t port, redis::when_disconnected disconnected = redis::when_disconnected::wait) {
    redis::connection_options o;
    o.disconnected = disconnected;
    o.port = port;
    o.request_timeout = 2000ms;
    o.reconnect_delay_min = 10ms;
    o.reconnect_delay_max = 100ms;
    return o;
}

// One node: its I/O threads, its Redis client and its engine, destroyed in that reverse order.
struct node {
    explicit node(std::uint16_t port, std::uint64_t version_base = 0,
                  redis::when_disconnected disconnected = redis::when_disconnected::wait)
        : client(std::make_unique<redis::client>(threads.executor(), options(port, disconnected))),
          engine(*client, version_base) {}
    explicit node(const std::vector<std::uint16_t>& cluster_ports)
        : client(std::make_unique<redis::client>(threads.executor(), seeds(cluster_ports))),
          engine(*client) {}
    ~node() { client->close(); }

    static std::vector<redis::connection_options> seeds(const std::vector<std::uint16_t>& ports) {
        std::vector<redis::connection_options> out;
        for (const auto p : ports) out.push_back(options(p));
        return out;
    }

    template <class T>
    T run(boost::asio::awaitable<T> op) {
        return threads.run(std::move(op));
    }

    testing::io_threads threads;
    std::unique_ptr<redis::client> client;
    redis_inventory engine;
};

// A node as an `inventory` the conformance suite can own: every call goes to its engine.
class owned_node final : public forwarding_inventory {
public:
    explicit owned_node(std::unique_ptr<node> n) : node_(std::move(n)) {}

private:
    inventory& target() override { return node_->engine; }
    std::unique_ptr<node> node_;
};

// One server and one Cluster per test process, emptied before every case.
testing::redis_server& shared_server() {
    static testing::redis_server server;
    return server;
}

testing::redis_cluster& shared_cluster() {
    static testing::redis_cluster cluster;
    return cluster;
}

std::unique_ptr<inventory> fresh_single() {
    auto& s = shared_server();
    s.call({"FLUSHALL"});
    return std::make_unique<owned_node>(std::make_unique<node>(s.port()));
}

std::unique_ptr<inventory> fresh_cluster() {
    auto& c = shared_cluster();
    for (std::size_t i = 0; i < c.size(); ++i) c.node(i).call({"FLUSHALL"});
    return std::make_unique<owned_node>(std::make_unique<node>(c.ports()));
}

}  // namespace
}  // namespace tkt::inventory

TKT_INSTANTIATE_INVENTORY_CONFORMANCE(redis, &tkt::inventory::fresh_single)
TKT_INSTANTIATE_INVENTORY_CONFORMANCE(redis_cluster, &tkt::inventory::fresh_cluster)

namespace tkt::inventory {
namespace {

using conformance::reserved;
using conformance::seats;
using conformance::t0;

TEST(redis_inventory, keys_of_an_event_share_one_slot) {
    std::set<std::int64_t> slots;
    for (const auto& k : redis_inventory::keys_of(42)) {
        EXPECT_THAT(k, ::testing::StartsWith("{e:42}:"));
        slots.insert(redis::key_slot(k));
    }
    EXPECT_EQ(slots.size(), 1u);
}

// Two nodes, several threads each, many rounds of holds on overlapping seats that end by
// release, commit or expiry (both nodes sweeping at once). Every hold ends exactly once, no
// seat is sold twice, and the audit is clean on both nodes' view.
TEST(redis_inventory, two_nodes_racing_keep_every_invariant) {
    auto& server = shared_server();
    server.call({"FLUSHALL"});
    node a(server.port());
    node b(server.port());
    constexpr event_id event = 7;
    constexpr int seat_count = 16;
    a.run(a.engine.load(reserved(event, seat_count, 4)));

    constexpr int thread_count = 6;
    constexpr int rounds = 300;
    std::mutex mutex;
    std::map<std::string, int> ended;    // hold id → times it ended (release, commit, expiry)
    std::map<std::string, int> sold_to;  // seat → commits that sold it
    std::atomic<int> holds_made{0};
    std::atomic<std::int64_t> clock_s{0};

    auto worker = [&](int t) {
        std::mt19937 rng(static_cast<unsigned>(t) * 7919u);
        node& mine = t % 2 == 0 ? a : b;
        for (int r = 0; r < rounds; ++r) {
            hold_items items;
            const int n = 1 + static_cast<int>(rng() % 3);
            std::set<int> picked;
            while (static_cast<int>(picked.size()) < n) picked.insert(1 + rng() % seat_count);
            for (const int s : picked) items.seats.push_back("S-" + std::to_string(s));
            const std::string id = "t" + std::to_string(t) + "-" + std::to_string(r);
            const user_id user = 1 + static_cast<user_id>(rng() % 5);
            const auto now = t0 + std::chrono::seconds{clock_s.load()};
            auto held = mine.run(mine.engine.hold(
                hold_request{event, user, id, items, now + std::chrono::seconds{2}}));
            if (held) {
                ++holds_made;
                const auto what = rng() % 4;
                bool done = false;
                if (what == 0) done = mine.run(mine.engine.release(event, id));
                if (what == 1) done = mine.run(mine.engine.commit(event, id));
                std::lock_guard lock(mutex);
                if (done) ++ended[id];
                if (done && what == 1) {
                    for (const auto& s : items.seats) ++sold_to[s];
                }
            }
            if (r % 5 == 0) {
                const auto due = mine.run(
                    mine.engine.expire(t0 + std::chrono::seconds{clock_s.fetch_add(1) + 1}));
                std::lock_guard lock(mutex);
                for (const auto& h : due) ++ended[h.hold];
            }
            if (r % 40 == 39) {
                // Give some seats back so that the round keeps finding seats to hold.
                auto snap = mine.run(mine.engine.snapshot_of(event));
                for (const auto& s : snap->seats) {
                    if (s.status != seat_status::sold) continue;
                    for (user_id u = 1; u <= 5; ++u) {
                        hold_items one;
                        one.seats.push_back(s.id);
                        if (mine.run(mine.engine.unsell(event, u, one))) {
                            std::lock_guard lock(mutex);
                            --sold_to[s.id];
                            break;
                        }
                    }
                }
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) threads.emplace_back(worker, t);
    for (auto& t : threads) t.join();

    const auto rest = a.run(a.engine.expire(t0 + std::chrono::hours{1}));
    for (const auto& h : rest) ++ended[h.hold];
    EXPECT_GT(holds_made.load(), thread_count * rounds / 10);
    EXPECT_EQ(static_cast<int>(ended.size()), holds_made.load());
    for (const auto& [id, times] : ended) EXPECT_EQ(times, 1) << id;
    int sold = 0;
    for (const auto& [seat, times] : sold_to) {
        EXPECT_TRUE(times == 0 || times == 1) << seat << " sold " << times << " times";
        sold += times;
    }
    EXPECT_THAT(a.run(a.engine.audit(event)), ::testing::IsEmpty());
    EXPECT_THAT(b.run(b.engine.audit(event)), ::testing::IsEmpty());
    const auto c = b.run(b.engine.counts_of(event));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->held, 0);
    EXPECT_EQ(c->sold, sold);
    EXPECT_EQ(c->available, seat_count - sold);
}

TEST(redis_inventory, two_nodes_restoring_one_event_leave_exactly_one_winner) {
    auto& server = shared_server();
    server.call({"FLUSHALL"});
    node a(server.port());
    node b(server.port());
    for (event_id e = 1; e <= 20; ++e) {
        restoration r;
        r.l = reserved(e, 10);
        r.holds.push_back(hold_info{e, 1, "h1", seats({"S-1"}), t0, hold_state::held});
        auto ra =
            boost::asio::co_spawn(a.threads.io(), a.engine.restore(r, restore_mode::only_if_absent),
                                  boost::asio::use_future);
        auto rb =
            boost::asio::co_spawn(b.threads.io(), b.engine.restore(r, restore_mode::only_if_absent),
                                  boost::asio::use_future);
        const bool won_a = ra.get().restored;
        const bool won_b = rb.get().restored;
        EXPECT_NE(won_a, won_b) << "event " << e;
        EXPECT_THAT(a.run(a.engine.audit(e)), ::testing::IsEmpty());
    }
}

TEST(redis_inventory, a_redis_that_restarts_empty_is_restored_only_once) {
    testing::redis_server server;
    node a(server.port(), 1'000'000);
    a.run(a.engine.load(reserved(1, 5)));
    ASSERT_TRUE(a.run(a.engine.hold(hold_request{1, 7, "h1", seats({"S-1"}), t0})));
    const auto before = a.run(a.engine.version_of(1));
    EXPECT_GT(before, 1'000'000u);

    server.restart();
    // The first request may meet the dead socket and throw `unavailable`; the client reconnects.
    ASSERT_TRUE(testing::eventually([&] {
        try {
            return !a.run(a.engine.has_event(1));
        } catch (const unavailable&) {
            return false;
        }
    }));
    EXPECT_FALSE(a.run(a.engine.find(1, "h1")).has_value());

    restoration r;
    r.l = reserved(1, 5);
    r.sold.emplace_back(8, seats({"S-2"}));
    r.holds.push_back(hold_info{1, 7, "h1", seats({"S-1"}), t0, hold_state::held});
    r.version_floor = before;
    auto first = a.run(a.engine.restore(r, restore_mode::only_if_absent));
    EXPECT_TRUE(first.restored);
    EXPECT_THAT(first.holds_refused, ::testing::IsEmpty());
    EXPECT_GT(a.run(a.engine.version_of(1)), before);
    auto again = a.run(a.engine.restore(r, restore_mode::only_if_absent));
    EXPECT_FALSE(again.restored);
    EXPECT_TRUE(a.run(a.engine.find(1, "h1")).has_value());
    // The restored event is known to expire() again.
    EXPECT_EQ(a.run(a.engine.expire(t0)).size(), 1u);
    EXPECT_THAT(a.run(a.engine.audit(1)), ::testing::IsEmpty());
}

TEST(redis_inventory, without_redis_every_call_throws_unavailable) {
    testing::redis_server server;
    node a(server.port(), 0, redis::when_disconnected::fail_fast);
    ASSERT_TRUE(testing::eventually([&] { return a.client->single()->connected(); }));
    a.run(a.engine.load(reserved(1, 5)));
    server.stop();
    EXPECT_THROW(a.run(a.engine.hold(hold_request{1, 7, "h1", seats({"S-1"}), t0})), unavailable);
    EXPECT_THROW(a.run(a.engine.snapshot_of(1)), unavailable);
    EXPECT_THROW(a.run(a.engine.expire(t0)), unavailable);
    // An unavailable_error: the HTTP layer answers 503 with Retry-After, not 500.
    EXPECT_THROW(a.run(a.engine.find(1, "h1")), unavailable_error);
}

TEST(redis_inventory, audit_reports_state_that_breaks_the_invariants) {
    auto& server = shared_server();
    server.call({"FLUSHALL"});
    node a(server.port());
    a.run(a.engine.load(reserved(1, 5)));
    ASSERT_TRUE(a.run(a.engine.hold(hold_request{1, 7, "h1", seats({"S-1"}), t0})));
    ASSERT_THAT(a.run(a.engine.audit(1)), ::testing::IsEmpty());
    const auto keys = redis_inventory::keys_of(1);
    server.call({"HSET", keys[2], "S-2", "h1:nobody"});  // held by no hold
    server.call({"ZREM", keys[5], "h1"});                // an unpinned hold that never expires
    server.call({"HINCRBY", keys[0], "sold", "1"});      // a counter that does not add up
    const auto report = a.run(a.engine.audit(1));
    EXPECT_THAT(report, ::testing::Contains(::testing::HasSubstr("seat S-2")));
    EXPECT_THAT(report, ::testing::Contains(::testing::HasSubstr("no expiry entry")));
    EXPECT_THAT(report, ::testing::Contains(::testing::HasSubstr("sold 1 but")));
}

}  // namespace
}  // namespace tkt::inventory
