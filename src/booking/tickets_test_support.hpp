#pragma once
// Test fixture shared by the tickets service and handler tests: a migrated SQLite database in a
// temp dir, rows inserted with plain SQL (users, events, orders, tickets), an auth service whose
// tokens the handlers accept, and a tickets_service whose event managers come from the events
// table as the test wrote it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "auth/jwt.hpp"
#include "auth/service.hpp"
#include "booking/tickets_service.hpp"
#include "common/encoding.hpp"
#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"

namespace tkt::booking::testing {

inline constexpr std::string_view test_issuer = "ticketon-test";

class tickets_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = db::open_database("sqlite://" + (dir_ / "test.db").string(),
                                        db::pool_options{.size = 4, .busy_timeout_ms = 10000});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto migrated = db::migrate(*db_);
        ASSERT_TRUE(migrated) << migrated.error().message;
        auto signer = load_or_create_ticket_signer(dir_);
        ASSERT_TRUE(signer) << signer.error();
        auth_ = std::make_unique<auth::service>(
            *db_, clock_, auth::make_keyring(keys()),
            auth::service_options{.issuer = std::string{test_issuer},
                                  .access_ttl_seconds = 3600,
                                  .refresh_ttl_seconds = 3600,
                                  .lockout_threshold = 5,
                                  .lockout_seconds = 300,
                                  .cost = auth::password_cost::min});
        tickets_ = std::make_unique<tickets_service>(
            *db_, clock_, *signer, [this](std::int64_t event_id) { return manager_of(event_id); });
    }

    void TearDown() override {
        tickets_.reset();
        auth_.reset();
        db_.reset();
    }

    static auth::jwt_key keys() { return auth::jwt_key{"test", std::string(32, 'k')}; }

    // Runs one coroutine to completion on the fixture's io_context.
    template <class T>
    T await(boost::asio::awaitable<T> op) {
        auto done = boost::asio::co_spawn(io_, std::move(op), boost::asio::use_future);
        io_.restart();
        io_.run();
        return done.get();
    }

    void exec(std::string_view sql, std::initializer_list<db::value> params) {
        const std::vector<db::value> copy(params);
        auto r = db_->run_sync([&](db::connection& c) { return c.exec(sql, copy); });
        ASSERT_TRUE(r) << r.error().message << " in " << sql;
    }

    auth::principal add_user(auth::role r) {
        const auto n = ++serial_;
        exec(
            "INSERT INTO users (email, name, password_hash, role, created_at, updated_at) "
            "VALUES (?, ?, 'x', ?, '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z')",
            {"u" + std::to_string(n) + "@example.com", std::string{"User"},
             std::string{auth::to_string(r)}});
        auto id =
            db_->run_sync([](db::connection& c) { return c.exec("SELECT MAX(id) FROM users"); });
        EXPECT_TRUE(id);
        return auth::principal{.user_id = id->rows.at(0).int64(0), .role = r};
    }

    std::int64_t add_event(std::int64_t manager_id) {
        exec(
            "INSERT INTO events (manager_id, title, description, venue, starts_at, sales_open_at, "
            "seating, status, layout_json, created_at, updated_at) VALUES (?, 'Show', '', 'Hall', "
            "'2027-06-01T19:00:00Z', '2027-05-01T10:00:00Z', 'RESERVED', 'ON_SALE', '{}', "
            "'2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z')",
            {manager_id});
        auto id =
            db_->run_sync([](db::connection& c) { return c.exec("SELECT MAX(id) FROM events"); });
        EXPECT_TRUE(id);
        const auto event_id = id->rows.at(0).int64(0);
        const std::scoped_lock lock(managers_mutex_);
        managers_[event_id] = manager_id;
        return event_id;
    }

    // A PAID order of `user_id` with one ticket on `seat`; returns the ticket row as stored.
    ticket_row add_ticket(std::int64_t user_id, std::int64_t event_id, std::string seat,
                          std::string created_at = "2027-05-01T10:05:00Z",
                          std::string status = "VALID") {
        const auto n = ++serial_;
        const auto order_id = "ord-" + std::to_string(n);
        exec(
            "INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, quantity, "
            "amount, expires_at, confirming_at, created_at, updated_at) VALUES (?, ?, ?, ?, "
            "'PAID', ?, 1, "
            "50000, 0, 1, ?, ?)",
            {order_id, "hold-" + std::to_string(n), event_id, user_id, "[\"" + seat + "\"]",
             created_at, created_at});
        ticket_row t{.id = "tkt-" + std::to_string(n) + "_" + hex_encode(random_bytes(4)),
                     .order_id = order_id,
                     .event_id = event_id,
                     .user_id = user_id,
                     .seat = seat,
                     .zone = {},
                     .grade = "VIP",
                     .price = 50000,
                     .code = {},
                     .status = status,
                     .used_at = {},
                     .created_at = created_at};
        t.code = tickets_->signer().sign(t.id, event_id);
        exec(
            "INSERT INTO tickets (id, order_id, event_id, user_id, seat, zone, grade, price, code, "
            "status, used_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, ?)",
            {t.id, t.order_id, t.event_id, t.user_id, t.seat, t.grade, t.price, t.code, t.status,
             t.created_at});
        return t;
    }

    std::string token_for(const auth::principal& who) const {
        const auto now = unix_seconds(clock_.now());
        return auth::sign(auth::claims{.sub = std::to_string(who.user_id),
                                       .role = std::string{auth::to_string(who.role)},
                                       .iat = now,
                                       .exp = now + 3600,
                                       .iss = std::string{test_issuer}},
                          auth::make_keyring(keys()));
    }

    tkt::testing::temp_dir dir_{"tickets"};
    manual_clock clock_;
    boost::asio::io_context io_;
    std::unique_ptr<db::database> db_;
    std::unique_ptr<auth::service> auth_;
    std::unique_ptr<tickets_service> tickets_;
    int serial_ = 0;

private:
    std::optional<std::int64_t> manager_of(std::int64_t event_id) const {
        const std::scoped_lock lock(managers_mutex_);
        const auto it = managers_.find(event_id);
        if (it == managers_.end()) return std::nullopt;
        return it->second;
    }

    mutable std::mutex managers_mutex_;
    std::map<std::int64_t, std::int64_t> managers_;
};

}  // namespace tkt::booking::testing
