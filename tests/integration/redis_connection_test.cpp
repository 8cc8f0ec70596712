// redis::connection against a real redis-server: pipelining, deadlines, reconnection, AUTH and
// SELECT, closing.
#include <algorithm>
#include <atomic>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "redis/connection.hpp"
#include "redis_test_support.hpp"
#include "support/redis_server.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using testing::eventually;
using testing::io_threads;
using testing::redis_server;

connection_options options_for(const redis_server& server) {
    connection_options o;
    o.port = server.port();
    o.reconnect_delay_min = 10ms;
    o.reconnect_delay_max = 100ms;
    return o;
}

// Clients are declared after the io_threads and closed before it joins.
struct redis_fixture : ::testing::Test {
    redis_server server;
    io_threads threads;

    result exec(connection& c, command cmd, std::chrono::milliseconds timeout = 2s) {
        auto body = [&]() -> asio::awaitable<result> { co_return co_await c.exec(cmd, timeout); };
        return threads.run(body());
    }
    std::int64_t blocked_clients() {
        auto info = server.call({"INFO", "clients"});
        auto at = info.text.find("blocked_clients:");
        return at == std::string::npos ? -1 : std::stoll(info.text.substr(at + 16));
    }
};

TEST_F(redis_fixture, answers_commands_and_reports_server_errors_with_their_text) {
    connection c(threads.executor(), options_for(server));
    EXPECT_EQ(exec(c, {"SET", "k", "v"}), reply::simple("OK"));
    EXPECT_EQ(exec(c, {"GET", "k"}), reply::bulk("v"));
    EXPECT_EQ(exec(c, {"GET", "missing"}), reply::nil());
    auto wrong = exec(c, {"LPUSH", "k", "x"});
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, errc::server);
    EXPECT_EQ(error_prefix(wrong.error()), "WRONGTYPE");
    // An error inside an array reply stays a reply.
    auto multi = exec(c, {"EVAL", "return {1, redis.error_reply('E1 inner')}", "0"});
    ASSERT_TRUE(multi.has_value());
    EXPECT_EQ(*multi, reply::array({reply::number(1), reply::error_text("E1 inner")}));
    c.close();
}

TEST_F(redis_fixture, exec_all_sends_commands_back_to_back_and_answers_each) {
    connection c(threads.executor(), options_for(server));
    std::vector<command> transaction;
    transaction.push_back(command{"MULTI"});
    transaction.push_back(command{"INCR", "t"});
    transaction.push_back(command{"LPUSH", "t", "x"});  // fails inside EXEC: WRONGTYPE
    transaction.push_back(command{"EXEC"});
    auto body = [&]() -> asio::awaitable<std::vector<result>> {
        co_return co_await c.exec_all(transaction, 2s);
    };
    auto results = threads.run(body());
    ASSERT_EQ(results.size(), 4u);
    EXPECT_EQ(results[0], reply::simple("OK"));
    EXPECT_EQ(results[1], reply::simple("QUEUED"));
    EXPECT_EQ(results[2], reply::simple("QUEUED"));
    ASSERT_TRUE(results[3].has_value());
    ASSERT_EQ(results[3]->elements.size(), 2u);
    EXPECT_EQ(results[3]->elements[0], reply::number(1));
    EXPECT_TRUE(results[3]->elements[1].is_error());
    c.close();
}

TEST_F(redis_fixture, ten_thousand_concurrent_incrs_are_answered_in_order_and_pipelined) {
    connection c(threads.executor(), options_for(server));
    constexpr int workers = 100;
    constexpr int per_worker = 100;
    std::vector<std::vector<std::int64_t>> seen(workers);
    auto worker = [&](int w) -> asio::awaitable<void> {
        for (int i = 0; i < per_worker; ++i) {
            auto r = co_await c.exec(command::of("INCR", "counter"), 10s);
            seen[w].push_back(r ? r->integer : -1);
        }
    };
    std::vector<std::future<void>> done;
    for (int w = 0; w < workers; ++w) {
        done.push_back(asio::co_spawn(threads.io(), worker(w), asio::use_future));
    }
    for (auto& f : done) f.get();

    std::set<std::int64_t> all;
    for (const auto& values : seen) {
        ASSERT_EQ(values.size(), std::size_t{per_worker});
        // One coroutine's INCRs were sent one after the other: their replies rise.
        EXPECT_TRUE(std::ranges::is_sorted(values)) << "a reply went to the wrong request";
        all.insert(values.begin(), values.end());
    }
    ASSERT_EQ(all.size(), std::size_t{workers * per_worker});
    EXPECT_EQ(*all.begin(), 1);
    EXPECT_EQ(*all.rbegin(), workers * per_worker);
    EXPECT_EQ(exec(c, {"GET", "counter"}), reply::bulk(std::to_string(workers * per_worker)));
    const auto stats = c.stats();
    RecordProperty("writes", static_cast<int>(stats.writes));
    EXPECT_EQ(stats.requests, std::uint64_t{workers * per_worker + 1});
    // Pipelined: many commands per write.
    EXPECT_LT(stats.writes * 5, stats.requests) << stats.writes << " writes";
    c.close();
}

TEST_F(redis_fixture, callers_on_another_io_context_resume_on_their_own) {
    connection c(threads.executor(), options_for(server));
    io_threads callers;
    std::atomic<int> resumed_elsewhere{0};
    auto caller = [&](int i) -> asio::awaitable<void> {
        const command incr = command::of("INCR", "cross");
        for (int k = 0; k < 50; ++k) {
            auto r = co_await c.exec(incr);
            EXPECT_TRUE(r.has_value()) << i;
            if (!callers.io().get_executor().running_in_this_thread()) ++resumed_elsewhere;
        }
    };
    std::vector<std::future<void>> done;
    for (int i = 0; i < 20; ++i) {
        done.push_back(asio::co_spawn(callers.io(), caller(i), asio::use_future));
    }
    for (auto& f : done) f.get();
    EXPECT_EQ(resumed_elsewhere, 0);
    EXPECT_EQ(exec(c, {"GET", "cross"}), reply::bulk("1000"));
    c.close();
}

TEST_F(redis_fixture, a_deadline_answers_timeout_and_the_late_reply_is_dropped_in_order) {
    connection c(threads.executor(), options_for(server));
    ASSERT_TRUE(exec(c, {"PING"}).has_value());
    server.call({"CLIENT", "PAUSE", "600", "ALL"});
    const auto start = steady::now();
    auto late = exec(c, {"INCR", "n"}, 100ms);
    ASSERT_FALSE(late.has_value());
    EXPECT_EQ(late.error().code, errc::timeout);
    EXPECT_LT(steady::now() - start, 500ms);
    // The paused INCR still runs; its reply is read and dropped, so this one gets its own.
    EXPECT_EQ(exec(c, {"INCR", "n"}), reply::number(2));
    EXPECT_EQ(exec(c, {"GET", "n"}), reply::bulk("2"));
    EXPECT_EQ(c.stats().timeouts, 1u);
    EXPECT_TRUE(c.connected());
    c.close();
}

TEST_F(redis_fixture, a_request_in_flight_when_the_connection_drops_fails_with_io) {
    connection c(threads.executor(), options_for(server));
    auto id = exec(c, {"CLIENT", "ID"});
    ASSERT_TRUE(id.has_value());
    auto body = [&]() -> asio::awaitable<result> {
        co_return co_await c.exec(command::of("BLPOP", "nothing", "10"), 20s);
    };
    auto blocked = asio::co_spawn(threads.io(), body(), asio::use_future);
    ASSERT_TRUE(eventually([&] { return blocked_clients() == 1; }));
    server.call({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
    auto r = blocked.get();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::io);
    // It comes back by itself, as a new client.
    auto again = exec(c, {"CLIENT", "ID"});
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_NE(again->integer, id->integer);
    EXPECT_EQ(c.stats().connects, 2u);
    EXPECT_EQ(c.stats().disconnects, 1u);
    c.close();
}

TEST_F(redis_fixture, reconnects_after_the_server_restarts_empty) {
    connection c(threads.executor(), options_for(server));
    ASSERT_EQ(exec(c, {"SET", "k", "v"}), reply::simple("OK"));
    server.restart();
    // The first request after the restart may meet the dead socket (errc::io); within a few
    // backoff steps the connection is back, and the data is gone.
    result r;
    ASSERT_TRUE(eventually([&] {
        r = exec(c, {"GET", "k"}, 200ms);
        return r.has_value();
    })) << r.error().message;
    EXPECT_EQ(*r, reply::nil());
    EXPECT_GE(c.stats().disconnects, 1u);
    c.close();
}

TEST_F(redis_fixture, while_the_server_is_down_requests_wait_or_fail_fast) {
    auto fast_options = options_for(server);
    fast_options.disconnected = when_disconnected::fail_fast;
    connection waiting(threads.executor(), options_for(server));
    connection fast(threads.executor(), fast_options);
    ASSERT_TRUE(exec(waiting, {"PING"}).has_value());
    ASSERT_TRUE(exec(fast, {"PING"}).has_value());
    server.stop();
    ASSERT_TRUE(eventually([&] { return !waiting.connected() && !fast.connected(); }));

    const auto start = steady::now();
    auto failed = exec(fast, {"PING"});
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, errc::io);
    EXPECT_LT(steady::now() - start, 500ms);  // far below the 2 s a wait would take

    auto timed_out = exec(waiting, {"PING"}, 150ms);
    ASSERT_FALSE(timed_out.has_value());
    EXPECT_EQ(timed_out.error().code, errc::timeout);

    // A request that waits across the outage is answered once the server is back.
    auto body = [&]() -> asio::awaitable<result> {
        co_return co_await waiting.exec(command::of("PING"), 10s);
    };
    auto pending = asio::co_spawn(threads.io(), body(), asio::use_future);
    server.start();
    EXPECT_EQ(pending.get(), reply::simple("PONG"));
    waiting.close();
    fast.close();
}

TEST_F(redis_fixture, closing_fails_what_is_pending_and_everything_after) {
    connection c(threads.executor(), options_for(server));
    ASSERT_TRUE(exec(c, {"PING"}).has_value());
    auto body = [&]() -> asio::awaitable<result> {
        co_return co_await c.exec(command::of("BLPOP", "nothing", "10"), 20s);
    };
    auto blocked = asio::co_spawn(threads.io(), body(), asio::use_future);
    ASSERT_TRUE(eventually([&] { return blocked_clients() == 1; }));
    c.close();
    auto r = blocked.get();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::io);
    auto after = exec(c, {"PING"});
    ASSERT_FALSE(after.has_value());
    EXPECT_EQ(after.error().code, errc::io);
}

struct redis_auth_fixture : ::testing::Test {
    redis_server server{{"--requirepass", "s3cret"}};
    io_threads threads;
};

TEST_F(redis_auth_fixture, authenticates_and_selects_the_database_from_the_url) {
    auto options = parse_redis_url(fmt::format("redis://:s3cret@127.0.0.1:{}/3", server.port()));
    ASSERT_TRUE(options.has_value()) << options.error();
    connection c(threads.executor(), *options);
    auto body = [&]() -> asio::awaitable<result> {
        co_return co_await c.exec(command::of("CLIENT", "INFO"));
    };
    auto info = threads.run(body());
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_NE(info->text.find(" db=3 "), std::string::npos) << info->text;
    c.close();
}

TEST_F(redis_auth_fixture, a_wrong_password_never_connects) {
    auto options = parse_redis_url(fmt::format("redis://:wrong@127.0.0.1:{}", server.port()));
    ASSERT_TRUE(options.has_value());
    connection c(threads.executor(), *options);
    auto body = [&]() -> asio::awaitable<result> {
        co_return co_await c.exec(command::of("PING"), 300ms);
    };
    auto r = threads.run(body());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::timeout);
    EXPECT_FALSE(c.connected());
    EXPECT_EQ(c.stats().connects, 0u);
    c.close();
}

}  // namespace
}  // namespace tkt::redis
