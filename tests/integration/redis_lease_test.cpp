// The Redis `lease` engine against a real redis-server: the lease conformance suite, unchanged,
// then what only this engine has (fencing tokens, the server's own expiry, failure answers).
#include "waiting_room/redis_lease.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "redis_test_support.hpp"
#include "support/redis_server.hpp"
#include "waiting_room/lease_conformance.hpp"

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

// A redis-server of its own, its client and the engine, as one `lease` the suite can own.
class served_redis_lease final : public lease {
public:
    served_redis_lease() : client_(threads_.executor(), options(server_.port())) {}
    ~served_redis_lease() override {
        client_.close();
        threads_.join();
    }

    boost::asio::awaitable<bool> acquire(std::string name, std::string owner,
                                         std::chrono::milliseconds ttl, time_point now) override {
        auto op = engine_.acquire(std::move(name), std::move(owner), ttl, now);
        co_return co_await std::move(op);
    }
    boost::asio::awaitable<void> release(std::string name, std::string owner) override {
        auto op = engine_.release(std::move(name), std::move(owner));
        co_await std::move(op);
    }

    redis_lease& engine() { return engine_; }
    testing::redis_server& server() { return server_; }

    static redis::connection_options options(std::uint16_t port) {
        redis::connection_options o;
        o.port = port;
        o.request_timeout = 1000ms;
        o.reconnect_delay_min = 10ms;
        o.reconnect_delay_max = 100ms;
        return o;
    }

private:
    testing::redis_server server_;
    testing::io_threads threads_;
    redis::client client_;
    redis_lease engine_{client_};
};

}  // namespace
}  // namespace tkt::waiting_room

TKT_INSTANTIATE_LEASE_CONFORMANCE(redis, [] {
    return std::unique_ptr<tkt::waiting_room::lease>(
        std::make_unique<tkt::waiting_room::served_redis_lease>());
})

namespace tkt::waiting_room {
namespace {

using conformance::run;
using conformance::t0;

struct redis_lease_fixture : ::testing::Test {
    served_redis_lease lease;
    std::optional<std::uint64_t> acquire(const std::string& owner, time_point now,
                                         std::chrono::milliseconds ttl = 3000ms) {
        return run(lease.engine().acquire_fenced("queue.1", owner, ttl, now));
    }
};

TEST_F(redis_lease_fixture, a_fencing_token_is_kept_across_renewals_and_grows_with_each_holding) {
    auto a = acquire("node-a", t0);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(acquire("node-a", t0 + 1s), a);  // renewal: same token
    EXPECT_EQ(acquire("node-b", t0 + 2s), std::nullopt);
    auto b = acquire("node-b", t0 + 10s);  // a's ran out
    ASSERT_TRUE(b.has_value());
    EXPECT_GT(*b, *a);
    run(lease.release("queue.1", "node-b"));
    auto a2 = acquire("node-a", t0 + 11s);
    ASSERT_TRUE(a2.has_value());
    EXPECT_GT(*a2, *b);
}

TEST_F(redis_lease_fixture, keys_share_one_slot_and_the_server_expires_the_lease_by_its_clock) {
    ASSERT_TRUE(acquire("node-a", t0, 200ms).has_value());
    auto slot = [&](const std::string& key) {
        return lease.server().call({"CLUSTER", "KEYSLOT", key}).integer;
    };
    EXPECT_EQ(slot(redis_lease::key("queue.1")), slot(redis_lease::fence_key("queue.1")));
    auto pttl = lease.server().call({"PTTL", redis_lease::key("queue.1")}).integer;
    EXPECT_GT(pttl, 0);
    EXPECT_LE(pttl, 200);
    EXPECT_EQ(lease.server().call({"HGET", redis_lease::key("queue.1"), "owner"}).text, "node-a");
    // Same `now` as the holder's, so only the server's clock can free it.
    EXPECT_EQ(acquire("node-b", t0), std::nullopt);
    ASSERT_TRUE(testing::eventually([&] {
        return lease.server().call({"EXISTS", redis_lease::key("queue.1")}).integer == 0;
    }));
    EXPECT_TRUE(acquire("node-b", t0).has_value());
    // The counter outlives the lease: fencing tokens keep growing.
    EXPECT_EQ(lease.server().call({"PTTL", redis_lease::fence_key("queue.1")}).integer, -1);
}

TEST_F(redis_lease_fixture, without_redis_nobody_holds_the_lease) {
    ASSERT_TRUE(acquire("node-a", t0).has_value());
    lease.server().stop();
    EXPECT_EQ(acquire("node-a", t0 + 1s), std::nullopt);
    run(lease.release("queue.1", "node-a"));  // logged, no throw
    lease.server().start();
    EXPECT_TRUE(testing::eventually([&] { return acquire("node-a", t0 + 2s).has_value(); }));
}

}  // namespace
}  // namespace tkt::waiting_room
