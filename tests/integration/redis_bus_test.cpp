// The Redis `bus` engine against a real redis-server: the bus conformance suite, unchanged, with
// two bus instances as two nodes on one server, then resubscription after the server restarts
// and publishing without a server.
#include "bus/redis_bus.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "bus/bus_conformance.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::bus {
namespace {

using namespace std::chrono_literals;

redis::connection_options options(std::uint16_t port) {
    redis::connection_options o;
    o.port = port;
    o.request_timeout = 1000ms;
    o.reconnect_delay_min = 10ms;
    o.reconnect_delay_max = 100ms;
    o.idle_ping_interval = 150ms;
    return o;
}

// One redis-server and two nodes, each with its own shared connection and its own bus.
class redis_deployment final : public conformance::deployment {
public:
    redis_deployment() {
        for (int i = 0; i < 2; ++i) {
            connections_.push_back(
                std::make_unique<redis::connection>(threads_.executor(), options(server_.port())));
            buses_.push_back(std::make_unique<redis_bus>(threads_.executor(), *connections_.back(),
                                                         options(server_.port())));
        }
    }
    ~redis_deployment() override {
        buses_.clear();
        for (auto& c : connections_) c->close();
        threads_.join();
    }

    bus& node(int i) override { return *buses_.at(i); }
    redis_bus& redis_node(int i) { return *buses_.at(i); }
    int nodes() const override { return 2; }
    void wait_subscribed(const std::string& topic, int nodes) override {
        ASSERT_TRUE(testing::eventually([&] { return subscribers_of(topic) == nodes; }));
    }
    std::int64_t subscribers_of(const std::string& topic) {
        auto r = server_.call({"PUBSUB", "NUMSUB", "tkt:" + topic});
        return r.elements.size() == 2 ? r.elements[1].integer : -1;
    }
    testing::redis_server& server() { return server_; }

private:
    testing::redis_server server_;
    testing::io_threads threads_;
    std::vector<std::unique_ptr<redis::connection>> connections_;
    std::vector<std::unique_ptr<redis_bus>> buses_;
};

}  // namespace
}  // namespace tkt::bus

TKT_INSTANTIATE_BUS_CONFORMANCE(redis, [] {
    return std::shared_ptr<tkt::bus::conformance::deployment>(
        std::make_shared<tkt::bus::redis_deployment>());
})

namespace tkt::bus {
namespace {

TEST(redis_bus, the_channel_is_left_when_the_last_local_subscriber_goes) {
    redis_deployment d;
    conformance::inbox a, b;
    auto s1 = d.node(0).subscribe("queue.9", a.handler());
    auto s2 = d.node(0).subscribe("queue.9", b.handler());
    d.wait_subscribed("queue.9", 1);
    s1.reset();
    EXPECT_EQ(d.redis_node(0).subscribers("queue.9"), 1u);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(d.subscribers_of("queue.9"), 1);
    s2.reset();
    d.wait_subscribed("queue.9", 0);
    EXPECT_EQ(d.redis_node(0).subscribers("queue.9"), 0u);
}

TEST(redis_bus, subscriptions_come_back_after_the_server_restarts) {
    redis_deployment d;
    conformance::inbox here, there;
    auto s1 = d.node(0).subscribe("queue.1", here.handler());
    auto s2 = d.node(1).subscribe("queue.1", there.handler());
    d.wait_subscribed("queue.1", 2);
    d.server().restart();
    d.wait_subscribed("queue.1", 2);
    // The publishing connection may need a moment to reconnect; publish until heard.
    ASSERT_TRUE(testing::eventually([&] {
        d.node(1).publish("queue.1", "after");
        return here.size() >= 1 && there.size() >= 1;
    }));
    EXPECT_EQ(here.snapshot().front(), "queue.1=after");
    EXPECT_EQ(there.snapshot().front(), "queue.1=after");
}

TEST(redis_bus, without_a_server_a_publish_is_dropped_and_counted_and_never_blocks) {
    redis_deployment d;
    d.server().stop();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) d.node(0).publish("queue.1", "lost");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    EXPECT_EQ(d.node(0).published(), 100u);
    EXPECT_TRUE(testing::eventually([&] { return d.redis_node(0).failed() == 100u; }));
    d.server().start();
}

}  // namespace
}  // namespace tkt::bus
