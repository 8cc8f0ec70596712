// redis::subscriber against a real redis-server: delivery, patterns, unsubscribing, and
// resubscription after the connection is killed or the server restarts.
#include <mutex>

#include <gtest/gtest.h>

#include <boost/asio/strand.hpp>

#include "redis/subscriber.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::eventually;
using testing::io_threads;
using testing::redis_server;

// What the handler saw, readable from the test's thread.
struct inbox {
    std::mutex mutex;
    std::vector<std::string> got;  // "pattern|channel|payload"
    bool off_strand = false;

    std::vector<std::string> snapshot() {
        std::lock_guard lock(mutex);
        return got;
    }
};

struct redis_pubsub_fixture : ::testing::Test {
    redis_server server;
    io_threads threads;
    inbox box;
    asio::strand<asio::any_io_executor> handler_strand = asio::make_strand(threads.executor());
    subscriber sub{threads.executor(), options(), handler_strand, [this](const pubsub_message& m) {
                       std::lock_guard lock(box.mutex);
                       if (!handler_strand.running_in_this_thread()) box.off_strand = true;
                       box.got.push_back(m.pattern + "|" + m.channel + "|" + m.payload);
                   }};

    ~redis_pubsub_fixture() override {
        sub.close();
        threads.join();  // no handler call may outlive the inbox
    }

    connection_options options() const {
        connection_options o;
        o.port = server.port();
        o.reconnect_delay_min = 10ms;
        o.reconnect_delay_max = 100ms;
        o.idle_ping_interval = 150ms;
        return o;
    }
    std::int64_t subscribers_of(const std::string& channel) {
        auto r = server.call({"PUBSUB", "NUMSUB", channel});
        return r.elements.size() == 2 ? r.elements[1].integer : -1;
    }
    std::int64_t patterns() { return server.call({"PUBSUB", "NUMPAT"}).integer; }
    void publish(const std::string& channel, const std::string& message) {
        server.call({"PUBLISH", channel, message});
    }
    bool received(std::size_t count) {
        return eventually([&] { return box.snapshot().size() >= count; });
    }
};

TEST_F(redis_pubsub_fixture, delivers_messages_in_order_on_the_handler_strand) {
    sub.subscribe("queue.1");
    ASSERT_TRUE(eventually([&] { return subscribers_of("queue.1") == 1; }));
    for (int i = 0; i < 100; ++i) publish("queue.1", std::to_string(i));
    publish("queue.2", "not subscribed");
    ASSERT_TRUE(received(100));
    auto got = box.snapshot();
    ASSERT_EQ(got.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], "|queue.1|" + std::to_string(i));
    EXPECT_FALSE(box.off_strand);
    EXPECT_EQ(sub.stats().messages, 100u);
}

TEST_F(redis_pubsub_fixture, a_pattern_names_itself_and_the_channel) {
    sub.psubscribe("seats.*");
    ASSERT_TRUE(eventually([&] { return patterns() == 1; }));
    publish("seats.42", "A-1-1 held");
    ASSERT_TRUE(received(1));
    EXPECT_EQ(box.snapshot(), (std::vector<std::string>{"seats.*|seats.42|A-1-1 held"}));
}

TEST_F(redis_pubsub_fixture, nothing_arrives_after_unsubscribing) {
    sub.subscribe("a");
    sub.subscribe("b");
    ASSERT_TRUE(eventually([&] { return subscribers_of("a") == 1 && subscribers_of("b") == 1; }));
    sub.unsubscribe("a");
    ASSERT_TRUE(eventually([&] { return subscribers_of("a") == 0; }));
    publish("a", "gone");
    publish("b", "last");  // a barrier: anything on "a" would arrive before it
    ASSERT_TRUE(received(1));
    EXPECT_EQ(box.snapshot(), (std::vector<std::string>{"|b|last"}));
}

TEST_F(redis_pubsub_fixture, subscribes_again_after_the_connection_is_killed) {
    sub.subscribe("news");
    ASSERT_TRUE(eventually([&] { return subscribers_of("news") == 1; }));
    server.call({"CLIENT", "KILL", "TYPE", "pubsub"});
    ASSERT_TRUE(eventually([&] { return sub.stats().connects == 2; }));
    ASSERT_TRUE(eventually([&] { return subscribers_of("news") == 1; }));
    publish("news", "after");
    ASSERT_TRUE(received(1));
    EXPECT_EQ(box.snapshot(), (std::vector<std::string>{"|news|after"}));
}

TEST_F(redis_pubsub_fixture, a_server_that_hangs_is_noticed_and_left) {
    sub.subscribe("news");
    ASSERT_TRUE(eventually([&] { return subscribers_of("news") == 1; }));
    // Idle but healthy: PINGs are answered, the connection stays.
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(sub.stats().disconnects, 0u);
    server.freeze();
    const bool noticed = eventually([&] { return sub.stats().disconnects >= 1; }, 2s);
    server.thaw();
    ASSERT_TRUE(noticed) << "a silent server went unnoticed";
    // Subscribed again once the server answers: a message gets through.
    ASSERT_TRUE(eventually([&] {
        publish("news", "back");
        return !box.snapshot().empty();
    }));
    EXPECT_EQ(box.snapshot().front(), "|news|back");
}

TEST_F(redis_pubsub_fixture, subscribes_again_after_the_server_restarts) {
    sub.subscribe("queue.7");
    sub.subscribe("seats.7");
    sub.psubscribe("notify.*");
    ASSERT_TRUE(eventually([&] {
        return subscribers_of("queue.7") == 1 && subscribers_of("seats.7") == 1 && patterns() == 1;
    }));
    server.restart();
    ASSERT_TRUE(eventually([&] {
        return subscribers_of("queue.7") == 1 && subscribers_of("seats.7") == 1 && patterns() == 1;
    }));
    publish("queue.7", "1");
    publish("seats.7", "2");
    publish("notify.u1", "3");
    ASSERT_TRUE(received(3));
    EXPECT_EQ(box.snapshot(),
              (std::vector<std::string>{"|queue.7|1", "|seats.7|2", "notify.*|notify.u1|3"}));
    EXPECT_GE(sub.stats().disconnects, 1u);
}

}  // namespace
}  // namespace tkt::redis
