// The order store against real databases: holds found by their derived order id, the money
// moves, the one live ticket per seat, the payment and idempotency upserts — on SQLite and on
// MariaDB alike (cases ending in /sqlite and /mariadb) — and, on SQLite, migrations 006 (orders
// rebuilt WITHOUT ROWID) and 007 (CHECKs without IN lists) on a database that already sells and
// the query plans of the writes every hold, release and ticket makes.
#include "booking/order_store.hpp"

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "store_engines.hpp"

namespace tkt::booking {
namespace {

const std::string now_text = "2026-11-30T09:00:00Z";

// Passes every call through to a real connection and keeps each statement with its parameters,
// so a test can ask SQLite how it runs exactly what the store sent.
class recording_connection final : public db::connection {
public:
    explicit recording_connection(db::connection& inner) : inner_(inner) {}
    db::expected<db::query_result> exec(std::string_view sql,
                                        std::span<const db::value> params) override {
        statements.emplace_back(std::string(sql),
                                std::vector<db::value>(params.begin(), params.end()));
        return inner_.exec(sql, params);
    }
    db::expected<void> exec_script(std::string_view sql) override {
        return inner_.exec_script(sql);
    }
    db::expected<void> begin() override { return inner_.begin(); }
    db::expected<void> commit() override { return inner_.commit(); }
    db::expected<void> rollback() override { return inner_.rollback(); }
    db::dialect kind() const override { return inner_.kind(); }
    bool transaction_open() const override { return inner_.transaction_open(); }
    std::int64_t total_changes() const override { return inner_.total_changes(); }

    std::vector<std::pair<std::string, std::vector<db::value>>> statements;

private:
    db::connection& inner_;
};

using tkt::testing::db_engine;

class OrderStore : public ::testing::Test {
protected:
    // A database migrated up to `version` (every migration when 0).
    void open(int version = 0) {
        if (database_ == nullptr) {
            database_ = std::make_unique<tkt::testing::engine_database>(engine());
        }
        auto opened = database_->open({.size = 1});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto all = db::migrations(db_->kind());
        auto migrated = version == 0
                            ? db::migrate(*db_)
                            : db::migrate(*db_, all.first(static_cast<std::size_t>(version)));
        ASSERT_TRUE(migrated) << migrated.error().message;
        exec(
            "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
            "VALUES (1, 'mina@example.com', 'Mina', 'x', ?, ?)",
            {now_text, now_text});
        exec(
            "INSERT INTO events (id, manager_id, title, description, venue, starts_at, "
            "sales_open_at, seating, "
            "layout_json, created_at, updated_at) VALUES (1, 1, 'Show', '', 'Hall', ?, ?, "
            "'RESERVED', '{}', ?, ?)",
            {now_text, now_text, now_text, now_text});
    }

    db::expected<db::query_result> try_exec(const std::string& sql,
                                            std::initializer_list<db::value> params = {}) {
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
        auto r =
            db_->run_sync([&](db::connection& c) { return store::insert_order(c, o, now_text); });
        ASSERT_TRUE(r) << r.error().message;
    }
    std::optional<store::hold_row> hold(const std::string& hold_id) {
        auto r = db_->run_sync([&](db::connection& c) { return store::find_hold(c, hold_id); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : std::nullopt;
    }
    std::optional<order> order_by_hold(const std::string& hold_id) {
        auto r =
            db_->run_sync([&](db::connection& c) { return store::find_order_by_hold(c, hold_id); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : std::nullopt;
    }

    // SQLite, unless a parameterized fixture below chooses.
    virtual db_engine engine() const { return db_engine::sqlite; }

    std::unique_ptr<tkt::testing::engine_database> database_;  // before db_: outlives it
    std::unique_ptr<db::database> db_;
};

// The cases every engine must pass alike.
class OrderStoreOn : public OrderStore, public ::testing::WithParamInterface<db_engine> {
protected:
    db_engine engine() const override { return GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(on, OrderStoreOn, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

TEST_F(OrderStore, AHoldIdNamesItsOrderWithTheOtherPrefix) {
    EXPECT_EQ(store::order_id_of_hold("hld_0VgmOuhMr0fs6AkGQqDuIy"), "ord_0VgmOuhMr0fs6AkGQqDuIy");
    EXPECT_EQ(store::order_id_of_hold("hold-7"), "");
    EXPECT_EQ(store::order_id_of_hold(""), "");
}

TEST_P(OrderStoreOn, AHoldIsFoundThroughItsOrdersIdAndOnlyWithItsOwnId) {
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

TEST_P(OrderStoreOn, TwoOrdersCannotShareAnOlderHoldId) {
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
    exec(
        "INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, quantity, amount, "
        "expires_at, "
        "confirming_at, created_at, updated_at) VALUES "
        "('ord_older', 'hld_unrelated', 1, 1, 'PAID', '[\"A-1-1\"]', 1, 150000, 0, 1, ?, ?), "
        "('ord_live', 'hld_live_other', 1, 1, 'PENDING_PAYMENT', '[\"A-1-2\"]', 1, 150000, "
        "1800000000, NULL, ?, ?)",
        {now_text, now_text, now_text, now_text});
    exec(
        "INSERT INTO payments (payment_key, order_id, amount, status, created_at) "
        "VALUES ('pay_1', 'ord_older', 150000, 'DONE', ?)",
        {now_text});
    exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "created_at) "
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
    EXPECT_EQ(exec("SELECT COUNT(*) FROM payments WHERE order_id = 'ord_older'").rows[0].int64(0),
              1);
    EXPECT_EQ(exec("SELECT COUNT(*) FROM tickets WHERE order_id = 'ord_older'").rows[0].int64(0),
              1);
    EXPECT_TRUE(exec("PRAGMA foreign_key_check").rows.empty());

    auto older = hold("hld_live_other");
    ASSERT_TRUE(older) << "a hold made before the migration is still found by its id";
    EXPECT_EQ(older->order_id, "ord_live");
    insert(order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy"));
    ASSERT_TRUE(hold("hld_0VgmOuhMr0fs6AkGQqDuIy"));

    auto orphan = try_exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "created_at) VALUES ('tkt_2', 'ord_missing', 1, 1, 'A-1-3', 'VIP', 1, 'code-2', 'VALID', "
        "?)",
        {now_text});
    EXPECT_FALSE(orphan) << "foreign keys still refuse a ticket of no order";
    auto dropped = try_exec("DELETE FROM orders WHERE id = 'ord_older'");
    EXPECT_FALSE(dropped) << "nor may an order with tickets go";
}

// Every hold INSERTs an order and every release UPDATEs it; every sale INSERTs tickets and every
// check-in UPDATEs one. None of them may build a temporary b-tree per execution, as a CHECK
// with an IN list of more than two values made SQLite do before migration 007 (a third of the
// writer's time per hold and release). Read from SQLite's own program for each statement.
TEST_F(OrderStore, TheWritesOfHoldsReleasesSalesAndCheckInsBuildNoTemporaryBTree) {
    open();
    auto r = db_->run_sync(
        [&](db::connection& c) -> db::expected<std::vector<std::pair<std::string, int>>> {
            recording_connection rec(c);
            const auto o = order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy");
            if (auto held = store::insert_order(rec, o, now_text); !held)
                return std::unexpected(held.error());
            auto released = store::change_status(rec, {.id = o.id,
                                                       .from = {order_status::pending_payment},
                                                       .to = order_status::cancelled,
                                                       .now_text = now_text});
            if (!released) return std::unexpected(released.error());
            auto paid =
                store::change_status(rec, {.id = o.id,
                                           .from = {order_status::pending_payment,
                                                    order_status::expired, order_status::cancelled},
                                           .to = order_status::paid,
                                           .now_text = now_text,
                                           .payment_key = std::string("pay_1")});
            if (!paid) return std::unexpected(paid.error());
            ticket_row t{.id = "tkt_1",
                         .order_id = o.id,
                         .event_id = 1,
                         .user_id = 1,
                         .seat = "A-1-1",
                         .grade = "VIP",
                         .price = 150'000,
                         .code = "code-1",
                         .created_at = now_text};
            if (auto issued = store::insert_ticket(rec, t); !issued)
                return std::unexpected(issued.error());
            if (auto used = store::use_ticket(rec, "tkt_1", 1, now_text); !used)
                return std::unexpected(used.error());
            if (auto voided = store::void_tickets(rec, o.id); !voided)
                return std::unexpected(voided.error());
            std::vector<std::pair<std::string, int>> temporary_trees;
            for (const auto& [sql, params] : rec.statements) {
                auto plan = c.exec("EXPLAIN " + sql, std::span<const db::value>(params));
                if (!plan) return std::unexpected(plan.error());
                int opened = 0;
                for (const auto& op : plan->rows) opened += op.text(1) == "OpenEphemeral" ? 1 : 0;
                temporary_trees.emplace_back(sql, opened);
            }
            return temporary_trees;
        });
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 6U);
    for (const auto& [sql, opened] : *r) EXPECT_EQ(opened, 0) << sql;
}

// The order reads an on-sale makes often each go through an index, never a scan of every order:
// SQLite uses a partial index only when the query states its WHERE term, which these queries
// repeat; an edit that loses a term would fall back to a full scan. Read from SQLite's plans.
TEST_F(OrderStore, TheOrderReadsUseTheirIndexesNotAScanOfEveryOrder) {
    open();
    insert(
        order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy"));  // found at once
    struct read {
        std::string what;
        std::string index;  // what every plan line that touches orders must name
    };
    auto r = db_->run_sync(
        [&](db::connection& c) -> db::expected<std::vector<std::pair<read, std::string>>> {
            recording_connection rec(c);
            std::vector<read> reads;
            auto record = [&](std::string what, std::string index,
                              auto&& call) -> db::expected<void> {
                const auto before = rec.statements.size();
                auto done = call();
                if (!done) return std::unexpected(done.error());
                for (auto i = before; i < rec.statements.size(); ++i)
                    reads.push_back({what, index});
                return {};
            };
            std::vector<db::expected<void>> done{
                record("a hold by its derived id", "PRIMARY KEY",
                       [&] { return store::find_hold(rec, "hld_0VgmOuhMr0fs6AkGQqDuIy"); }),
                record("a hold by an older id", "orders_older_hold",
                       [&] { return store::find_hold(rec, "hold-7"); }),
                record("an order by id", "PRIMARY KEY",
                       [&] { return store::find_order(rec, "ord_0VgmOuhMr0fs6AkGQqDuIy"); }),
                record("a user's orders", "orders_user|orders_live",
                       [&] { return store::orders_of_user(rec, 1); }),
                record("an event's orders", "orders_event|orders_live",
                       [&] { return store::orders_of_event(rec, 1); }),
                record("holds awaiting payment", "orders_live",
                       [&] { return store::orders_in(rec, order_status::pending_payment); }),
                record("payments to ask about", "orders_live",
                       [&] { return store::confirming_due(rec, 1'800'000'000, 50); }),
                record("refunds to finish", "orders_refunding",
                       [&] { return store::refunding_due(rec, 1'800'000'000, 50); }),
                record("the order of a paymentKey", "orders_payment_key",
                       [&] { return store::order_id_of_payment(rec, "pay_1"); }),
                record("an event's paid orders", "orders_event",
                       [&] { return store::attempts_of_event_in(rec, 1, order_status::paid); }),
                record("an event's holds", "orders_live",
                       [&] { return store::holds_of_event(rec, 1); }),
            };
            for (auto& d : done) {
                if (!d) return std::unexpected(d.error());
            }
            std::vector<std::pair<read, std::string>> plans;
            for (std::size_t i = 0; i < rec.statements.size(); ++i) {
                const auto& [sql, params] = rec.statements[i];
                auto plan = c.exec("EXPLAIN QUERY PLAN " + sql, std::span<const db::value>(params));
                if (!plan) return std::unexpected(plan.error());
                for (const auto& line : plan->rows) plans.emplace_back(reads.at(i), line.text(3));
            }
            return plans;
        });
    ASSERT_TRUE(r) << r.error().message;
    std::set<std::string> seen;
    for (const auto& [what, line] : *r) {
        if (line.find(" orders") == std::string::npos)
            continue;  // ORDER BY's temp tree, UNION's merge
        seen.insert(what.what);
        EXPECT_EQ(line.rfind("SEARCH orders USING ", 0), 0U) << what.what << ": " << line;
        bool named = false;
        for (std::size_t from = 0; from <= what.index.size();) {
            auto bar = what.index.find('|', from);
            if (bar == std::string::npos) bar = what.index.size();
            named = named || line.find(what.index.substr(from, bar - from)) != std::string::npos;
            from = bar + 1;
        }
        EXPECT_TRUE(named) << what.what << " should use " << what.index << ": " << line;
    }
    EXPECT_EQ(seen.size(), 11U);
}

// The rewritten CHECKs still refuse what the old ones refused.
TEST_P(OrderStoreOn, AnOrderOrATicketInAnUnknownStatusIsRefused) {
    open();
    insert(order_with("ord_0VgmOuhMr0fs6AkGQqDuIy", "hld_0VgmOuhMr0fs6AkGQqDuIy"));
    auto order_status_refused =
        try_exec("UPDATE orders SET status = 'LOST' WHERE id = 'ord_0VgmOuhMr0fs6AkGQqDuIy'");
    ASSERT_FALSE(order_status_refused);
    EXPECT_EQ(order_status_refused.error().code, db::errc::constraint_other);
    auto ticket_status_refused = try_exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "created_at) "
        "VALUES ('tkt_1', 'ord_0VgmOuhMr0fs6AkGQqDuIy', 1, 1, 'A-1-1', 'VIP', 1, 'code-1', "
        "'valid', ?)",
        {now_text});
    ASSERT_FALSE(ticket_status_refused);
    EXPECT_EQ(ticket_status_refused.error().code, db::errc::constraint_other);
    EXPECT_EQ(exec("SELECT status FROM orders").rows[0].text(0), "PENDING_PAYMENT");
    EXPECT_EQ(exec("SELECT COUNT(*) FROM tickets").rows[0].int64(0), 0);
}

// Migration 007 rebuilds orders and tickets on a database that sells: every row stays, a live
// seat still cannot be sold twice, a used ticket stays used, foreign keys hold as before.
TEST_F(OrderStore, MigrationSevenKeepsOrdersTicketsAndTheOneLiveTicketPerSeat) {
    open(6);
    exec(
        "INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, quantity, amount, "
        "expires_at, "
        "confirming_at, created_at, updated_at) VALUES "
        "('ord_paid', 'hld_paid', 1, 1, 'PAID', '[\"A-1-1\",\"A-1-2\"]', 2, 300000, 0, 1, ?, ?), "
        "('ord_live', 'hld_live_other', 1, 1, 'PENDING_PAYMENT', '[\"A-1-3\"]', 1, 150000, "
        "1800000000, NULL, ?, ?)",
        {now_text, now_text, now_text, now_text});
    exec(
        "INSERT INTO payments (payment_key, order_id, amount, status, created_at) "
        "VALUES ('pay_1', 'ord_paid', 300000, 'DONE', ?)",
        {now_text});
    exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "used_at, created_at) "
        "VALUES ('tkt_1', 'ord_paid', 1, 1, 'A-1-1', 'VIP', 150000, 'code-1', 'USED', ?, ?), "
        "('tkt_2', 'ord_paid', 1, 1, 'A-1-2', 'VIP', 150000, 'code-2', 'VALID', NULL, ?)",
        {now_text, now_text, now_text});

    auto migrated = db::migrate(*db_);
    ASSERT_TRUE(migrated) << migrated.error().message;
    EXPECT_EQ(*migrated, static_cast<int>(db::migrations(db::dialect::sqlite).size()) - 6);

    EXPECT_EQ(exec("SELECT COUNT(*) FROM orders").rows[0].int64(0), 2);
    EXPECT_EQ(exec("SELECT status FROM orders WHERE id = 'ord_live'").rows[0].text(0),
              "PENDING_PAYMENT");
    EXPECT_EQ(exec("SELECT status FROM tickets WHERE id = 'tkt_1'").rows[0].text(0), "USED");
    EXPECT_EQ(exec("SELECT COUNT(*) FROM tickets WHERE order_id = 'ord_paid'").rows[0].int64(0), 2);
    EXPECT_TRUE(exec("PRAGMA foreign_key_check").rows.empty());
    auto older = hold("hld_live_other");
    ASSERT_TRUE(older) << "a hold id older than migration 006 is still found";
    EXPECT_EQ(older->order_id, "ord_live");
    auto indexes = exec(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('orders', 'tickets') ORDER BY name");
    std::vector<std::string> names;
    for (const auto& r : indexes.rows) names.push_back(r.text(0));
    // 009 adds orders_payment_key and orders_refunding, 011 tickets_event_user (migrating from 6
    // runs 007 to the last).
    EXPECT_EQ(names, (std::vector<std::string>{
                         "orders_event", "orders_live", "orders_older_hold", "orders_payment_key",
                         "orders_refunding", "orders_user", "tickets_event_user",
                         "tickets_live_seat", "tickets_order", "tickets_user"}));

    auto second_sale = try_exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "created_at) "
        "VALUES ('tkt_3', 'ord_live', 1, 1, 'A-1-2', 'VIP', 150000, 'code-3', 'VALID', ?)",
        {now_text});
    ASSERT_FALSE(second_sale) << "a seat with a live ticket cannot get another";
    EXPECT_EQ(second_sale.error().code, db::errc::constraint_unique);
    auto orphan = try_exec("DELETE FROM orders WHERE id = 'ord_paid'");
    EXPECT_FALSE(orphan) << "an order with tickets cannot go";
}

}  // namespace
}  // namespace tkt::booking

namespace tkt::booking {
namespace {

class MoneyStore : public OrderStore, public ::testing::WithParamInterface<db_engine> {
protected:
    db_engine engine() const override { return GetParam(); }

    db::expected<bool> move(const std::string& id, money_move m,
                            paid_before was_paid = paid_before::no) {
        return db_->run_sync([&](db::connection& c) {
            return store::change_status(c, store::transition_for(id, m, now_text, was_paid));
        });
    }
    std::string status_of(const std::string& id) {
        return exec("SELECT status FROM orders WHERE id = ?", {id}).rows.at(0).text(0);
    }
    void paid_with_ticket(const std::string& id, const std::string& seat) {
        insert(order_with(id, "hld_" + id.substr(4)));
        exec(
            "UPDATE orders SET status = 'PAID', paid_at = ?, confirming_at = 1, payment_key = ? "
            "WHERE id = ?",
            {now_text, "pay_" + id, id});
        exec(
            "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, "
            "status, "
            "created_at) VALUES (?, ?, 1, 1, ?, 'VIP', 1, ?, 'VALID', ?)",
            {"tkt_" + id, id, seat, "code-" + id, now_text});
    }
    db::expected<bool> use(const std::string& ticket_id) {
        return db_->run_sync(
            [&](db::connection& c) { return store::use_ticket(c, ticket_id, 1, now_text); });
    }
};

// Every move is a compare-and-set: the second of two identical moves finds the order moved.
TEST_P(MoneyStore, EachMoveWinsOnceAndOnlyFromItsStates) {
    open();
    insert(order_with("ord_a", "hld_a"));
    EXPECT_EQ(move("ord_a", money_move::sell), false) << "a hold cannot be sold";
    EXPECT_EQ(move("ord_a", money_move::confirm), true);
    EXPECT_EQ(move("ord_a", money_move::confirm), false);
    EXPECT_EQ(move("ord_a", money_move::sell), true);
    EXPECT_EQ(status_of("ord_a"), "PAID");
    EXPECT_EQ(move("ord_a", money_move::refund_capture), false)
        << "a sale is never refunded as a capture";
    EXPECT_EQ(move("ord_a", money_move::cancel), true);
    EXPECT_EQ(move("ord_a", money_move::cancel), false);
    EXPECT_EQ(status_of("ord_a"), "REFUNDING");
    EXPECT_EQ(move("ord_a", money_move::refunded, paid_before::yes), true);
    EXPECT_EQ(status_of("ord_a"), "CANCELLED");
    EXPECT_EQ(move("ord_a", money_move::refund_refused), false);
    EXPECT_FALSE(
        exec("SELECT cancelled_at FROM orders WHERE id = 'ord_a'").rows.at(0).text(0).empty());
}

// A released hold (CANCELLED, never paid) may be refunded a capture learned of later; a cancelled
// sale (CANCELLED after PAID) never again.
TEST_P(MoneyStore, ACaptureIsRefundedFromAReleasedHoldButNeverFromACancelledSale) {
    open();
    insert(order_with("ord_r", "hld_r"));
    ASSERT_EQ(move("ord_r", money_move::release), true);
    EXPECT_EQ(move("ord_r", money_move::refund_capture), true);
    EXPECT_EQ(move("ord_r", money_move::refunded), true);
    EXPECT_EQ(status_of("ord_r"), "REFUNDED");

    paid_with_ticket("ord_s", "A-1-2");
    ASSERT_EQ(move("ord_s", money_move::cancel), true);
    ASSERT_EQ(move("ord_s", money_move::refunded, paid_before::yes), true);
    EXPECT_EQ(status_of("ord_s"), "CANCELLED");
    EXPECT_EQ(move("ord_s", money_move::refund_capture), false);
    EXPECT_EQ(status_of("ord_s"), "CANCELLED");
}

// Of two reconcilers (nodes) that read the same due row, exactly one claims the look; the claim
// moves the next look and counts the attempt.
TEST_P(MoneyStore, OneReconcilerClaimsEachLook) {
    open();
    paid_with_ticket("ord_c", "A-1-3");
    ASSERT_EQ(move("ord_c", money_move::cancel), true);
    exec("UPDATE orders SET next_check_at = 100 WHERE id = 'ord_c'");
    auto due = db_->run_sync([&](db::connection& c) { return store::refunding_due(c, 100, 10); });
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1U);
    const auto seen = due->front();
    EXPECT_EQ(seen.next_check_at, 100);
    auto claim = [&](std::int64_t next) {
        return db_->run_sync([&](db::connection& c) { return store::claim_check(c, seen, next); });
    };
    EXPECT_EQ(claim(104), true);
    EXPECT_EQ(claim(108), false);
    auto row = exec("SELECT next_check_at, check_attempts FROM orders WHERE id = 'ord_c'");
    EXPECT_EQ(row.rows.at(0).int64(0), 104);
    EXPECT_EQ(row.rows.at(0).int64(1), 1);
    auto not_yet =
        db_->run_sync([&](db::connection& c) { return store::refunding_due(c, 103, 10); });
    ASSERT_TRUE(not_yet);
    EXPECT_TRUE(not_yet->empty());
}

// Check-in and a cancellation exclude each other: a ticket is used only while its order is PAID
// and its event not cancelled.
TEST_P(MoneyStore, ATicketIsUsedOnlyWhileItsOrderIsPaidAndItsEventNotCancelled) {
    open();
    paid_with_ticket("ord_u", "A-1-1");
    paid_with_ticket("ord_v", "A-1-2");
    paid_with_ticket("ord_w", "A-1-3");
    // Stands for a cancellation that won: the order left PAID (its tickets not voided yet).
    ASSERT_EQ(move("ord_u", money_move::cancel), true);
    EXPECT_EQ(use("tkt_ord_u"), false);
    EXPECT_EQ(use("tkt_ord_v"), true);
    EXPECT_EQ(use("tkt_ord_v"), false) << "a ticket is used once";
    exec("UPDATE events SET status = 'CANCELLED' WHERE id = 1");
    EXPECT_EQ(use("tkt_ord_w"), false);
    auto used = db_->run_sync([&](db::connection& c) { return store::used_tickets(c, "ord_v"); });
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 1);
}

TEST_P(MoneyStore, AnEventsSalesAreCountedByTheDatabase) {
    open();
    paid_with_ticket("ord_s1", "A-1-1");
    paid_with_ticket("ord_s2", "A-1-2");
    exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, status, "
        "created_at) VALUES ('tkt_s2b', 'ord_s2', 1, 1, 'A-1-3', 'VIP', 1, 'code-s2b', 'USED', ?)",
        {now_text});
    insert(order_with("ord_s3", "hld_s3"));  // awaiting payment
    const std::pair<const char*, const char*> others[] = {
        {"ord_s4", "REFUNDED"},  {"ord_s5", "CANCELLED"},     {"ord_s6", "FAILED"},
        {"ord_s7", "REFUNDING"}, {"ord_s8", "REFUND_FAILED"}, {"ord_s9", "CANCELLED"}};
    for (const auto& [id, status] : others) {
        insert(order_with(id, std::string("hld_") + (id + 4)));
        exec("UPDATE orders SET status = ?, confirming_at = 1 WHERE id = ?",
             {std::string(status), std::string(id)});
    }
    // Refunded after a payment; ord_s9 was cancelled before any was taken.
    exec("UPDATE orders SET paid_at = ? WHERE id IN ('ord_s4', 'ord_s5', 'ord_s7', 'ord_s8')",
         {now_text});
    auto sales = db_->run_sync([&](db::connection& c) { return store::sales_of_event(c, 1); });
    ASSERT_TRUE(sales) << sales.error().message;
    EXPECT_EQ(sales->paid_orders, 2);
    EXPECT_EQ(sales->tickets_sold, 3);
    EXPECT_EQ(sales->revenue, 300'000);
    EXPECT_EQ(sales->awaiting_payment, 1);
    EXPECT_EQ(sales->failed, 1);
    EXPECT_EQ(sales->refunding, 1);
    EXPECT_EQ(sales->refund_failed, 1);
    EXPECT_EQ(sales->refunded, 2);
    auto none = db_->run_sync([&](db::connection& c) { return store::sales_of_event(c, 2); });
    ASSERT_TRUE(none);
    EXPECT_EQ(none->paid_orders + none->tickets_sold + none->revenue + none->refunded, 0);
}

TEST_P(MoneyStore, AnEventCancellationVoidsUsedTicketsAUserCancellationOnlyValidOnes) {
    open();
    paid_with_ticket("ord_x", "A-1-1");
    ASSERT_EQ(use("tkt_ord_x"), true);
    auto valid_only = db_->run_sync([&](db::connection& c) {
        return store::void_tickets(c, "ord_x", store::void_scope::valid);
    });
    ASSERT_TRUE(valid_only);
    EXPECT_EQ(*valid_only, 0);
    auto all = db_->run_sync([&](db::connection& c) {
        return store::void_tickets(c, "ord_x", store::void_scope::all_live);
    });
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, 1);
    EXPECT_EQ(exec("SELECT status FROM tickets WHERE id = 'tkt_ord_x'").rows.at(0).text(0), "VOID");
}

TEST_P(MoneyStore, APaymentKeyNamesItsOrderThroughTheOrderOrItsPaymentRow) {
    open();
    paid_with_ticket("ord_k", "A-1-1");
    insert(order_with("ord_l", "hld_l"));
    exec(
        "INSERT INTO payments (payment_key, order_id, amount, status, created_at) "
        "VALUES ('pay_captured_elsewhere', 'ord_l', 1, 'DONE', ?)",
        {now_text});
    auto of = [&](const std::string& key) {
        auto r =
            db_->run_sync([&](db::connection& c) { return store::order_id_of_payment(c, key); });
        EXPECT_TRUE(r);
        return r ? *r : std::nullopt;
    };
    EXPECT_EQ(of("pay_ord_k"), "ord_k");
    EXPECT_EQ(of("pay_captured_elsewhere"), "ord_l");
    EXPECT_EQ(of("pay_unknown"), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(on, MoneyStore, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

// The last guard against selling a seat twice (DESIGN.md §4): a second live ticket for a seat
// cannot commit, whatever status it comes in; once the first is void, the seat sells again; a
// general admission ticket (no seat) never collides.
TEST_P(MoneyStore, ASeatHasAtMostOneLiveTicket) {
    open();
    paid_with_ticket("ord_p", "A-1-1");
    insert(order_with("ord_q", "hld_q"));
    auto ticket = [&](const std::string& id, const char* seat, const char* status) {
        return try_exec(
            "INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, price, code, "
            "status, created_at) VALUES (?, 'ord_q', 1, 1, ?, 'VIP', 1, ?, ?, ?)",
            {id, seat == nullptr ? db::value(nullptr) : db::value(std::string(seat)), "code-" + id,
             std::string(status), now_text});
    };
    for (const char* status : {"VALID", "USED"}) {
        auto twice = ticket(std::string("tkt_twice_") + status, "A-1-1", status);
        ASSERT_FALSE(twice) << status;
        EXPECT_EQ(twice.error().code, db::errc::constraint_unique) << status;
    }
    EXPECT_TRUE(ticket("tkt_void_too", "A-1-1", "VOID")) << "a void ticket holds no seat";
    EXPECT_TRUE(ticket("tkt_ga_1", nullptr, "VALID"));
    EXPECT_TRUE(ticket("tkt_ga_2", nullptr, "VALID")) << "general admission has no seat";
    auto voided = db_->run_sync([&](db::connection& c) {
        return store::void_tickets(c, "ord_p", store::void_scope::all_live);
    });
    ASSERT_TRUE(voided);
    EXPECT_EQ(*voided, 1);
    EXPECT_TRUE(ticket("tkt_resold", "A-1-1", "VALID")) << "the voided seat sells again";
    auto unvoid = try_exec("UPDATE tickets SET status = 'VALID' WHERE id = 'tkt_ord_p'");
    ASSERT_FALSE(unvoid) << "the old ticket cannot come back to life over the new one";
    EXPECT_EQ(unvoid.error().code, db::errc::constraint_unique);
}

// The payment row is written once per key and then follows the provider's status; a
// cancellation stamps cancelled_at, and only a cancellation does.
TEST_P(MoneyStore, APaymentRowIsInsertedOnceAndUpdatedByItsKey) {
    open();
    insert(order_with("ord_m", "hld_m"));
    auto upsert = [&](const std::string& status, const std::string& at) {
        store::payment_row p{
            .payment_key = "pay_m", .order_id = "ord_m", .amount = 150'000, .status = status};
        auto r = db_->run_sync([&](db::connection& c) { return store::upsert_payment(c, p, at); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
    };
    upsert("DONE", "2026-11-30T09:00:00Z");
    upsert("DONE", "2026-11-30T09:01:00Z");
    auto row = exec("SELECT status, created_at, cancelled_at FROM payments");
    ASSERT_EQ(row.rows.size(), 1U);
    EXPECT_EQ(row.rows[0].text(0), "DONE");
    EXPECT_EQ(row.rows[0].text(1), "2026-11-30T09:00:00Z") << "the first write's time stays";
    EXPECT_TRUE(row.rows[0].is_null(2));
    upsert("CANCELED", "2026-11-30T10:00:00Z");
    row = exec("SELECT status, cancelled_at FROM payments");
    ASSERT_EQ(row.rows.size(), 1U);
    EXPECT_EQ(row.rows[0].text(0), "CANCELED");
    EXPECT_EQ(row.rows[0].text(1), "2026-11-30T10:00:00Z");
}

// An Idempotency-Key is claimed by its first request; a second one is refused while the first
// is in flight and fresh, and may take it over once it is stale (in flight too long) or expired.
TEST_P(MoneyStore, AnIdempotencyKeyIsClaimedOnceUntilItGoesStale) {
    open();
    auto claim = [&](const std::string& hash, std::int64_t now) {
        store::idempotency_claim at{
            .now = now, .stale_before = now - 60, .expired_before = now - 86'400};
        // In a transaction, as the service claims it (two statements on MySQL).
        auto claimed = db_->run_sync([&](db::connection& c) {
            auto body = [&](db::connection& tx) {
                return store::claim_idempotency(tx, 1, "key-1", hash, at);
            };
            return db::database::in_transaction(c, body);
        });
        EXPECT_TRUE(claimed) << (claimed ? "" : claimed.error().message);
        return claimed && *claimed;
    };
    EXPECT_TRUE(claim("hash-a", 1'000));
    EXPECT_FALSE(claim("hash-b", 1'030)) << "the first request is in flight and fresh";
    EXPECT_EQ(exec("SELECT request_hash FROM idempotency_keys").rows.at(0).text(0), "hash-a");
    EXPECT_TRUE(claim("hash-c", 1'100)) << "in flight for 100 s: stale, taken over";
    EXPECT_EQ(exec("SELECT request_hash, created_at FROM idempotency_keys").rows.at(0).text(0),
              "hash-c");
    exec("UPDATE idempotency_keys SET status_code = 200, response = '{}'");
    EXPECT_FALSE(claim("hash-d", 1'200)) << "an answered key is replayed, not taken over";
    EXPECT_TRUE(claim("hash-e", 1'100 + 86'401)) << "a day later the key is forgotten";
    auto row = exec("SELECT request_hash, status_code, response FROM idempotency_keys");
    ASSERT_EQ(row.rows.size(), 1U);
    EXPECT_EQ(row.rows[0].text(0), "hash-e");
    EXPECT_EQ(row.rows[0].int64(1), 0);
    EXPECT_TRUE(row.rows[0].is_null(2));
}

}  // namespace
}  // namespace tkt::booking
