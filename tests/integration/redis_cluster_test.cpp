// redis::cluster_client against a real 3-master Redis Cluster: slots agree with the server's,
// commands reach their slot's master, MOVED and ASK are followed while a slot migrates.
#include <gtest/gtest.h>

#include "redis/cluster_client.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::io_threads;
using testing::redis_cluster;
using testing::redis_server;

// One cluster for the whole suite: creating it costs a second or two.
class redis_cluster_fixture : public ::testing::Test {
protected:
    static void SetUpTestSuite() { cluster_ = new redis_cluster(); }
    static void TearDownTestSuite() {
        delete cluster_;
        cluster_ = nullptr;
    }

    void SetUp() override {
        for (std::size_t i = 0; i < cluster_->size(); ++i) cluster_->node(i).call({"FLUSHALL"});
    }
    void TearDown() override {
        client.close();
        threads.join();
    }

    static cluster_options options() {
        cluster_options o;
        o.seeds.push_back(node_address{"127.0.0.1", cluster_->node(0).port()});
        return o;
    }

    result exec(const command& c) {
        auto body = [&]() -> asio::awaitable<result> { co_return co_await client.exec(c); };
        return threads.run(body());
    }

    // The node that serves `key` now: the others answer MOVED.
    redis_server& owner_of(const std::string& key) {
        for (std::size_t i = 0; i < cluster_->size(); ++i) {
            if (!cluster_->node(i).call({"GET", key}).is_error()) return cluster_->node(i);
        }
        throw std::runtime_error("no node serves " + key);
    }
    redis_server& other_than(const redis_server& node) {
        return &cluster_->node(0) == &node ? cluster_->node(1) : cluster_->node(0);
    }
    static std::string id_of(const redis_server& node) {
        return node.call({"CLUSTER", "MYID"}).text;
    }

    // The first half of moving `key`'s slot from `from` to `to`: the key moves, the slot is
    // MIGRATING on `from` and IMPORTING on `to` (the servers answer ASK for it now).
    void start_migration(const std::string& key, redis_server& from, redis_server& to) {
        const auto slot = std::to_string(key_slot(key));
        ASSERT_EQ(to.call({"CLUSTER", "SETSLOT", slot, "IMPORTING", id_of(from)}),
                  reply::simple("OK"));
        ASSERT_EQ(from.call({"CLUSTER", "SETSLOT", slot, "MIGRATING", id_of(to)}),
                  reply::simple("OK"));
        ASSERT_EQ(from.call({"MIGRATE", "127.0.0.1", std::to_string(to.port()), "", "0", "5000",
                             "KEYS", key}),
                  reply::simple("OK"));
    }
    // The second half: every node agrees that `to` serves the slot (the servers answer MOVED).
    void finish_migration(const std::string& key, redis_server& to) {
        const auto slot = std::to_string(key_slot(key));
        const auto id = id_of(to);
        for (std::size_t i = 0; i < cluster_->size(); ++i) {
            ASSERT_EQ(cluster_->node(i).call({"CLUSTER", "SETSLOT", slot, "NODE", id}),
                      reply::simple("OK"));
        }
    }

    static redis_cluster* cluster_;
    io_threads threads;
    cluster_client client{threads.executor(), options()};
};

redis_cluster* redis_cluster_fixture::cluster_ = nullptr;

TEST_F(redis_cluster_fixture, key_slots_agree_with_the_server) {
    for (std::string key : {"123456789", "foo", "{user1000}.following", "foo{}{bar}",
                            "foo{{bar}}zap", "{e:42}:seats", "", "\xff\x00z"}) {
        EXPECT_EQ(cluster_->node(0).call({"CLUSTER", "KEYSLOT", key}).integer, key_slot(key))
            << key;
    }
}

TEST_F(redis_cluster_fixture, every_key_reaches_its_slots_master) {
    constexpr int keys = 200;
    for (int i = 0; i < keys; ++i) {
        ASSERT_EQ(exec(command::of("SET", "key:" + std::to_string(i), i)), reply::simple("OK"));
    }
    std::int64_t total = 0;
    for (std::size_t n = 0; n < cluster_->size(); ++n) {
        const auto here = cluster_->node(n).call({"DBSIZE"}).integer;
        EXPECT_GT(here, 0) << "node " << n << " got no key";
        total += here;
    }
    EXPECT_EQ(total, keys);
    for (int i = 0; i < keys; ++i) {
        ASSERT_EQ(exec(command::of("GET", "key:" + std::to_string(i))),
                  reply::bulk(std::to_string(i)));
    }
    EXPECT_EQ(client.stats().moved, 0u);
    EXPECT_EQ(client.stats().refreshes, 1u);
    EXPECT_EQ(exec(command::of("PING")), reply::simple("PONG"));
}

TEST_F(redis_cluster_fixture, follows_moved_after_a_slot_moved_and_remembers_it) {
    const std::string key = "{moved}:k";
    ASSERT_EQ(exec(command::of("SET", key, "v")), reply::simple("OK"));
    auto& from = owner_of(key);
    auto& to = other_than(from);
    start_migration(key, from, to);
    finish_migration(key, to);
    EXPECT_EQ(exec(command::of("GET", key)), reply::bulk("v"));
    EXPECT_EQ(client.stats().moved, 1u);
    EXPECT_EQ(exec(command::of("GET", key)), reply::bulk("v"));
    EXPECT_EQ(client.stats().moved, 1u);
}

TEST_F(redis_cluster_fixture, follows_ask_while_a_slot_is_migrating) {
    const std::string key = "{ask}:k";
    ASSERT_EQ(exec(command::of("SET", key, "v")), reply::simple("OK"));
    auto& from = owner_of(key);
    auto& to = other_than(from);
    start_migration(key, from, to);
    EXPECT_EQ(exec(command::of("GET", key)), reply::bulk("v"));
    EXPECT_EQ(client.stats().ask, 1u);
    EXPECT_EQ(client.stats().moved, 0u);
    finish_migration(key, to);
}

TEST_F(redis_cluster_fixture, scripts_run_on_their_slots_master) {
    const script count("return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])");
    auto body = [&]() -> asio::awaitable<result> {
        const std::vector<std::string> keys{"{e:7}:a", "{e:7}:b"};
        const std::vector<std::string> none;
        co_return co_await client.eval(count, keys, none);
    };
    EXPECT_EQ(threads.run(body()), reply::number(2));
    EXPECT_EQ(threads.run(body()), reply::number(4));
    EXPECT_EQ(owner_of("{e:7}:a").call({"SCRIPT", "EXISTS", count.sha1()}),
              reply::array({reply::number(1)}));
}

}  // namespace
}  // namespace tkt::redis
