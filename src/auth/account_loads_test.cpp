#include "auth/account_loads.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"

namespace tkt::auth {
namespace {

namespace asio = boost::asio;

class account_loads_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened =
            db::open_database("sqlite://" + (dir_ / "t.db").string(), db::pool_options{.size = 2});
        ASSERT_TRUE(opened);
        db_ = std::move(*opened);
    }
    void TearDown() override { db_.reset(); }

    // A reader that says ids up to 1,000 exist (even ones are managers), counting its calls,
    // and takes a little while, as a database does, so that misses pile up behind it.
    account_loads::reader reader() {
        return [this](db::connection&,
                      const std::vector<std::int64_t>& ids) -> db::expected<account_loads::found> {
            reads_.fetch_add(1);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            if (fail_) return std::unexpected(db::error{db::errc::io, "disk on fire"});
            account_loads::found out;
            for (auto id : ids) {
                if (id <= 1000) {
                    out[id] = account_state{.active = true,
                                            .level = id % 2 == 0 ? role::manager : role::user};
                }
            }
            return out;
        };
    }

    tkt::testing::temp_dir dir_{"loads"};
    std::unique_ptr<db::database> db_;
    manual_clock clock_;
    account_cache cache_{std::chrono::seconds{60}};
    std::atomic<int> reads_{0};
    bool fail_ = false;
};

TEST_F(account_loads_test, concurrent_misses_share_batches_and_each_gets_its_own_account) {
    account_loads loads(*db_, cache_, clock_, reader());
    asio::io_context io;
    constexpr int n = 400;
    std::vector<std::optional<account_state>> got(n);
    std::atomic<int> finished{0};
    for (int i = 0; i < n; ++i) {
        // Each on a strand of its own, as connections are; ids 1..400 (all exist) and 1001+.
        const std::int64_t id = i % 4 == 3 ? 1000 + i : i + 1;
        asio::co_spawn(
            asio::make_strand(io),
            [&, i, id]() -> asio::awaitable<void> {
                auto r = co_await loads.load(id);
                EXPECT_TRUE(r);
                if (r) got[i] = *r;
                finished.fetch_add(1);
            },
            asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) threads.emplace_back([&io] { io.run(); });
    for (auto& t : threads) t.join();
    EXPECT_EQ(finished.load(), n);
    for (int i = 0; i < n; ++i) {
        const std::int64_t id = i % 4 == 3 ? 1000 + i : i + 1;
        if (id > 1000) {
            EXPECT_FALSE(got[i].has_value()) << id;
        } else {
            ASSERT_TRUE(got[i].has_value()) << id;
            EXPECT_EQ(got[i]->level, id % 2 == 0 ? role::manager : role::user) << id;
            // Remembered for the next request.
            EXPECT_TRUE(cache_.find(id, clock_.now()).has_value()) << id;
        }
    }
    EXPECT_EQ(loads.ids_read(), static_cast<std::uint64_t>(n));
    EXPECT_LT(loads.batches(), static_cast<std::uint64_t>(n / 4));  // many ids per read
    EXPECT_EQ(loads.batches(), static_cast<std::uint64_t>(reads_.load()));
}

TEST_F(account_loads_test, a_failed_read_fails_its_batch_and_the_next_one_reads_again) {
    account_loads loads(*db_, cache_, clock_, reader());
    asio::io_context io;
    fail_ = true;
    auto first = asio::co_spawn(io, loads.load(5), asio::use_future);
    io.run();
    auto r = first.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "disk on fire");
    EXPECT_FALSE(cache_.find(5, clock_.now()));
    fail_ = false;
    io.restart();
    auto second = asio::co_spawn(io, loads.load(5), asio::use_future);
    io.run();
    auto again = second.get();
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->level, role::user);
}

TEST_F(account_loads_test, a_forget_during_the_read_is_not_undone_by_it) {
    account_loads loads(
        *db_, cache_, clock_,
        [this](db::connection&,
               const std::vector<std::int64_t>& ids) -> db::expected<account_loads::found> {
            cache_.forget(ids.front());  // an admin disables the user meanwhile
            return account_loads::found{{ids.front(), account_state{true, role::user}}};
        });
    asio::io_context io;
    auto f = asio::co_spawn(io, loads.load(9), asio::use_future);
    io.run();
    EXPECT_TRUE(f.get());
    EXPECT_FALSE(cache_.find(9, clock_.now()));  // the read may be stale: not remembered
}

}  // namespace
}  // namespace tkt::auth
