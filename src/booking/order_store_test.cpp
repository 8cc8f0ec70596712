// The order store against a real SQLite database: holds found by their derived order id, and
// migration 006 (orders rebuilt WITHOUT ROWID) on a database that already sells.
#include "booking/order_store.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"

namespace tkt::booking {
namespace {

const std::string now_text = "2026-11-30T09:00:00Z";

class OrderStore : public ::testing::Test {
protected:
    // A database migrated up to `version` (every migration when 0).
    void open(int version = 0) {
        auto opened = db::open_database("sqlite://" + (dir_.path() / "orders.db").string(), {.size = 1});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto all = db::migrations(db::dialect::sqlite);
        auto migrated = version == 0 ? db::migrate(*db_) : db::migrate(*db_, all.first(static_cast<std::size_t>(version)));
        ASSERT_TRUE(migrated) << migrated.error().message;
        exec("INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
             "VALUES (1, 'mina@example.com', 'Mina', 'x', ?, ?)",
             {now_text, now_text});
        exec("INSERT INTO events (id, manager_id, title, description, venue, starts_at, sales_open_at, seating, "
             "layout_json, created_at, updated_at) VALUES (1, 1, 'Show', '', 'Hall', ?, ?, 'RESERVED', '{}', ?, ?)",
             {now_text, now_text, now_text, now_text});
    }

    db::expected<db::query_result> try_exec(const std::string& sql, std::initializer_list<db::value> params = {}) {
        return db_->run_sync([&](db::connection& c) { return c.exec(sql, params); });
    }
    db::query_result exec(const std::string& sql, std::initializer_list<db::value> params = {}) {
        auto r = try_exec(sql, params);
        EXPECT_TRUE(r) << sql << ": " << (r ? "" : r.error().message);
        return r ? *r : db::query_result{};
    }

    order order_with(std::string id, std::string hold_id) {
        order o;
        o.id = std::move(id);
        o.hold_id = std::move(hold_id);
        o.event_id = 1;
        o.user_id = 1;
        o.items.seats = {"A-1-1"};
        o.amount = 150'000;
        o.expires_at = 1'800'000'000;
        return o;
    }
    void insert(const order& o) {
        auto r = db_->run_sync([&](db::connection& c) { return store::insert_order(c, o, now_text); });
        ASSERT_TRUE(r) << r.error().message;
    }
    std::optional<store::hold_row> hold(const std::string& hold_id) {
        auto r = db_->run_sync([&](db::connection& c) { return store::find_hold(c, hold_id); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : std::nullopt;
    }
    std::optional<order> order_by_hold(const std::string& hold_id) {
        auto r = db_->run_sync([&](db::connection& c) { return store::find_order_by_hold(c, hold_id); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : std::nullopt;
    }

    tkt::testing::temp_dir dir_{"order-store"};
    std::unique_ptr<db::database> db_;
};

TEST_F(OrderStore, AHoldIdNamesItsOrderWithTheOtherPrefix) {
    EXPECT_EQ(store::order_id_of_hold("hld_0VgmOuhMr0fs6AkGQqDuIy"), "ord_0VgmOuhMr0fs6AkGQqDuIy");
    EXPECT_EQ(store::order_id_of_hold("hold-7"), "");
    EXPECT_EQ(store::order_id_of_hold(""), "");
}

TEST_F(OrderStore, AHoldIsFoundThroughItsOrdersIdAndOnlyWithItsOwnId) {
    open();
    insert(order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy"));
    auto found = hold("hld_0VgmOuhMr0fs6AkGQqDuIy");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->order_id, "ord_0VgmOuhMr0fs6AkGQqDuIy");
    EXPECT_EQ(found->user_id, 1);
    EXPECT_EQ(found->status, order_status::pending_payment);
    auto o = order_by_hold("hld_0VgmOuhMr0fs6AkGQqDuIy");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->id, "ord_0VgmOuhMr0fs6AkGQqDuIy");
    EXPECT_FALSE(hold("hld_0VgmOuhMr0fs6AkGQqDuIz")) << "another hold id derives another order id";
    EXPECT_FALSE(hold("ord_0VgmOuhMr0fs6AkGQqDuIy")) << "an order id is no hold id";
    EXPECT_FALSE(hold(""));
}

TEST_F(OrderStore, TwoOrdersCannotShareAnOlderHoldId) {
    open();
    insert(order_with("ord-1", "hold-1"));
    auto again = db_->run_sync([&](db::connection& c) {
        return store::insert_order(c, order_with("ord-2", "hold-1"), now_text);
    });
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, db::errc::constraint_unique);
}

// Migration 006 rebuilds `orders` under the rows that reference it: every order, its payment
// and its tickets stay, holds made before it are still found by their own ids, new holds by
// their derived ones, and foreign keys hold as before.
TEST_F(OrderStore, MigrationSixKeepsOrdersPaymentsTicketsAndOlderHoldIds) {
    open(5);
    exec("INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, quantity, amount, expires_at, "
         "confirming_at, created_at, updated_at) VALUES "
         "('ord_older', 'hld_unrelated', 1, 1, 'PAID', '[\"A-1-1\"]', 1, 150000, 0, 1, ?, ?), "
         "('ord_live', 'hld_live_other', 1, 1, 'PENDING_PAYMENT', '[\"A-1-2\"]', 1, 150000, 1800000000, NULL, ?, ?)",
         {now_text, now_text, now_text, now_text});
    exec("INSERT INTO payments (payment_key, order_id, amount, status, created_at) "
         "VALUES ('pay_1', 'ord_older', 150000, 'DONE', ?)",
         {now_text});
    exec("INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, created_at) "
         "VALUES ('tkt_1', 'ord_older', 1, 1, 'A-1-1', 'VIP', 150000, 'code-1', 'VALID', ?)",
         {now_text});

    auto migrated = db::migrate(*db_);
    ASSERT_TRUE(migrated) << migrated.error().message;
    EXPECT_EQ(*migrated, static_cast<int>(db::migrations(db::dialect::sqlite).size()) - 5);

    auto schema = exec("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'orders'");
    ASSERT_EQ(schema.rows.size(), 1U);
    EXPECT_NE(schema.rows[0].text(0).find("WITHOUT ROWID"), std::string::npos);
    EXPECT_EQ(exec("SELECT COUNT(*) FROM orders").rows[0].int64(0), 2);
    EXPECT_EQ(exec("SELECT status FROM orders WHERE id = 'ord_older'").rows[0].text(0), "PAID");
    EXPECT_EQ(exec("SELECT COUNT(*) FROM payments WHERE order_id = 'ord_older'").rows[0].int64(0), 1);
    EXPECT_EQ(exec("SELECT COUNT(*) FROM tickets WHERE order_id = 'ord_older'").rows[0].int64(0), 1);
    EXPECT_TRUE(exec("PRAGMA foreign_key_check").rows.empty());

    auto older = hold("hld_live_other");
    ASSERT_TRUE(older) << "a hold made before the migration is still found by its id";
    EXPECT_EQ(older->order_id, "ord_live");
    insert(order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy"));
    ASSERT_TRUE(hold("hld_0VgmOuhMr0fs6AkGQqDuIy"));

    auto orphan = try_exec("INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
                           "created_at) VALUES ('tkt_2', 'ord_missing', 1, 1, 'A-1-3', 'VIP', 1, 'code-2', 'VALID', ?)",
                           {now_text});
    EXPECT_FALSE(orphan) << "foreign keys still refuse a ticket of no order";
    auto dropped = try_exec("DELETE FROM orders WHERE id = 'ord_older'");
    EXPECT_FALSE(dropped) << "nor may an order with tickets go";
}

}  // namespace
}  // namespace tkt::booking
