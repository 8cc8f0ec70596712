// The outbox → notifications → bus path and a user's notifications, against a real database
// of each engine (SQLite, and the run's MariaDB): each outbox row makes its notifications exactly
// once however often a pass is cut short (the crash points of dispatcher.hpp, replayed by hand), a
// notice reaches each holder once, a user sees and changes only their own, and the sweeper keeps
// what is unread.
#include "notifications/dispatcher.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "bus/memory_bus.hpp"
#include "catalog/event.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "notifications/service.hpp"
#include "notifications/store.hpp"
#include "store_engines.hpp"

namespace tkt::notifications {
namespace {

using namespace std::chrono_literals;

template <class T>
T run(boost::asio::awaitable<T> op) {
    boost::asio::io_context io;
    auto f = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
    io.run();
    return f.get();
}

const auth::principal alice{1, auth::role::user};
const auth::principal bob{2, auth::role::user};
const auth::principal manager{10, auth::role::manager};
const auth::principal other_manager{11, auth::role::manager};
const auth::principal admin{12, auth::role::admin};

class Notifications : public ::testing::TestWithParam<tkt::testing::db_engine> {
protected:
    void SetUp() override {
        // One connection: the session setting below holds for every statement of the test.
        auto opened = database_.open({.size = 1});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        ASSERT_TRUE(db::migrate(*db_));
        // Tickets without orders and events: this suite is about who holds them.
        ASSERT_TRUE(exec(GetParam() == tkt::testing::db_engine::sqlite
                             ? "PRAGMA foreign_keys = OFF"
                             : "SET SESSION foreign_key_checks = 0"));
        for (std::int64_t id : {1, 2, 3, 4, 10, 11, 12}) {
            ASSERT_TRUE(
                exec("INSERT INTO users (id, email, name, password_hash, created_at, "
                     "updated_at) VALUES (?, ?, 'U', 'x', 't', 't')",
                     {id, "u" + std::to_string(id) + "@example.com"}));
        }
        events_[5] = std::make_shared<catalog::event>();
        events_[5]->id = 5;
        events_[5]->manager_id = manager.user_id;
        for (std::int64_t user : {1, 2, 3, 4}) {
            subscriptions_.push_back(bus_.subscribe(
                user_topic(user), [this, user](std::string_view, std::string_view m) {
                    std::lock_guard lock(heard_mutex_);
                    heard_[user].push_back(*id_of(m));
                }));
        }
    }

    db::expected<db::query_result> exec(std::string sql, std::vector<db::value> params = {}) {
        return db_->run_sync([&](db::connection& c) {
            return c.exec(sql, std::span<const db::value>(params.data(), params.size()));
        });
    }
    std::int64_t count(const std::string& sql, std::vector<db::value> params = {}) {
        auto r = exec(sql, std::move(params));
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->rows.at(0).int64(0) : -1;
    }
    // An outbox row as the sale writes it.
    void outbox(std::int64_t user, std::string type) {
        ASSERT_TRUE(
            exec("INSERT INTO outbox (user_id, type, title, body, data_json, created_at) "
                 "VALUES (?, ?, 'Title', 'Body', '{\"orderId\":\"o1\"}', "
                 "'2026-12-06T00:00:00Z')",
                 {user, std::move(type)}));
    }
    void ticket(const std::string& id, std::int64_t event, std::int64_t user,
                const std::string& status = "VALID") {
        ASSERT_TRUE(
            exec("INSERT INTO tickets (id, order_id, event_id, user_id, seat, grade, "
                 "price, code, status, created_at) VALUES (?, 'o', ?, ?, ?, 'R', 1, ?, ?, "
                 "'t')",
                 {id, event, user, id, "code-" + id, status}));
    }
    service make_service() {
        return service(service_dependencies{
            *db_, clock_, [this](std::int64_t id) -> std::shared_ptr<const catalog::event> {
                auto it = events_.find(id);
                return it == events_.end() ? nullptr : it->second;
            }});
    }
    // What the bus carried to each user, as notification ids in arrival order.
    std::map<std::int64_t, std::vector<std::int64_t>> heard() {
        std::lock_guard lock(heard_mutex_);
        return heard_;
    }

    tkt::testing::engine_database database_{GetParam()};
    std::unique_ptr<db::database> db_;
    manual_clock clock_{time_point{std::chrono::seconds{1'800'000'000}}};
    std::map<std::int64_t, std::shared_ptr<catalog::event>> events_;
    std::mutex heard_mutex_;
    std::map<std::int64_t, std::vector<std::int64_t>> heard_;
    bus::memory_bus bus_;
    std::vector<bus::subscription> subscriptions_;
};

INSTANTIATE_TEST_SUITE_P(on, Notifications, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

TEST_P(Notifications, EachOutboxRowBecomesOneNotificationPublishedInOrder) {
    outbox(1, "BOOKING_CONFIRMED");
    outbox(2, "PAYMENT_FAILED");
    outbox(1, "HOLD_EXPIRED");
    dispatcher d(*db_, bus_, clock_);
    auto pass = run(d.dispatch_once());
    ASSERT_TRUE(pass) << pass.error().detail;
    EXPECT_EQ(pass->rows, 3u);
    EXPECT_EQ(pass->made, 3u);
    EXPECT_EQ(pass->published, 3u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL"), 0);
    const auto got = heard();
    ASSERT_EQ(got.at(1).size(), 2u);
    EXPECT_LT(got.at(1)[0], got.at(1)[1]);
    EXPECT_EQ(got.at(2).size(), 1u);
    // Nothing left: the next pass does nothing.
    auto again = run(d.dispatch_once());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->rows, 0u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 3);
}

TEST_P(Notifications, APassCutAfterMakingRepublishesWithoutMakingAgain) {
    outbox(1, "BOOKING_CONFIRMED");
    outbox(1, "BOOKING_CANCELLED");
    // The first half of a pass (the crash point notifications.after_materialize).
    auto rows = db_->run_sync([](db::connection& c) { return store::pending(c, 10); });
    ASSERT_TRUE(rows);
    ASSERT_TRUE(db_->run_sync([&](db::connection& c) -> db::expected<void> {
        if (auto b = c.begin(); !b) return b;
        for (const auto& r : *rows) {
            if (auto m = store::materialize(c, r); !m) return std::unexpected(m.error());
        }
        return c.commit();
    }));
    // A second try at making the same row is refused, whatever calls it.
    auto twice =
        db_->run_sync([&](db::connection& c) { return store::materialize(c, rows->at(0)); });
    EXPECT_FALSE(twice);
    EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 2);

    dispatcher d(*db_, bus_, clock_);
    auto pass = run(d.dispatch_once());
    ASSERT_TRUE(pass) << pass.error().detail;
    EXPECT_EQ(pass->rows, 2u);
    EXPECT_EQ(pass->made, 0u);
    EXPECT_EQ(pass->published, 2u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 2);
    EXPECT_EQ(heard().at(1).size(), 2u);
}

TEST_P(Notifications, APassCutAfterPublishingPublishesAgainAndMakesNothing) {
    outbox(2, "ORDER_REFUNDED");
    dispatcher d(*db_, bus_, clock_);
    ASSERT_TRUE(run(d.dispatch_once()));
    // As if the row's dispatched mark had not been written (notifications.after_publish).
    ASSERT_TRUE(exec("UPDATE outbox SET dispatched_at = NULL"));
    auto pass = run(d.dispatch_once());
    ASSERT_TRUE(pass);
    EXPECT_EQ(pass->made, 0u);
    EXPECT_EQ(pass->published, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 1);
    // The same id twice on the bus: the stream writes ids above its last only (feed.hpp).
    const auto got = heard().at(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], got[1]);
}

TEST_P(Notifications, ANoticeReachesEachLiveHolderOnce) {
    ticket("A-1-1", 5, 1);
    ticket("A-1-2", 5, 1);  // two tickets, one notice
    ticket("A-1-3", 5, 2, "USED");
    ticket("A-1-4", 5, 3, "VOID");  // a cancelled order's buyer is no longer a holder
    ticket("B-1-1", 6, 4);          // another event
    auto svc = make_service();
    auto n = check_notice(std::nullopt, 5, "Gate change", "Use gate B.");
    ASSERT_TRUE(n);
    auto receipt = run(svc.send_notice(manager, *n));
    ASSERT_TRUE(receipt) << receipt.error().detail;
    EXPECT_EQ(receipt->recipients, 2);
    EXPECT_GT(receipt->notice_id, 0);

    dispatcher d(*db_, bus_, clock_);
    auto pass = run(d.drain());
    ASSERT_TRUE(pass);
    EXPECT_EQ(pass->rows, 1u);
    EXPECT_EQ(pass->made, 2u);
    const auto got = heard();
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(got.at(1).size(), 1u);
    EXPECT_EQ(got.at(2).size(), 1u);
    auto page = run(svc.list(alice, {}));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].type, "NOTICE");
    EXPECT_EQ(page->items[0].title, "Gate change");
    EXPECT_NE(page->items[0].data_json.find("\"eventId\":5"), std::string::npos);
    EXPECT_EQ(page->unread_count, 1);
}

TEST_P(Notifications, WhoMaySendANotice) {
    auto svc = make_service();
    auto to_event = *check_notice(std::nullopt, 5, "t", "b");
    auto to_user = *check_notice(1, std::nullopt, "t", "b");
    EXPECT_EQ(run(svc.send_notice(alice, to_event)).error().code, problem_code::forbidden);
    EXPECT_EQ(run(svc.send_notice(other_manager, to_event)).error().code, problem_code::not_found);
    EXPECT_EQ(run(svc.send_notice(manager, to_user)).error().code, problem_code::forbidden);
    auto unknown_event = *check_notice(std::nullopt, 99, "t", "b");
    EXPECT_EQ(run(svc.send_notice(admin, unknown_event)).error().code, problem_code::not_found);
    auto unknown_user = *check_notice(999, std::nullopt, "t", "b");
    EXPECT_EQ(run(svc.send_notice(admin, unknown_user)).error().code, problem_code::not_found);
    EXPECT_TRUE(run(svc.send_notice(admin, to_event)));
    auto receipt = run(svc.send_notice(admin, to_user));
    ASSERT_TRUE(receipt);
    EXPECT_EQ(receipt->recipients, 1);
    // Nothing was written for the refused ones.
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 2);
}

TEST_P(Notifications, AUserSeesAndChangesOnlyTheirOwn) {
    for (int i = 0; i < 5; ++i) outbox(1, "BOOKING_CONFIRMED");
    outbox(2, "BOOKING_CONFIRMED");
    dispatcher d(*db_, bus_, clock_);
    ASSERT_TRUE(run(d.drain()));
    auto svc = make_service();
    auto bobs = run(svc.list(bob, {}));
    ASSERT_TRUE(bobs);
    ASSERT_EQ(bobs->items.size(), 1u);
    const auto bob_id = bobs->items[0].id;

    EXPECT_EQ(run(svc.mark_read(alice, bob_id)).error().code, problem_code::not_found);
    EXPECT_EQ(run(svc.remove(alice, bob_id)).error().code, problem_code::not_found);
    ASSERT_TRUE(run(svc.remove_all(alice)));
    ASSERT_TRUE(run(svc.mark_all_read(alice)));
    bobs = run(svc.list(bob, {}));
    ASSERT_EQ(bobs->items.size(), 1u);
    EXPECT_FALSE(bobs->items[0].read_at);
    EXPECT_EQ(bobs->unread_count, 1);
}

TEST_P(Notifications, PagesUnreadAndReadState) {
    for (int i = 0; i < 5; ++i) outbox(1, "BOOKING_CONFIRMED");
    dispatcher d(*db_, bus_, clock_);
    ASSERT_TRUE(run(d.drain()));
    auto svc = make_service();
    auto first = run(svc.list(alice, list_request{false, 2, std::nullopt}));
    ASSERT_TRUE(first);
    ASSERT_EQ(first->items.size(), 2u);
    EXPECT_GT(first->items[0].id, first->items[1].id);  // newest first
    ASSERT_TRUE(first->next_before);
    auto second = run(svc.list(alice, list_request{false, 2, first->next_before}));
    ASSERT_EQ(second->items.size(), 2u);
    EXPECT_LT(second->items[0].id, first->items[1].id);
    auto last = run(svc.list(alice, list_request{false, 2, second->next_before}));
    ASSERT_EQ(last->items.size(), 1u);
    EXPECT_FALSE(last->next_before);

    const auto newest = first->items[0].id;
    ASSERT_TRUE(run(svc.mark_read(alice, newest)));
    ASSERT_TRUE(run(svc.mark_read(alice, newest)));  // again: still 204, first time kept
    auto unread = run(svc.list(alice, list_request{true, 20, std::nullopt}));
    EXPECT_EQ(unread->items.size(), 4u);
    EXPECT_EQ(unread->unread_count, 4);
    ASSERT_TRUE(run(svc.remove(alice, newest)));
    EXPECT_EQ(run(svc.remove(alice, newest)).error().code, problem_code::not_found);
    ASSERT_TRUE(run(svc.mark_all_read(alice)));
    auto none = run(svc.list(alice, list_request{true, 20, std::nullopt}));
    EXPECT_TRUE(none->items.empty());
    EXPECT_EQ(none->unread_count, 0);
    EXPECT_EQ(run(svc.list(alice, {}))->items.size(), 4u);
}

TEST_P(Notifications, TheSweeperDeletesOldReadOnesOnly) {
    for (int i = 0; i < 3; ++i) outbox(1, "BOOKING_CONFIRMED");
    dispatcher d(*db_, bus_, clock_);
    ASSERT_TRUE(run(d.drain()));
    auto svc = make_service();
    auto all = run(svc.list(alice, {}));
    ASSERT_TRUE(run(svc.mark_read(alice, all->items[0].id)));
    // Made at 2026-12-06T00:00:00Z (the outbox rows' time); the clock is in 2027.
    auto young = run(svc.sweep(std::chrono::seconds(400LL * 86'400)));
    ASSERT_TRUE(young);
    EXPECT_EQ(*young, 0);
    clock_.advance(10s);  // the outbox rows were dispatched at the clock's time
    auto gone = run(svc.sweep(std::chrono::seconds(1)));
    ASSERT_TRUE(gone);
    EXPECT_EQ(*gone, 1 + 3);  // the read notification and the three dispatched outbox rows
    auto left = run(svc.list(alice, {}));
    EXPECT_EQ(left->items.size(), 2u);
    EXPECT_EQ(left->unread_count, 2);
}

}  // namespace
}  // namespace tkt::notifications
