#include "bus/memory_bus.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tkt::bus {
namespace {

struct recorder {
    std::vector<std::string> got;
    message_handler handler() {
        return [this](std::string_view topic, std::string_view message) {
            got.push_back(std::string(topic) + "=" + std::string(message));
        };
    }
};

TEST(memory_bus, delivers_to_every_subscriber_of_the_topic_in_order) {
    memory_bus b;
    recorder a, c, other;
    auto s1 = b.subscribe("queue.1", a.handler());
    auto s2 = b.subscribe("queue.1", c.handler());
    auto s3 = b.subscribe("queue.2", other.handler());
    b.publish("queue.1", "10");
    b.publish("queue.1", "11");
    EXPECT_EQ(a.got, (std::vector<std::string>{"queue.1=10", "queue.1=11"}));
    EXPECT_EQ(c.got, a.got);
    EXPECT_TRUE(other.got.empty());
    EXPECT_EQ(b.published(), 2u);
}

TEST(memory_bus, a_dropped_subscription_hears_nothing_more) {
    memory_bus b;
    recorder a;
    auto s = b.subscribe("seats.7", a.handler());
    b.publish("seats.7", "x");
    s.reset();
    EXPECT_FALSE(s.active());
    b.publish("seats.7", "y");
    EXPECT_EQ(a.got, (std::vector<std::string>{"seats.7=x"}));
    EXPECT_EQ(b.subscribers("seats.7"), 0u);
}

TEST(memory_bus, nothing_is_kept_for_later_subscribers) {
    memory_bus b;
    b.publish("queue.1", "early");
    recorder a;
    auto s = b.subscribe("queue.1", a.handler());
    EXPECT_TRUE(a.got.empty());
}

TEST(memory_bus, a_handler_may_publish_and_unsubscribe_itself) {
    memory_bus b;
    recorder echoed;
    auto sink = b.subscribe("out", echoed.handler());
    subscription self;
    self = b.subscribe("in", [&](std::string_view, std::string_view m) {
        b.publish("out", std::string(m));
        self.reset();
    });
    b.publish("in", "once");
    b.publish("in", "twice");
    EXPECT_EQ(echoed.got, (std::vector<std::string>{"out=once"}));
}

TEST(memory_bus, a_subscription_may_outlive_the_bus) {
    subscription s;
    {
        memory_bus b;
        s = b.subscribe("t", [](std::string_view, std::string_view) {});
    }
    EXPECT_TRUE(s.active());
    s.reset();  // the bus is gone: nothing to tell, and no crash
    EXPECT_FALSE(s.active());
}

TEST(memory_bus, publishers_and_subscribers_on_many_threads) {
    memory_bus b;
    std::atomic<int> heard{0};
    auto keep = b.subscribe("t", [&](std::string_view, std::string_view) { heard.fetch_add(1); });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                auto churn = b.subscribe("t", [](std::string_view, std::string_view) {});
                b.publish("t", "m");
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(heard.load(), 4000);
    EXPECT_EQ(b.subscribers("t"), 1u);
}

}  // namespace
}  // namespace tkt::bus
