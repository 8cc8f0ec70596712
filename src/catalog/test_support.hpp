#pragma once
// Shared by the catalog's unit tests only (no library source includes it): valid event bodies,
// a fixture with a migrated database of each engine (a SQLite file in a temp dir, a database of
// its own on the run's MariaDB; cases end in /sqlite and /mariadb), the memory inventory, a
// manual clock, and a way to run a coroutine to completion.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "auth/service.hpp"
#include "catalog/event.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "inventory/memory_inventory.hpp"
#include "store_engines.hpp"

namespace tkt::catalog::testing {

// manual_clock's default start: 2027-01-15T08:00:00Z.
inline constexpr std::string_view t0 = "2027-01-15T08:00:00Z";

// A valid RESERVED body: sections A (VIP, 2 rows × 10) and B (R, 3 rows × 20); sales open one
// hour after t0, the show a week later.
inline boost::json::object reserved_body() {
    return boost::json::parse(R"({
        "title": "Spring Concert", "description": "An evening of strings", "venue": "Arts Hall",
        "location": "Seoul", "category": "CONCERT", "ageLimit": 7,
        "thumbnailUrl": "https://img.example.com/a.png",
        "startsAt": "2027-01-22T19:00:00Z", "salesOpenAt": "2027-01-15T09:00:00Z",
        "seating": "RESERVED",
        "grades": [{"name": "VIP", "price": 150000}, {"name": "R", "price": 99000}],
        "sections": [
            {"name": "A", "grade": "VIP", "rows": [{"row": "1", "seats": 10}, {"row": "2", "seats": 10}]},
            {"name": "B", "grade": "R", "rows": [{"row": "1", "seats": 20}, {"row": "2", "seats": 20},
                                                 {"row": "3", "seats": 20}]}
        ],
        "maxPerUser": 4, "holdSeconds": 300
    })")
        .as_object();
}

// A valid GENERAL body: one standing zone of 500 at 77000.
inline boost::json::object general_body() {
    return boost::json::parse(R"({
        "title": "Club Night", "venue": "Warehouse", "location": "Busan", "category": "FAN_MEETING",
        "startsAt": "2027-02-01T20:00:00Z", "salesOpenAt": "2027-01-15T09:00:00Z",
        "salesCloseAt": "2027-01-31T00:00:00Z", "seating": "GENERAL",
        "grades": [{"name": "STANDING", "price": 77000}],
        "zones": [{"name": "Floor", "grade": "STANDING", "capacity": 500}],
        "waitingRoom": {"enabled": true, "admitPerSecond": 20, "maxActive": 100, "entryTtlSeconds": 300}
    })")
        .as_object();
}

// Runs `a` on `io` to completion and returns its value (rethrowing its exception).
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
    auto done = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
    io.restart();
    io.run();
    return done.get();
}

// Each test file that derives from it instantiates its suite on both engines:
//   INSTANTIATE_TEST_SUITE_P(on, Suite, tkt::testing::all_db_engines(),
//                            tkt::testing::db_engine_name);
class db_fixture : public ::testing::TestWithParam<tkt::testing::db_engine> {
protected:
    void SetUp() override {
        clock_.set(*parse_rfc3339(t0));
        auto opened = database_.open(db::pool_options{.size = 2});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto migrated = db::migrate(*db_);
        ASSERT_TRUE(migrated) << migrated.error().message;
    }
    void TearDown() override { db_.reset(); }

    // A user in the database with that role; returns its principal.
    auth::principal make_user(std::string_view email, auth::role r) {
        auto u = auth::create_user(*db_, email, "password123", "Someone", r,
                                   auth::password_cost::min, clock_);
        EXPECT_TRUE(u) << u.error().detail;
        return auth::principal{.user_id = u ? u->id : 0, .role = r};
    }

    tkt::testing::engine_database database_{GetParam()};
    manual_clock clock_;
    boost::asio::io_context io_;
    std::unique_ptr<db::database> db_;
    inventory::memory_inventory inventory_;
};

}  // namespace tkt::catalog::testing
