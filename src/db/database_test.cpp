#include "db/database.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/types.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include "common/problem.hpp"
#include "common/testing/temp_dir.hpp"
#include "db/migrations.hpp"
#include "db/mysql/mysql_connection.hpp"
#include "db/mysql/mysql_url.hpp"
#include "db/sqlite/sqlite_connection.hpp"
#include "mariadb_server.hpp"

namespace tkt::db {
namespace {

namespace asio = boost::asio;

using tkt::testing::temp_dir;

// The engines every shared case runs on; a case's name ends in its engine (`…/mariadb`).
enum class engine { sqlite, mariadb };

std::string engine_name(const ::testing::TestParamInfo<engine>& info) {
    return info.param == engine::sqlite ? "sqlite" : "mariadb";
}

// A fresh database of one engine per test: a file in a temp dir, or a database of its own on
// the run's MariaDB server (tests/support/mariadb_server.hpp).
class database_fixture {
protected:
    void open_engine(engine e) {
        engine_ = e;
        auto opened = open_another({.size = 4});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
    }

    // Another pool on the same database (MariaDB) or a new file beside it (SQLite).
    expected<std::unique_ptr<database>> open_another(pool_options options) {
        if (engine_ == engine::mariadb) {
            if (scratch_ == nullptr) scratch_ = std::make_unique<testing::scratch_database>();
            return open_database(scratch_->url(), options);
        }
        return open_database(
            "sqlite://" + (dir_.path() / fmt::format("test{}.db", ++files_)).string(), options);
    }

    // An integer key that numbers new rows by itself, in this engine's words.
    std::string auto_id() const {
        return engine_ == engine::sqlite ? "INTEGER PRIMARY KEY"
                                         : "BIGINT AUTO_INCREMENT PRIMARY KEY";
    }

    // Runs a coroutine to completion on a fresh io_context and returns its result.
    template <class F>
    auto run_coro(F f) {
        asio::io_context ioc;
        auto fut = asio::co_spawn(ioc, std::move(f), asio::use_future);
        ioc.run();
        return fut.get();
    }

    expected<query_result> sync_exec(std::string sql, std::vector<value> params = {}) {
        return db_->run_sync([&](connection& c) { return c.exec(sql, params); });
    }

    std::int64_t count_rows(const std::string& table) {
        auto r = sync_exec("SELECT COUNT(*) FROM " + table);
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->rows.at(0).int64(0) : -1;
    }

    temp_dir dir_;
    std::unique_ptr<testing::scratch_database> scratch_;  // before db_: dropped after it closes
    std::unique_ptr<database> db_;
    engine engine_ = engine::sqlite;
    int files_ = 0;
};

// The cases every engine must pass alike (the storage conformance of the Database port).
class database_test : public ::testing::TestWithParam<engine>, protected database_fixture {
protected:
    void SetUp() override { open_engine(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(on, database_test, ::testing::Values(engine::sqlite, engine::mariadb),
                         engine_name);

// The cases about what only SQLite does (WAL checkpoints, file locks, OR ROLLBACK).
class sqlite_database_test : public ::testing::Test, protected database_fixture {
protected:
    void SetUp() override { open_engine(engine::sqlite); }
};

TEST_P(database_test, exec_binds_parameters_and_reads_every_type_including_null) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (id " + auto_id() + ", n INTEGER, r REAL, s TEXT)"));
    auto inserted = sync_exec("INSERT INTO t (n, r, s) VALUES (?, ?, ?)",
                              {std::int64_t{42}, 2.5, std::string("seat A-3-12")});
    ASSERT_TRUE(inserted) << inserted.error().message;
    EXPECT_EQ(inserted->affected_rows, 1);
    EXPECT_EQ(inserted->last_insert_id, 1);
    auto second =
        sync_exec("INSERT INTO t (n, r, s) VALUES (?, ?, ?)", {nullptr, nullptr, nullptr});
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->last_insert_id, 2);

    auto rows = sync_exec("SELECT n, r, s FROM t ORDER BY id");
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->rows.size(), 2u);
    EXPECT_EQ(rows->affected_rows, 0) << "a SELECT reports no changed rows";
    const auto& full = rows->rows[0];
    EXPECT_EQ(full.int64(0), 42);
    EXPECT_DOUBLE_EQ(full.real(1), 2.5);
    EXPECT_EQ(full.text(2), "seat A-3-12");
    EXPECT_EQ(full.opt_int64(0), 42);
    const auto& empty = rows->rows[1];
    EXPECT_TRUE(empty.is_null(0));
    EXPECT_TRUE(empty.is_null(2));
    EXPECT_EQ(empty.int64(0), 0);
    EXPECT_EQ(empty.text(2), "");
    EXPECT_EQ(empty.opt_int64(0), std::nullopt);
    EXPECT_EQ(empty.opt_text(2), std::nullopt);

    auto filtered = sync_exec("SELECT COUNT(*) FROM t WHERE s = ?", {std::string("seat A-3-12")});
    ASSERT_TRUE(filtered);
    EXPECT_EQ(filtered->rows[0].int64(0), 1) << "a cached statement is re-bound, not reused stale";
}

TEST_P(database_test, exec_refuses_wrong_parameter_count_and_several_statements) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    auto too_few = sync_exec("INSERT INTO t (x) VALUES (?)");
    ASSERT_FALSE(too_few);
    EXPECT_EQ(too_few.error().code, errc::misuse);
    auto two = sync_exec("INSERT INTO t (x) VALUES (1); INSERT INTO t (x) VALUES (2)");
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code, errc::misuse);
    EXPECT_EQ(count_rows("t"), 0);
    auto commented = sync_exec("INSERT INTO t (x) VALUES (1); -- the seat count");
    EXPECT_TRUE(commented) << commented.error().message;
    EXPECT_EQ(count_rows("t"), 1);
}

TEST_P(database_test, unique_and_primary_key_violations_map_to_constraint_unique) {
    ASSERT_TRUE(
        sync_exec("CREATE TABLE u (id INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL UNIQUE)"));
    ASSERT_TRUE(sync_exec("INSERT INTO u (id, email) VALUES (1, 'a@x')"));

    auto same_email = sync_exec("INSERT INTO u (id, email) VALUES (2, 'a@x')");
    ASSERT_FALSE(same_email);
    EXPECT_EQ(same_email.error().code, errc::constraint_unique);
    // The engine's own message travels with the code.
    EXPECT_NE(same_email.error().message.find(engine_ == engine::sqlite ? "UNIQUE" : "Duplicate"),
              std::string::npos)
        << same_email.error().message;

    auto same_id = sync_exec("INSERT INTO u (id, email) VALUES (1, 'b@x')");
    ASSERT_FALSE(same_id);
    EXPECT_EQ(same_id.error().code, errc::constraint_unique);

    auto null_email = sync_exec("INSERT INTO u (id, email) VALUES (3, NULL)");
    ASSERT_FALSE(null_email);
    EXPECT_EQ(null_email.error().code, errc::constraint_other);
    EXPECT_EQ(count_rows("u"), 1);
}

TEST_P(database_test, transact_commits_when_the_function_returns_a_value) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (id " + auto_id() + ", x INTEGER)"));
    auto r = run_coro([&]() -> asio::awaitable<expected<std::int64_t>> {
        co_return co_await db_->transact([](connection& c) -> expected<std::int64_t> {
            auto w = c.exec("INSERT INTO t (x) VALUES (?)", {std::int64_t{7}});
            if (!w) {
                return std::unexpected(w.error());
            }
            return w->last_insert_id;
        });
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, 1);
    EXPECT_EQ(count_rows("t"), 1);
}

TEST_P(database_test, transact_rolls_back_when_the_function_returns_an_error) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    auto r = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db_->transact([](connection& c) -> expected<void> {
            if (auto w = c.exec("INSERT INTO t (x) VALUES (1)"); !w) {
                return std::unexpected(w.error());
            }
            return std::unexpected(error{errc::not_found, "business says no"});
        });
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "business says no");
    EXPECT_EQ(count_rows("t"), 0);
}

TEST_P(database_test, transact_rolls_back_and_rethrows_when_the_function_throws) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    auto attempt = [&] {
        return run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db_->transact([](connection& c) -> expected<void> {
                static_cast<void>(c.exec("INSERT INTO t (x) VALUES (1)"));
                throw std::logic_error("boom");
            });
        });
    };
    EXPECT_THROW(attempt(), std::logic_error);
    EXPECT_EQ(count_rows("t"), 0);
    // The connection went back to the pool outside any transaction: a new one can begin.
    auto again = db_->run_sync([](connection& c) {
        auto select = [](connection& tx) { return tx.exec("SELECT 1"); };
        return database::in_transaction(c, select);
    });
    EXPECT_TRUE(again) << again.error().message;
}

TEST_P(database_test, a_connection_left_inside_a_transaction_is_not_lent_again) {
    auto opened = open_another({.size = 1});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    auto begun = db.run_sync([](connection& c) { return c.begin(); });  // and never committed
    ASSERT_TRUE(begun) << begun.error().message;
    auto next = db.run_sync([](connection& c) { return c.begin(); });
    EXPECT_TRUE(next) << next.error().message;
    auto committed = db.run_sync([](connection& c) { return c.commit(); });
    EXPECT_FALSE(committed) << "the lease ended, so its open transaction was rolled back";
}

TEST_P(database_test, run_resumes_the_caller_on_its_own_strand) {
    asio::io_context ioc;
    auto strand = asio::make_strand(ioc);
    bool body_on_strand = true;
    bool resumed_on_strand = false;
    std::thread::id caller;
    std::thread::id worker;
    auto fut = asio::co_spawn(
        strand,
        [&]() -> asio::awaitable<void> {
            caller = std::this_thread::get_id();
            auto r = co_await db_->run([&](connection& c) {
                body_on_strand = strand.running_in_this_thread();
                worker = std::this_thread::get_id();
                return c.exec("SELECT 1");
            });
            EXPECT_TRUE(r);
            resumed_on_strand = strand.running_in_this_thread();
        },
        asio::use_future);
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    fut.get();
    EXPECT_FALSE(body_on_strand) << "the blocking body must run on a DB thread";
    EXPECT_NE(worker, caller);
    EXPECT_TRUE(resumed_on_strand);
}

TEST_P(database_test, concurrent_transactions_lose_no_increment) {
    ASSERT_TRUE(sync_exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"));
    ASSERT_TRUE(sync_exec("INSERT INTO counter (id, n) VALUES (1, 0)"));
    constexpr int coroutines = 8;
    constexpr int increments = 50;
    std::atomic<int> failures = 0;
    std::mutex why_mutex;
    std::string why;  // the last failure's message

    // A read-modify-write in two statements: without a write lock taken at BEGIN, two
    // transactions would read the same n and one increment would be lost.
    auto increment = [](connection& c) -> expected<void> {
        auto r = c.exec("SELECT n FROM counter WHERE id = 1");
        if (!r) {
            return std::unexpected(r.error());
        }
        auto w = c.exec("UPDATE counter SET n = ? WHERE id = 1", {r->rows.at(0).int64(0) + 1});
        if (!w) {
            return std::unexpected(w.error());
        }
        return {};
    };
    asio::io_context ioc;
    for (int i = 0; i < coroutines; ++i) {
        asio::co_spawn(
            asio::make_strand(ioc),
            [&]() -> asio::awaitable<void> {
                for (int k = 0; k < increments; ++k) {
                    auto done = co_await db_->transact(increment);
                    if (!done) {
                        ++failures;
                        std::lock_guard lock(why_mutex);
                        why = done.error().message;
                    }
                }
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    EXPECT_EQ(failures.load(), 0) << why;
    auto n = sync_exec("SELECT n FROM counter WHERE id = 1");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->rows.at(0).int64(0), coroutines * increments);
}

// --- write(): group commit ----------------------------------------------------------------

TEST_P(database_test, write_commits_and_returns_the_value_to_the_caller) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    auto r = run_coro([&]() -> asio::awaitable<expected<std::int64_t>> {
        co_return co_await db_->write([](connection& c) -> expected<std::int64_t> {
            auto w = c.exec("INSERT INTO t (x) VALUES (?)", {std::int64_t{7}});
            if (!w) return std::unexpected(w.error());
            return w->affected_rows;
        });
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, 1);
    EXPECT_EQ(count_rows("t"), 1) << "visible to other connections once the caller resumed";
    EXPECT_EQ(db_->writes().writes, 1U);
}

// Holds the writer inside a first write until `release()`, so that the writes queued meanwhile
// are known to travel together in the next batch.
class writer_gate {
public:
    expected<void> operator()(connection&) {
        entered_.set_value();
        open_.get_future().wait();
        return {};
    }
    void wait_entered() { entered_.get_future().wait(); }
    void release() { open_.set_value(); }

private:
    std::promise<void> entered_;
    std::promise<void> open_;
};

// Runs `writes` coroutines (each a write() of its own) on an io_context in another thread while
// the writer is held by a gate, so that all of them queue; lets the writer go once they have;
// returns when all are answered.
template <class Spawn>
void run_behind_gate(database& db, std::size_t writes, Spawn spawn) {
    asio::io_context ioc;
    auto busy = asio::make_work_guard(ioc);
    std::thread io([&] { ioc.run(); });
    writer_gate gate;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await db.write(std::ref(gate))); },
        asio::detached);
    gate.wait_entered();  // the gate's batch is taken: everything from now on queues
    asio::post(ioc, [&] {
        for (std::size_t i = 0; i < writes; ++i) spawn(ioc, i);
    });
    while (db.writes().queued < writes) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    gate.release();
    busy.reset();
    io.join();
}

// What the writes of one gated batch answered: an outcome per write (empty where it threw), and
// how many threw.
struct batch_answers {
    std::vector<std::optional<expected<void>>> outcomes;
    int threw = 0;
};

// Queues `writes` writes of `kind` behind the gate, write i running `f(connection, i)`, so that
// they travel in one batch; returns what each answered.
template <class F>
batch_answers write_batch(database& db, std::size_t writes, write_kind kind, F f) {
    batch_answers answers{std::vector<std::optional<expected<void>>>(writes)};
    std::atomic<int> threw = 0;
    run_behind_gate(db, writes, [&](asio::io_context& ioc, std::size_t i) {
        asio::co_spawn(
            ioc,
            [&, i]() -> asio::awaitable<void> {
                auto op =
                    db.write([&f, i](connection& c) -> expected<void> { return f(c, i); }, kind);
                answers.outcomes[i] = co_await std::move(op);
            },
            [&](std::exception_ptr e) {
                if (e) ++threw;
            });
    });
    answers.threw = threw.load();
    return answers;
}

// Checks a batch's answers: write `thrown` threw, the writes in `refused` failed with their
// code, every other one succeeded.
void expect_answers(const batch_answers& a, std::size_t thrown,
                    const std::map<std::size_t, errc>& refused) {
    EXPECT_EQ(a.threw, 1);
    for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
        if (i == thrown) continue;
        ASSERT_TRUE(a.outcomes[i].has_value()) << i;
        if (auto it = refused.find(i); it != refused.end()) {
            ASSERT_FALSE(*a.outcomes[i]) << i;
            EXPECT_EQ(a.outcomes[i]->error().code, it->second) << i;
        } else {
            EXPECT_TRUE(*a.outcomes[i]) << i << ": " << a.outcomes[i]->error().message;
        }
    }
}

// Checks that every write of a batch failed with `code` (the batch rolled back as a whole).
void expect_all_failed(const batch_answers& a, errc code) {
    for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
        ASSERT_TRUE(a.outcomes[i].has_value()) << i;
        ASSERT_FALSE(*a.outcomes[i]) << i << ": the batch rolled back, no write may claim success";
        EXPECT_EQ(a.outcomes[i]->error().code, code) << i;
    }
}

// About 10 pages of rows (for the checkpoint tests, whose threshold is 8 pages).
expected<void> insert_ten_pages(connection& c) {
    for (int i = 0; i < 10; ++i) {
        auto r = c.exec("INSERT INTO t (x, pad) VALUES (?, zeroblob(3500))", {std::int64_t{i}});
        if (!r) return std::unexpected(r.error());
    }
    return {};
}

TEST_P(database_test, concurrent_writes_share_one_commit_and_a_failing_one_rolls_back_alone) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
    ASSERT_TRUE(sync_exec("INSERT INTO t (x) VALUES (1000)"));
    constexpr std::size_t writes = 40;
    const auto answers = write_batch(
        *db_, writes, write_kind::any, [](connection& c, std::size_t i) -> expected<void> {
            auto x = static_cast<std::int64_t>(i);
            if (auto w = c.exec("INSERT INTO t (x) VALUES (?)", {x}); !w) {
                return std::unexpected(w.error());
            }
            // Write 7 inserts, then changes its mind: its row must not stay.
            if (i == 7) return std::unexpected(error{errc::not_found, "business says no"});
            // Write 9 inserts, then collides with an existing key.
            if (i == 9) {
                if (auto w = c.exec("INSERT INTO t (x) VALUES (1000)"); !w) {
                    return std::unexpected(w.error());
                }
            }
            // Write 11 inserts, then throws.
            if (i == 11) throw std::logic_error("boom");
            return {};
        });
    const auto stats = db_->writes();
    EXPECT_EQ(stats.writes, writes + 1);
    EXPECT_EQ(stats.batches, 2U) << "the gate's batch, then every write queued behind it";
    expect_answers(answers, 11, {{7, errc::not_found}, {9, errc::constraint_unique}});
    EXPECT_EQ(count_rows("t"), static_cast<std::int64_t>(writes) - 3 + 1);
    auto gone = sync_exec("SELECT COUNT(*) FROM t WHERE x IN (7, 9, 11)");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->rows.at(0).int64(0), 0) << "a failed write's own statements are undone";
}

TEST_P(database_test,
       one_statement_writes_share_a_commit_and_a_failed_statement_undoes_only_itself) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
    ASSERT_TRUE(sync_exec("INSERT INTO t (x) VALUES (1000)"));
    constexpr std::size_t writes = 30;
    const auto answers = write_batch(
        *db_, writes, write_kind::one_statement,
        [](connection& c, std::size_t i) -> expected<void> {
            // Write 5 refuses before changing anything; write 6 throws before.
            if (i == 5) return std::unexpected(error{errc::not_found, "no such hold"});
            if (i == 6) throw std::logic_error("boom");
            // Write 9's one statement inserts 900, then collides with an existing key: SQLite
            // undoes the statement, 900 included.
            if (i == 9) {
                auto w = c.exec("INSERT INTO t (x) VALUES (900), (1000)");
                return w ? expected<void>{} : std::unexpected(w.error());
            }
            if (auto w = c.exec("INSERT INTO t (x) VALUES (?)", {static_cast<std::int64_t>(i)});
                !w) {
                return std::unexpected(w.error());
            }
            return {};
        });
    EXPECT_EQ(db_->writes().batches, 2U) << "the gate's batch, then every write queued behind it";
    expect_answers(answers, 6, {{5, errc::not_found}, {9, errc::constraint_unique}});
    EXPECT_EQ(count_rows("t"), static_cast<std::int64_t>(writes) - 3 + 1);
    auto gone = sync_exec("SELECT COUNT(*) FROM t WHERE x = 900");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->rows.at(0).int64(0), 0) << "the failed statement's first row is undone with it";
}

TEST_F(sqlite_database_test,
       a_one_statement_write_that_makes_sqlite_roll_back_fails_its_whole_batch) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
    ASSERT_TRUE(sync_exec("INSERT INTO t (x) VALUES (1000)"));
    constexpr std::size_t writes = 4;
    const auto answers = write_batch(
        *db_, writes, write_kind::one_statement,
        [](connection& c, std::size_t i) -> expected<void> {
            // OR ROLLBACK: the conflict ends the whole transaction, the writes before this one
            // included.
            auto w = i == 2
                         ? c.exec("INSERT OR ROLLBACK INTO t (x) VALUES (1000)")
                         : c.exec("INSERT INTO t (x) VALUES (?)", {static_cast<std::int64_t>(i)});
            return w ? expected<void>{} : std::unexpected(w.error());
        });
    expect_all_failed(answers, errc::io);
    EXPECT_EQ(count_rows("t"), 1) << "only the row from before the batch";
    auto again = write_batch(*db_, 1, write_kind::one_statement,
                             [](connection& c, std::size_t) -> expected<void> {
                                 auto w = c.exec("INSERT INTO t (x) VALUES (2)");
                                 return w ? expected<void>{} : std::unexpected(w.error());
                             });
    ASSERT_TRUE(again.outcomes[0].has_value());
    EXPECT_TRUE(*again.outcomes[0]) << again.outcomes[0]->error().message;
    EXPECT_EQ(count_rows("t"), 2);
}

TEST_P(database_test, a_one_statement_write_that_fails_after_a_change_fails_its_whole_batch) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    constexpr std::size_t writes = 4;
    const auto answers =
        write_batch(*db_, writes, write_kind::one_statement,
                    [](connection& c, std::size_t i) -> expected<void> {
                        if (auto w = c.exec("INSERT INTO t (x) VALUES (1)"); !w)
                            return std::unexpected(w.error());
                        // Breaks the rule: its change cannot be undone alone.
                        if (i == 2)
                            return std::unexpected(error{errc::not_found, "changed my mind"});
                        return {};
                    });
    expect_all_failed(answers, errc::misuse);
    EXPECT_EQ(count_rows("t"), 0) << "the whole batch rolled back";
    // The writer goes on with the next batch.
    auto again = write_batch(*db_, 1, write_kind::one_statement,
                             [](connection& c, std::size_t) -> expected<void> {
                                 auto w = c.exec("INSERT INTO t (x) VALUES (2)");
                                 return w ? expected<void>{} : std::unexpected(w.error());
                             });
    ASSERT_TRUE(again.outcomes[0].has_value());
    EXPECT_TRUE(*again.outcomes[0]) << again.outcomes[0]->error().message;
    EXPECT_EQ(count_rows("t"), 1);
}

TEST_P(database_test, a_batch_carries_at_most_write_batch_max_writes) {
    auto opened = open_another({.size = 1, .write_batch_max = 3});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    ASSERT_TRUE(db.run_sync([](connection& c) { return c.exec("CREATE TABLE t (x INTEGER)"); }));
    std::atomic<int> done = 0;
    run_behind_gate(db, 7, [&](asio::io_context& ioc, std::size_t) {
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                auto w = co_await db.write([](connection& c) -> expected<void> {
                    if (auto r = c.exec("INSERT INTO t (x) VALUES (1)"); !r)
                        return std::unexpected(r.error());
                    return {};
                });
                if (w) ++done;
            },
            asio::detached);
    });
    EXPECT_EQ(done.load(), 7);
    EXPECT_EQ(db.writes().batches, 1U + 3U) << "the gate, then 3 + 3 + 1";
}

// The writer answers a batch with one post per io_context. Callers of two io_contexts share a
// batch whose first write belongs to the second context, and that context's only thread is
// busy: the first context's callers must still get their answers (a batch posted whole to its
// first caller's executor would wait for the busy thread), each on its own strand; the second
// context's callers get theirs once its thread is free.
TEST_P(database_test,
       a_batch_from_two_io_contexts_answers_each_context_without_waiting_for_the_other) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    constexpr std::size_t per_context = 6;
    struct answer {
        std::atomic<bool> done = false;
        std::optional<std::int64_t> value;
        bool on_strand = false;
        std::thread::id thread;
    };
    std::vector<answer> answers(2 * per_context);
    auto spawn = [&](asio::io_context& ioc, std::size_t i) {
        auto strand = asio::make_strand(ioc);
        asio::co_spawn(
            strand,
            [&answers, &db = *db_, strand, i]() -> asio::awaitable<void> {
                auto op = db.write([i](connection& c) -> expected<std::int64_t> {
                    auto r = c.exec("INSERT INTO t (x) VALUES (?)", {static_cast<std::int64_t>(i)});
                    if (!r) return std::unexpected(r.error());
                    return static_cast<std::int64_t>(i) * 10;
                });
                auto w = co_await std::move(op);
                answers[i].on_strand = strand.running_in_this_thread();
                answers[i].thread = std::this_thread::get_id();
                if (w) answers[i].value = *w;
                answers[i].done = true;
            },
            asio::detached);
    };
    auto wait_for = [](auto done) {  // false after 10 s
        for (int i = 0; i < 10'000 && !done(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return done();
    };
    asio::io_context first;
    asio::io_context second;
    auto first_busy = asio::make_work_guard(first);
    auto second_busy = asio::make_work_guard(second);
    std::thread first_thread([&] { first.run(); });
    std::thread second_thread([&] { second.run(); });
    writer_gate gate;
    asio::co_spawn(
        first, [&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await db_->write(std::ref(gate))); },
        asio::detached);
    gate.wait_entered();  // the gate's batch is taken: everything from now on queues
    // The second context's writes first (the batch's first write is theirs), then its thread
    // is kept busy; then the first context's writes.
    asio::post(second, [&] {
        for (std::size_t i = per_context; i < 2 * per_context; ++i) spawn(second, i);
    });
    EXPECT_TRUE(wait_for([&] { return db_->writes().queued == per_context; }));
    std::promise<void> second_free;
    asio::post(second, [f = second_free.get_future().share()] { f.wait(); });
    asio::post(first, [&] {
        for (std::size_t i = 0; i < per_context; ++i) spawn(first, i);
    });
    EXPECT_TRUE(wait_for([&] { return db_->writes().queued == 2 * per_context; }));
    gate.release();
    const bool first_answered = wait_for([&] {
        return std::all_of(answers.begin(), answers.begin() + per_context,
                           [](const answer& a) { return a.done.load(); });
    });
    EXPECT_TRUE(first_answered)
        << "the first context's callers waited for the second context's thread";
    EXPECT_TRUE(std::none_of(answers.begin() + per_context, answers.end(), [](const answer& a) {
        return a.done.load();
    })) << "the second context's thread was busy";
    const std::thread::id first_id = first_thread.get_id();
    const std::thread::id second_id = second_thread.get_id();
    second_free.set_value();
    first_busy.reset();
    second_busy.reset();
    first_thread.join();
    second_thread.join();
    EXPECT_EQ(db_->writes().batches, 2U) << "the gate's batch, then every write of both contexts";
    for (std::size_t i = 0; i < answers.size(); ++i) {
        ASSERT_TRUE(answers[i].value.has_value()) << i;
        EXPECT_EQ(*answers[i].value, static_cast<std::int64_t>(i) * 10) << i;
        EXPECT_TRUE(answers[i].on_strand) << i;
        EXPECT_EQ(answers[i].thread, i < per_context ? first_id : second_id) << i;
    }
    EXPECT_EQ(count_rows("t"), static_cast<std::int64_t>(answers.size()));
}

// top -H, ps -L and perf show the writer and the checkpointer by name (docs/operations.md).
TEST_F(sqlite_database_test, the_writer_thread_is_named_for_operators) {
    auto r = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db_->write([](connection&) -> expected<void> { return {}; });
    });
    ASSERT_TRUE(r);
    std::map<std::string, std::vector<pid_t>> threads;  // name → thread ids
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        threads[name].push_back(static_cast<pid_t>(std::stol(task.path().filename().string())));
    }
    ASSERT_EQ(threads["tkt-db-writer"].size(), 1U);
    EXPECT_EQ(sched_getscheduler(threads["tkt-db-writer"].front()), SCHED_BATCH)
        << "a queued write must not preempt the thread that queued it";
    EXPECT_EQ(threads["tkt-checkpoint"].size(), 1U);
}

TEST_F(sqlite_database_test, a_write_that_cannot_begin_fails_with_the_database_error) {
    // Another process holds the write lock past the busy timeout: the writer's BEGIN gives up.
    auto opened = open_database("sqlite://" + (dir_.path() / "locked.db").string(),
                                {.size = 1, .busy_timeout_ms = 50});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    ASSERT_TRUE(db.run_sync([](connection& c) { return c.exec("CREATE TABLE t (x INTEGER)"); }));
    // The other process: a connection of our own, outside the pool, inside a write transaction.
    sqlite_connection_factory factory(
        sqlite_options{.path = (dir_.path() / "locked.db").string(), .busy_timeout_ms = 50});
    auto lock_owner = factory.open();
    ASSERT_TRUE(lock_owner);
    ASSERT_TRUE((*lock_owner)->begin());
    ASSERT_TRUE((*lock_owner)->exec("INSERT INTO t (x) VALUES (1)"));
    auto r = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db.write([](connection& c) -> expected<void> {
            if (auto w = c.exec("INSERT INTO t (x) VALUES (2)"); !w)
                return std::unexpected(w.error());
            return {};
        });
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::busy);
    ASSERT_TRUE((*lock_owner)->rollback());
    // The writer recovers once the lock is free.
    auto again = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db.write([](connection& c) -> expected<void> {
            if (auto w = c.exec("INSERT INTO t (x) VALUES (3)"); !w)
                return std::unexpected(w.error());
            return {};
        });
    });
    EXPECT_TRUE(again) << again.error().message;
}

TEST_P(database_test, a_write_function_cannot_end_the_batchs_transaction) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    auto r = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db_->write([](connection& c) -> expected<void> {
            if (auto w = c.exec("INSERT INTO t (x) VALUES (1)"); !w)
                return std::unexpected(w.error());
            EXPECT_TRUE(c.transaction_open());
            EXPECT_FALSE(c.begin());
            EXPECT_FALSE(c.rollback());
            return c.commit();
        });
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::misuse);
    EXPECT_EQ(count_rows("t"), 0) << "the refused commit was this write's error: rolled back";
}

TEST_P(database_test, a_write_after_shutdown_fails_at_once) {
    ASSERT_TRUE(sync_exec("CREATE TABLE t (x INTEGER)"));
    db_->shutdown();
    db_->shutdown();  // idempotent
    auto r = run_coro([&]() -> asio::awaitable<expected<void>> {
        co_return co_await db_->write([](connection& c) -> expected<void> {
            if (auto w = c.exec("INSERT INTO t (x) VALUES (1)"); !w)
                return std::unexpected(w.error());
            return {};
        });
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::misuse);
}

TEST_P(database_test, a_store_failure_in_a_problem_result_is_503_unavailable_not_a_throw) {
    // Domain code's result<T> cannot carry a db::error: a BEGIN or COMMIT the database refuses
    // (busy, shut down) is a 503 with Retry-After for the client, not an exception (a 500).
    db_->shutdown();
    auto r = run_coro([&]() -> asio::awaitable<tkt::result<int>> {
        co_return co_await db_->write([](connection&) -> tkt::result<int> { return 1; });
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, tkt::problem_code::unavailable);
    EXPECT_EQ(r.error().retry_after_seconds, 1);
}

// --- background WAL checkpoints ----------------------------------------------------------

TEST_F(sqlite_database_test,
       the_log_is_checkpointed_into_the_database_file_while_connections_stay_open) {
    const auto path = dir_.path() / "ckpt.db";
    auto opened = open_database("sqlite://" + path.string(), {.size = 2, .checkpoint_pages = 8});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    ASSERT_TRUE(
        db.run_sync([](connection& c) { return c.exec("CREATE TABLE t (x INTEGER, pad BLOB)"); }));
    const auto file_size = [&] { return std::filesystem::file_size(path); };
    const auto before = file_size();
    // Each round writes ~10 pages of rows (past the threshold of 8), then waits for the
    // checkpointer. Without it nothing would reach the database file until the last connection
    // closes (SQLite's own threshold is 1,000 pages), and the log would grow with every round.
    constexpr int rounds = 12;
    std::uint64_t seen = db.writes().checkpoints;
    std::uintmax_t wal_max = 0;
    for (int round = 0; round < rounds; ++round) {
        auto w = run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db.write(insert_ten_pages);
        });
        ASSERT_TRUE(w) << w.error().message;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (db.writes().checkpoints == seen && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_GT(db.writes().checkpoints, seen) << "round " << round;
        seen = db.writes().checkpoints;
        wal_max = std::max(wal_max, std::filesystem::file_size(path.string() + "-wal"));
    }
    EXPECT_GE(file_size(), before + rounds * 10 * 3500) << "the rows reached the database file";
    // A checkpointed log starts over: it stays near one round plus the threshold, not 120 pages.
    EXPECT_LT(wal_max, 40U * 4096U);
    auto n = db.run_sync([](connection& c) { return c.exec("SELECT COUNT(*) FROM t"); });
    ASSERT_TRUE(n);
    EXPECT_EQ(n->rows.at(0).int64(0), rounds * 10);
}

TEST_F(sqlite_database_test, the_log_starts_over_when_only_pool_transactions_write) {
    // No write(), so no writer finishes the background copy between its batches: a pool lease
    // that wrote does it when its connection comes back (connection::maintain), and the next
    // transaction starts the log over.
    const auto path = dir_.path() / "pool.db";
    auto opened = open_database("sqlite://" + path.string(), {.size = 2, .checkpoint_pages = 8});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    ASSERT_TRUE(
        db.run_sync([](connection& c) { return c.exec("CREATE TABLE t (x INTEGER, pad BLOB)"); }));
    std::uintmax_t wal_max = 0;
    for (int round = 0; round < 30; ++round) {
        const auto before = db.writes().checkpoints;
        auto w = run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db.transact(insert_ten_pages);
        });
        ASSERT_TRUE(w) << w.error().message;
        // Gives the checkpointer its chance when this round asked for one.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
        while (db.writes().checkpoints == before && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        wal_max = std::max(wal_max, std::filesystem::file_size(path.string() + "-wal"));
    }
    EXPECT_GE(db.writes().checkpoints, 10U);
    EXPECT_GE(std::filesystem::file_size(path), 30U * 10U * 3500U)
        << "the rows reached the database file";
    EXPECT_LT(wal_max, 60U * 4096U)
        << "300 pages were written; the log stays near a threshold and a round";
}

TEST_F(sqlite_database_test, a_reader_in_the_way_of_a_checkpoint_does_not_fail_writes) {
    // A reader on old frames keeps a checkpoint from copying them. Nothing may make the writer
    // wait for that reader: with a 100 ms busy timeout a writer held back behind it would fail
    // (the first version, a RESTART checkpoint, did so within a few rounds every time).
    const auto path = dir_.path() / "reader.db";
    auto opened = open_database("sqlite://" + path.string(),
                                {.size = 2, .busy_timeout_ms = 100, .checkpoint_pages = 8});
    ASSERT_TRUE(opened);
    auto& db = **opened;
    ASSERT_TRUE(
        db.run_sync([](connection& c) { return c.exec("CREATE TABLE t (x INTEGER, pad BLOB)"); }));
    sqlite_connection_factory factory(sqlite_options{.path = path.string(), .checkpoint_pages = 0});
    auto reader = factory.open();
    ASSERT_TRUE(reader);
    const auto write_round = [&] {
        return run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db.write(insert_ten_pages);
        });
    };
    // After every round a read transaction begins on the newest snapshot and stays open during
    // the next round, so the checkpoints the rounds ask for find it in the way.
    for (int round = 0; round < 40; ++round) {
        auto w = write_round();
        ASSERT_TRUE(w) << "round " << round << ": " << w.error().message;
        if (round > 0) {
            ASSERT_TRUE((*reader)->exec("COMMIT"));
        }
        ASSERT_TRUE((*reader)->exec("BEGIN"));
        ASSERT_TRUE((*reader)->exec("SELECT COUNT(*) FROM t"));
    }
    ASSERT_TRUE((*reader)->exec("COMMIT"));
    auto n = db.run_sync([](connection& c) { return c.exec("SELECT COUNT(*) FROM t"); });
    ASSERT_TRUE(n);
    EXPECT_EQ(n->rows.at(0).int64(0), 40 * 10);
}

const migration two_migrations[] = {
    {1, "accounts", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL);"},
    // Depends on 001: applied out of order, it would fail.
    {2, "seed",
     "INSERT INTO accounts (email) VALUES ('a@x'); CREATE INDEX accounts_email ON "
     "accounts (email);"},
};

TEST_F(sqlite_database_test, migrate_applies_in_order_records_versions_and_is_idempotent) {
    auto first = migrate(*db_, two_migrations);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, 2);
    EXPECT_EQ(count_rows("accounts"), 1);
    auto recorded =
        sync_exec("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    ASSERT_TRUE(recorded);
    ASSERT_EQ(recorded->rows.size(), 2u);
    EXPECT_EQ(recorded->rows[0].int64(0), 1);
    EXPECT_EQ(recorded->rows[0].text(1), "accounts");
    EXPECT_EQ(recorded->rows[1].int64(0), 2);
    EXPECT_EQ(recorded->rows[1].text(1), "seed");
    EXPECT_EQ(recorded->rows[1].text(2).size(), std::string("2025-01-01T00:00:00Z").size());

    auto second = migrate(*db_, two_migrations);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(*second, 0);
    EXPECT_EQ(count_rows("accounts"), 1) << "the seed must not run twice";
}

TEST_F(sqlite_database_test, a_failing_migration_rolls_back_and_is_not_recorded) {
    const migration list[] = {
        two_migrations[0],
        {2, "broken", "CREATE TABLE half (x INTEGER); INSERT INTO missing_table VALUES (1);"},
    };
    auto r = migrate(*db_, list);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("002_broken"), std::string::npos) << r.error().message;
    EXPECT_EQ(count_rows("schema_migrations"), 1);
    auto half = sync_exec("SELECT name FROM sqlite_master WHERE name = 'half'");
    ASSERT_TRUE(half);
    EXPECT_TRUE(half->rows.empty()) << "the failed migration's first statement was kept";
}

TEST_P(database_test, the_built_in_migrations_apply_once) {
    EXPECT_EQ(db_->kind(), engine_ == engine::sqlite ? dialect::sqlite : dialect::mysql);
    auto expected_count = static_cast<int>(migrations(db_->kind()).size());
    ASSERT_GT(expected_count, 0);
    auto first = migrate(*db_);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, expected_count);
    EXPECT_EQ(count_rows("schema_migrations"), expected_count);
    auto second = migrate(*db_);
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, 0);
}

TEST_P(database_test, ping_answers_true_on_a_working_database) {
    EXPECT_TRUE(run_coro([&]() { return db_->ping(); }));
}

TEST(open_database, rejects_an_unknown_scheme_naming_the_supported_ones) {
    auto r = open_database("bogus://x", {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("sqlite://"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "one line";
}

TEST(open_database, creates_the_parent_directories_of_an_absolute_path) {
    temp_dir dir;
    auto file = dir.path() / "nested" / "deeper" / "ticketon.db";
    auto r = open_database("sqlite://" + file.string(), {.size = 1});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(std::filesystem::exists(file));
    auto mode = (*r)->run_sync([](connection& c) { return c.exec("PRAGMA journal_mode"); });
    ASSERT_TRUE(mode);
    EXPECT_EQ(mode->rows.at(0).text(0), "wal");
    auto fk = (*r)->run_sync([](connection& c) { return c.exec("PRAGMA foreign_keys"); });
    ASSERT_TRUE(fk);
    EXPECT_EQ(fk->rows.at(0).int64(0), 1);
}

// A factory whose store is unreachable, to see how a failed checkout reaches the caller.
class failing_factory final : public connection_factory {
public:
    expected<std::unique_ptr<connection>> open() override {
        return std::unexpected(error{errc::io, "store unreachable"});
    }
};

TEST(database_pool, a_failed_checkout_is_an_error_or_an_exception_by_result_type) {
    database db(std::make_unique<failing_factory>(), {.size = 1});
    auto opened = db.open();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().message, "store unreachable");
    auto as_value = db.run_sync([](connection& c) { return c.exec("SELECT 1"); });
    ASSERT_FALSE(as_value);
    EXPECT_EQ(as_value.error().code, errc::io);
    EXPECT_THROW(db.run_sync([](connection&) { return 1; }), std::runtime_error);

    asio::io_context ioc;
    auto fut = asio::co_spawn(ioc, db.ping(), asio::use_future);
    ioc.run();
    EXPECT_FALSE(fut.get());
}

}  // namespace
}  // namespace tkt::db

namespace tkt::db {
namespace {

// MariaDB's own behaviour under the port: a deadlock's victim is rolled back whole by InnoDB,
// and transact() / write() run it again instead of failing the request.
class mariadb_database_test : public ::testing::Test, protected database_fixture {
protected:
    void SetUp() override {
        open_engine(engine::mariadb);
        ASSERT_TRUE(sync_exec("CREATE TABLE d (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"));
        ASSERT_TRUE(sync_exec("INSERT INTO d (id, n) VALUES (1, 0), (2, 0)"));
        ASSERT_TRUE(sync_exec("CREATE TABLE heavy (x INTEGER PRIMARY KEY)"));
    }

    // Runs `submit(body)` while another connection deadlocks with the body's first run: the
    // other one locks row 2 (after enough other rows that InnoDB picks the body as the lighter
    // victim), the body locks row 1 and waits for row 2, the other asks for row 1. Returns how
    // many times the body ran.
    template <class Submit>
    int deadlock_first_run(Submit submit) {
        auto url = parse_mysql_url(scratch_->url());
        EXPECT_TRUE(url);
        mysql_connection_factory factory(mysql_options{.url = *url});
        auto other = factory.open();
        EXPECT_TRUE(other) << other.error().message;
        EXPECT_TRUE((*other)->begin());
        for (int i = 0; i < 50; ++i) {
            EXPECT_TRUE((*other)->exec("INSERT INTO heavy (x) VALUES (?)", {std::int64_t{i}}));
        }
        EXPECT_TRUE((*other)->exec("UPDATE d SET n = n + 1 WHERE id = 2"));
        std::atomic<int> runs = 0;
        std::promise<void> row_one_locked;
        std::thread closer([&, locked = row_one_locked.get_future()]() mutable {
            locked.wait();
            // Long enough for the body to be waiting on row 2.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            auto r = (*other)->exec("UPDATE d SET n = n + 10 WHERE id = 1");
            EXPECT_TRUE(r) << "the heavier transaction survives: " << r.error().message;
            EXPECT_TRUE((*other)->commit());
        });
        auto body = [&](connection& c) -> expected<void> {
            const int run = ++runs;
            if (auto w = c.exec("UPDATE d SET n = n + 100 WHERE id = 1"); !w)
                return std::unexpected(w.error());
            if (run == 1) row_one_locked.set_value();
            if (auto w = c.exec("UPDATE d SET n = n + 1000 WHERE id = 2"); !w)
                return std::unexpected(w.error());
            return {};
        };
        auto outcome = submit(body);
        closer.join();
        EXPECT_TRUE(outcome) << outcome.error().message;
        auto rows = sync_exec("SELECT n FROM d ORDER BY id");
        EXPECT_TRUE(rows);
        if (rows && rows->rows.size() == 2) {
            EXPECT_EQ(rows->rows[0].int64(0), 110) << "both transactions' row 1, once each";
            EXPECT_EQ(rows->rows[1].int64(0), 1001) << "both transactions' row 2, once each";
        }
        EXPECT_EQ(count_rows("heavy"), 50);
        return runs.load();
    }
};

TEST_F(mariadb_database_test, transact_runs_a_deadlock_victim_again) {
    const int runs = deadlock_first_run([&](auto& body) {
        return run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db_->transact([&body](connection& c) { return body(c); });
        });
    });
    EXPECT_EQ(runs, 2) << "rolled back by InnoDB once, then committed";
}

TEST_F(mariadb_database_test, write_runs_a_batch_rolled_back_by_a_deadlock_again) {
    const auto batches_before = db_->writes().batches;
    const int runs = deadlock_first_run([&](auto& body) {
        return run_coro([&]() -> asio::awaitable<expected<void>> {
            co_return co_await db_->write([&body](connection& c) { return body(c); });
        });
    });
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(db_->writes().batches, batches_before + 1) << "one batch, run twice";
}

TEST_F(mariadb_database_test, a_deadlock_victim_refuses_statements_until_rolled_back) {
    auto url = parse_mysql_url(scratch_->url());
    ASSERT_TRUE(url);
    mysql_connection_factory factory(mysql_options{.url = *url});
    auto a = factory.open();
    auto b = factory.open();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE((*a)->begin());
    ASSERT_TRUE((*b)->begin());
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE((*b)->exec("INSERT INTO heavy (x) VALUES (?)", {std::int64_t{i}}));
    }
    ASSERT_TRUE((*a)->exec("UPDATE d SET n = 1 WHERE id = 1"));
    ASSERT_TRUE((*b)->exec("UPDATE d SET n = 2 WHERE id = 2"));
    std::thread heavier([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_TRUE((*b)->exec("UPDATE d SET n = 2 WHERE id = 1"));
        EXPECT_TRUE((*b)->commit());
    });
    auto victim = (*a)->exec("UPDATE d SET n = 1 WHERE id = 2");
    heavier.join();
    ASSERT_FALSE(victim);
    EXPECT_EQ(victim.error().code, errc::busy);
    EXPECT_EQ((*a)->deadlocks(), 1U);
    EXPECT_TRUE((*a)->transaction_open()) << "the caller must still roll back";
    auto after = (*a)->exec("INSERT INTO heavy (x) VALUES (999)");
    ASSERT_FALSE(after) << "nothing may run in autocommit mode after the server's rollback";
    EXPECT_EQ(after.error().code, errc::busy);
    EXPECT_TRUE((*a)->rollback());
    EXPECT_FALSE((*a)->transaction_open());
    EXPECT_EQ(count_rows("heavy WHERE x = 999"), 0);
    EXPECT_TRUE((*a)->exec("SELECT 1")) << "usable again after the rollback";
}

// The server ends a connection (a restart, a timeout, KILL): its statement fails with `io`, and
// the connection opens again by itself on next use — outside a transaction only; inside one the
// transaction is gone, which the caller learns before anything else runs.
TEST_F(mariadb_database_test,
       a_lost_connection_fails_its_statement_and_reconnects_outside_a_transaction) {
    auto url = parse_mysql_url(scratch_->url());
    ASSERT_TRUE(url);
    mysql_connection_factory factory(mysql_options{.url = *url});
    auto opened = factory.open();
    ASSERT_TRUE(opened);
    auto& c = **opened;
    auto kill = [&] {
        auto id = c.exec("SELECT CONNECTION_ID()");
        ASSERT_TRUE(id);
        testing::admin_exec(testing::shared_mariadb(),
                            fmt::format("KILL CONNECTION {}", id->rows.at(0).int64(0)));
    };
    kill();
    auto lost = c.exec("SELECT 1");
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, errc::unavailable) << lost.error().message;
    auto back = c.exec("SELECT COUNT(*) FROM d");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->rows.at(0).int64(0), 2);

    // Gone while idle for more than a second (a server restart between two requests): the
    // next statement pings first, reconnects and succeeds.
    kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto after_idle = c.exec("SELECT COUNT(*) FROM d");
    ASSERT_TRUE(after_idle) << after_idle.error().message;
    EXPECT_EQ(after_idle->rows.at(0).int64(0), 2);

    ASSERT_TRUE(c.begin());
    ASSERT_TRUE(c.exec("UPDATE d SET n = 5 WHERE id = 1"));
    kill();
    auto in_transaction = c.exec("UPDATE d SET n = 6 WHERE id = 2");
    ASSERT_FALSE(in_transaction);
    EXPECT_EQ(in_transaction.error().code, errc::unavailable);
    EXPECT_TRUE(c.transaction_open());
    EXPECT_FALSE(c.exec("SELECT 1")) << "refused until the caller rolls back";
    EXPECT_FALSE(c.commit()) << "a lost transaction cannot commit";
    EXPECT_TRUE(c.rollback());
    auto rows = c.exec("SELECT n FROM d ORDER BY id");
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(rows->rows.at(0).int64(0), 0) << "the lost transaction's update is gone";
    EXPECT_EQ(rows->rows.at(1).int64(0), 0);
}

}  // namespace
}  // namespace tkt::db
