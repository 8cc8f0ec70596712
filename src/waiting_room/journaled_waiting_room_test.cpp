// The waiting room's journal: what it writes survives a restart (load() into a fresh memory
// engine) and is put back where an engine lost it, on each database engine (SQLite, and the
// run's MariaDB, whose statements are its own dialect's); and a database that stays busy
// (SQLite's write lock held by another process) neither loses a change nor lets a join be
// answered that a restart would forget.
#include "waiting_room/journaled_waiting_room.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "store_engines.hpp"
#include "waiting_room/conformance_support.hpp"
#include "waiting_room/memory_waiting_room.hpp"

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

using conformance::run;
using conformance::settings;
using conformance::t0;

using tkt::testing::db_engine;

class JournaledRoom : public ::testing::TestWithParam<db_engine> {
protected:
    void SetUp() override {
        // A short busy timeout so that a locked database fails its writes quickly.
        auto opened = database_.open({.size = 1, .busy_timeout_ms = 50});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        ASSERT_TRUE(db::migrate(*db_));
        // Event 1 (its manager, user 1) and its room.
        for (const char* sql :
             {"INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES "
              "(1, 'm@example.com', 'M', 'x', 't', 't')",
              "INSERT INTO events (id, manager_id, title, description, venue, starts_at, "
              "sales_open_at, seating, layout_json, created_at, updated_at) VALUES (1, 1, 'E', "
              "'', 'V', 't', 't', 'GENERAL', '{}', 't', 't')",
              "INSERT INTO queue_rooms (event_id) VALUES (1)"}) {
            auto done = db_->run_sync([sql](db::connection& c) { return c.exec(sql); });
            ASSERT_TRUE(done) << done.error().message;
        }
        rooms_ = std::make_unique<journaled_waiting_room>(memory_, *db_);
    }
    void TearDown() override {
        unlock();
        rooms_.reset();
        if (db_) db_->shutdown();
    }

    // Another process takes the database's write lock and keeps it (SQLite).
    void lock() {
        ASSERT_EQ(sqlite3_open(database_.sqlite_path().c_str(), &locker_), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(locker_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    void unlock() {
        if (!locker_) return;
        sqlite3_exec(locker_, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(locker_);
        locker_ = nullptr;
    }

    // The rooms as a restarted node sees them.
    std::unique_ptr<memory_waiting_room> restarted(time_point now) {
        auto fresh = std::make_unique<memory_waiting_room>();
        journaled_waiting_room loader(*fresh, *db_);
        EXPECT_TRUE(loader.load(now));
        return fresh;
    }

    tkt::testing::engine_database database_{GetParam()};
    std::unique_ptr<db::database> db_;
    memory_waiting_room memory_;
    std::unique_ptr<journaled_waiting_room> rooms_;
    sqlite3* locker_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(on, JournaledRoom, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

// The cases that hold SQLite's write lock from another connection.
class BusyJournal : public JournaledRoom {};
INSTANTIATE_TEST_SUITE_P(on, BusyJournal, ::testing::Values(db_engine::sqlite),
                         tkt::testing::db_engine_name);

TEST_P(JournaledRoom, a_restart_keeps_every_seq_the_admissions_and_the_head) {
    run(rooms_->open(1, 7));
    for (user_id u = 1; u <= 6; ++u) EXPECT_EQ(run(rooms_->join(1, u, t0)).seq, u);
    run(rooms_->tick(1, t0, settings(20, 10)));
    run(rooms_->tick(1, t0 + 100ms, settings(20, 10)));  // admits 1 and 2
    EXPECT_EQ(run(rooms_->leave(1, 5)), std::optional<seq_t>{5});
    EXPECT_EQ(run(rooms_->join(1, 5, t0 + 200ms)).seq, 7);  // again: the back of the line

    auto fresh = restarted(t0 + 1s);
    auto stats = run(fresh->stats(1));
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->head, 2);
    EXPECT_EQ(stats->last_seq, 7);
    EXPECT_EQ(stats->active, 2);
    for (user_id u : {1, 2, 3, 4, 6}) EXPECT_EQ(run(fresh->status(1, u, t0 + 1s))->seq, u);
    EXPECT_EQ(run(fresh->status(1, 5, t0 + 1s))->seq, 7);
    EXPECT_TRUE(run(fresh->admitted(1, 1, 1, t0 + 1s)));
    EXPECT_FALSE(run(fresh->admitted(1, 3, 3, t0 + 1s)));
    EXPECT_EQ(rooms_->backlog(), 0u);
}

TEST_P(BusyJournal, a_join_the_database_cannot_record_is_undone_and_refused) {
    run(rooms_->open(1, 7));
    EXPECT_EQ(run(rooms_->join(1, 1, t0)).seq, 1);
    lock();
    EXPECT_THROW(run(rooms_->join(1, 2, t0)), unavailable);
    EXPECT_FALSE(run(memory_.status(1, 2, t0)));    // not in the room it was refused
    EXPECT_EQ(run(rooms_->join(1, 1, t0)).seq, 1);  // already in: nothing to write, answered
    unlock();
    EXPECT_EQ(run(rooms_->join(1, 2, t0)).seq, 3);  // a seq is never reused
    auto fresh = restarted(t0 + 1s);
    EXPECT_EQ(run(fresh->status(1, 2, t0 + 1s))->seq, 3);
    EXPECT_EQ(run(fresh->stats(1))->waiting, 2);
}

TEST_P(BusyJournal, changes_a_busy_database_refused_are_written_by_a_later_tick) {
    run(rooms_->open(1, 7));
    for (user_id u = 1; u <= 4; ++u) run(rooms_->join(1, u, t0));
    run(rooms_->tick(1, t0, settings(20, 10)));
    lock();
    run(rooms_->tick(1, t0 + 100ms, settings(20, 10)));            // admits 1 and 2: not written
    EXPECT_EQ(run(rooms_->leave(1, 4)), std::optional<seq_t>{4});  // not written either
    EXPECT_EQ(rooms_->backlog(), 4u);  // the room's row, two admissions, one removal
    {
        // A restart now would forget them (memory is ahead of the journal) ...
        auto fresh = restarted(t0 + 1s);
        EXPECT_EQ(run(fresh->stats(1))->head, 0);
        EXPECT_TRUE(run(fresh->status(1, 4, t0 + 1s)));
    }
    unlock();
    // ... until the room's next tick, which changes nothing itself but writes the backlog.
    auto out = run(rooms_->tick(1, t0 + 110ms, settings(20, 10)));
    EXPECT_EQ(out.head, out.head_before);
    EXPECT_EQ(rooms_->backlog(), 0u);
    auto fresh = restarted(t0 + 1s);
    auto stats = run(fresh->stats(1));
    EXPECT_EQ(stats->head, 2);
    EXPECT_EQ(stats->active, 2);
    EXPECT_TRUE(run(fresh->admitted(1, 2, 2, t0 + 1s)));
    EXPECT_FALSE(run(fresh->status(1, 4, t0 + 1s)));
    EXPECT_EQ(run(fresh->status(1, 3, t0 + 1s))->seq, 3);
}

TEST_P(JournaledRoom, one_room_is_put_back_only_where_the_engine_lost_it) {
    run(rooms_->open(1, 7));
    for (user_id u = 1; u <= 3; ++u) run(rooms_->join(1, u, t0));
    run(rooms_->tick(1, t0, settings(20, 10)));
    run(rooms_->tick(1, t0 + 100ms, settings(20, 10)));           // admits 1 and 2
    EXPECT_FALSE(run(rooms_->restore_room(1, t0 + 1s)).value());  // the engine has it

    memory_waiting_room lost;  // an engine that lost every room
    journaled_waiting_room journal(lost, *db_);
    EXPECT_TRUE(run(journal.restore_room(1, t0 + 1s)).value());
    EXPECT_FALSE(run(journal.restore_room(1, t0 + 1s)).value());
    EXPECT_FALSE(run(journal.restore_room(2, t0 + 1s)).value());  // never journaled
    EXPECT_EQ(run(lost.stats(1))->head, 2);
    EXPECT_EQ(run(lost.status(1, 3, t0 + 1s))->seq, 3);
    EXPECT_TRUE(run(lost.admitted(1, 2, 2, t0 + 1s)));

    memory_waiting_room empty;
    journaled_waiting_room all(empty, *db_);
    EXPECT_EQ(run(all.restore_all(t0 + 1s, restore_mode::only_if_absent)).value(), 1u);
    EXPECT_EQ(run(all.restore_all(t0 + 1s, restore_mode::only_if_absent)).value(), 0u);
    EXPECT_EQ(run(empty.stats(1))->last_seq, 3);
}

}  // namespace
}  // namespace tkt::waiting_room
