// redis::eval against a real redis-server: EVALSHA, the NOSCRIPT fallback, script errors.
#include <gtest/gtest.h>

#include "redis/script.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::io_threads;
using testing::redis_server;

struct redis_script_fixture : ::testing::Test {
    redis_server server;
    io_threads threads;
    connection conn{threads.executor(), connection_options{.port = server.port()}};

    ~redis_script_fixture() override { conn.close(); }

    result run(const script& s, const std::vector<std::string>& keys,
               const std::vector<std::string>& args) {
        auto body = [&]() -> asio::awaitable<result> {
            co_return co_await eval(conn, s, keys, args);
        };
        return threads.run(body());
    }
    bool known(const script& s) {
        return server.call({"SCRIPT", "EXISTS", s.sha1()}) == reply::array({reply::number(1)});
    }
    std::int64_t script_loads() {
        auto stats = server.call({"INFO", "commandstats"}).text;
        auto at = stats.find("cmdstat_script|load:calls=");
        return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 26));
    }
};

const script append_and_count(
    "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LLEN', KEYS[1])");

TEST_F(redis_script_fixture, loads_an_unknown_script_and_runs_it) {
    ASSERT_FALSE(known(append_and_count));
    EXPECT_EQ(run(append_and_count, {"{e:1}:log"}, {"a"}), reply::number(1));
    EXPECT_TRUE(known(append_and_count));
    EXPECT_EQ(script_loads(), 1);
    // Known now: no second load, and the command ran exactly once per call.
    EXPECT_EQ(run(append_and_count, {"{e:1}:log"}, {"b"}), reply::number(2));
    EXPECT_EQ(script_loads(), 1);
}

TEST_F(redis_script_fixture, loads_it_again_after_script_flush) {
    ASSERT_EQ(run(append_and_count, {"k"}, {"a"}), reply::number(1));
    server.call({"SCRIPT", "FLUSH"});
    ASSERT_FALSE(known(append_and_count));
    EXPECT_EQ(run(append_and_count, {"k"}, {"b"}), reply::number(2));
    EXPECT_TRUE(known(append_and_count));
    EXPECT_EQ(script_loads(), 2);
    EXPECT_EQ(server.call({"LRANGE", "k", "0", "-1"}),
              reply::array({reply::bulk("a"), reply::bulk("b")}));
}

TEST_F(redis_script_fixture, a_script_error_is_a_server_error_and_is_not_retried) {
    const script refuses("return redis.error_reply('SOLD_OUT no seat left')");
    auto r = run(refuses, {}, {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::server);
    EXPECT_EQ(error_prefix(r.error()), "SOLD_OUT");
    EXPECT_EQ(script_loads(), 1);
}

}  // namespace
}  // namespace tkt::redis
