#pragma once
// The conformance suite of the `bus` port (bus.hpp), for every engine, from the port's promises:
// delivery to every subscriber of a topic on every node, publish order per publisher, nothing
// kept for later subscribers, no delivery after unsubscribing, handlers that publish and
// unsubscribe, many topics.
//
//   TKT_INSTANTIATE_BUS_CONFORMANCE(memory, [] { return std::make_shared<memory_deployment>(); })
//
// A `deployment` gives the nodes of one deployment (a memory engine has one node and gives it
// every time) and waits until a topic's subscriptions are in effect on the server (a remote
// engine subscribes asynchronously; the port promises delivery from then on).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bus/bus.hpp"

namespace tkt::bus::conformance {

class deployment {
public:
    virtual ~deployment() = default;
    // Node `i` (0, 1, …) of the deployment.
    virtual bus& node(int i) = 0;
    // Returns once `nodes` nodes listen to `topic` (at once for an in-process engine).
    virtual void wait_subscribed(const std::string& topic, int nodes) = 0;
    // How many distinct nodes the engine has (1 for in-process).
    virtual int nodes() const = 0;
};

struct bus_engine {
    std::string name;
    std::function<std::shared_ptr<deployment>()> make;

    friend void PrintTo(const bus_engine& e, std::ostream* os) { *os << e.name; }
};

// What a handler saw, readable from the test's thread. The handler shares what it writes to:
// the port lets a delivery that had begun on another thread finish after its subscription
// ended (bus.hpp), so an inbox may go out of scope while one is still writing.
struct inbox {
    struct seen {
        std::mutex mutex;
        std::vector<std::string> got;  // "topic=message"
    };
    std::shared_ptr<seen> box = std::make_shared<seen>();

    message_handler handler() {
        return [box = box](std::string_view topic, std::string_view message) {
            std::lock_guard lock(box->mutex);
            box->got.push_back(std::string(topic) + "=" + std::string(message));
        };
    }
    std::vector<std::string> snapshot() const {
        std::lock_guard lock(box->mutex);
        return box->got;
    }
    std::size_t size() const { return snapshot().size(); }
};

// Polls `done` until it holds or 5 s pass.
inline bool eventually(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return done();
}

class bus_conformance : public ::testing::TestWithParam<bus_engine> {
protected:
    void SetUp() override { deployment_ = GetParam().make(); }
    bus& node(int i) { return deployment_->node(i % deployment_->nodes()); }
    int last() const { return deployment_->nodes() - 1; }
    std::shared_ptr<deployment> deployment_;
};

TEST_P(bus_conformance, every_subscriber_on_every_node_gets_every_message_in_publish_order) {
    inbox here, there, other;
    auto s1 = node(0).subscribe("queue.1", here.handler());
    auto s2 = node(last()).subscribe("queue.1", there.handler());
    auto s3 = node(0).subscribe("queue.2", other.handler());
    deployment_->wait_subscribed("queue.1", deployment_->nodes());
    deployment_->wait_subscribed("queue.2", 1);
    for (int i = 0; i < 50; ++i) node(0).publish("queue.1", std::to_string(i));
    ASSERT_TRUE(eventually([&] { return here.size() >= 50 && there.size() >= 50; }));
    std::vector<std::string> expected;
    for (int i = 0; i < 50; ++i) expected.push_back("queue.1=" + std::to_string(i));
    EXPECT_EQ(here.snapshot(), expected);
    EXPECT_EQ(there.snapshot(), expected);
    EXPECT_TRUE(other.snapshot().empty());
    EXPECT_GE(node(0).published(), 50u);
}

TEST_P(bus_conformance, nothing_is_kept_for_later_subscribers) {
    inbox early, late;
    auto s1 = node(0).subscribe("seats.7", early.handler());
    deployment_->wait_subscribed("seats.7", 1);
    node(0).publish("seats.7", "before");
    ASSERT_TRUE(eventually([&] { return early.size() == 1; }));
    auto s2 = node(last()).subscribe("seats.7", late.handler());
    deployment_->wait_subscribed("seats.7", deployment_->nodes());
    node(0).publish("seats.7", "after");
    ASSERT_TRUE(eventually([&] { return late.size() == 1 && early.size() == 2; }));
    EXPECT_EQ(late.snapshot(), (std::vector<std::string>{"seats.7=after"}));
}

TEST_P(bus_conformance, a_dropped_subscription_hears_nothing_more) {
    inbox dropped, kept;
    auto s1 = node(0).subscribe("seats.7", dropped.handler());
    auto s2 = node(0).subscribe("seats.7", kept.handler());
    deployment_->wait_subscribed("seats.7", 1);
    node(0).publish("seats.7", "x");
    ASSERT_TRUE(eventually([&] { return dropped.size() == 1 && kept.size() == 1; }));
    s1.reset();
    EXPECT_FALSE(s1.active());
    node(0).publish("seats.7", "y");
    ASSERT_TRUE(eventually([&] { return kept.size() == 2; }));
    EXPECT_EQ(dropped.snapshot(), (std::vector<std::string>{"seats.7=x"}));
}

TEST_P(bus_conformance, a_handler_may_publish_and_drop_its_own_subscription) {
    inbox echoed;
    auto sink = node(last()).subscribe("out", echoed.handler());
    std::mutex self_mutex;
    subscription self;
    std::atomic<int> calls{0};
    {
        std::lock_guard lock(self_mutex);
        self = node(0).subscribe("in", [&](std::string_view, std::string_view m) {
            calls.fetch_add(1);
            node(0).publish("out", std::string(m));
            std::lock_guard inner(self_mutex);
            self.reset();
        });
    }
    deployment_->wait_subscribed("in", 1);
    deployment_->wait_subscribed("out", 1);
    node(0).publish("in", "once");
    node(0).publish("in", "twice");
    ASSERT_TRUE(eventually([&] { return echoed.size() >= 1; }));
    // "twice" was either sent before the handler dropped itself (and not handed to it after) or
    // after: either way the handler ran once.
    node(0).publish("out", "marker");
    ASSERT_TRUE(eventually([&] { return echoed.size() >= 2; }));
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(echoed.snapshot(), (std::vector<std::string>{"out=once", "out=marker"}));
}

TEST_P(bus_conformance, a_handler_may_drop_another_subscription_of_its_topic) {
    inbox victim, witness;
    subscription victim_sub = node(0).subscribe("t", victim.handler());
    std::mutex m;
    subscription killer;
    {
        std::lock_guard lock(m);
        killer = node(0).subscribe("t", [&](std::string_view, std::string_view) {
            std::lock_guard inner(m);
            victim_sub.reset();
        });
    }
    auto w = node(0).subscribe("t", witness.handler());
    deployment_->wait_subscribed("t", 1);
    node(0).publish("t", "1");
    node(0).publish("t", "2");
    ASSERT_TRUE(eventually([&] { return witness.size() == 2; }));
    EXPECT_LE(victim.size(), 1u);  // at most the first message, handed out before the killer ran
}

TEST_P(bus_conformance, many_topics_stay_apart) {
    std::vector<inbox> boxes(20);
    std::vector<subscription> subs;
    for (int i = 0; i < 20; ++i) {
        subs.push_back(node(i).subscribe("topic." + std::to_string(i), boxes[i].handler()));
    }
    for (int i = 0; i < 20; ++i) {
        deployment_->wait_subscribed("topic." + std::to_string(i), 1);
    }
    for (int i = 0; i < 20; ++i) node(i + 1).publish("topic." + std::to_string(i), "m");
    ASSERT_TRUE(eventually([&] {
        for (const auto& b : boxes) {
            if (b.size() < 1) return false;
        }
        return true;
    }));
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(boxes[i].snapshot(),
                  (std::vector<std::string>{"topic." + std::to_string(i) + "=m"}));
    }
}

}  // namespace tkt::bus::conformance

#define TKT_INSTANTIATE_BUS_CONFORMANCE(instance, factory)                          \
    namespace tkt::bus::conformance {                                               \
    INSTANTIATE_TEST_SUITE_P(instance, bus_conformance,                             \
                             ::testing::Values(bus_engine{#instance, factory}),     \
                             [](const ::testing::TestParamInfo<bus_engine>& info) { \
                                 return info.param.name;                            \
                             });                                                    \
    }
