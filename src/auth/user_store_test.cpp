// The user store on every engine of the Database port (cases ending in /sqlite and /mariadb):
// the batch read of accounts (json_each on SQLite, JSON_TABLE on MySQL), the search with LIKE
// and its escapes, the unique email and the one-time OAuth2 states.
#include "auth/user_store.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/migrations.hpp"
#include "store_engines.hpp"

namespace tkt::auth {
namespace {

using tkt::testing::db_engine;

const std::string now_text = "2026-12-01T09:00:00Z";

class user_store_on : public ::testing::TestWithParam<db_engine> {
protected:
    void SetUp() override {
        auto opened = database_.open({.size = 1});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto migrated = db::migrate(*db_);
        ASSERT_TRUE(migrated) << migrated.error().message;
    }

    std::int64_t add(const std::string& email, const std::string& name, role r = role::user) {
        auto id = db_->run_sync([&](db::connection& c) {
            return user_store(c).insert(new_user{.email = email,
                                                 .name = name,
                                                 .password_hash = "x",
                                                 .role = r,
                                                 .created_at = now_text});
        });
        EXPECT_TRUE(id) << (id ? "" : id.error().message);
        return id ? *id : 0;
    }

    tkt::testing::engine_database database_{GetParam()};
    std::unique_ptr<db::database> db_;
};

INSTANTIATE_TEST_SUITE_P(on, user_store_on, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

TEST_P(user_store_on, new_users_are_numbered_and_an_email_is_taken_once) {
    const auto a = add("a@example.com", "Ann");
    const auto b = add("b@example.com", "Bo");
    EXPECT_GT(a, 0);
    EXPECT_EQ(b, a + 1);
    auto again = db_->run_sync([&](db::connection& c) {
        return user_store(c).insert(new_user{.email = "a@example.com",
                                             .name = "Another Ann",
                                             .password_hash = "y",
                                             .created_at = now_text});
    });
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, db::errc::constraint_unique);
    // Byte for byte, as SQLite compares: a trailing blank makes another email.
    EXPECT_GT(add("a@example.com ", "Trailing"), 0);
}

TEST_P(user_store_on, accounts_are_read_in_one_query_for_the_listed_ids_only) {
    const auto a = add("a@example.com", "Ann");
    const auto b = add("b@example.com", "Bo", role::admin);
    add("c@example.com", "Cy");
    ASSERT_TRUE(db_->run_sync([&](db::connection& c) {
        return user_store(c).set_status(b, user_status::disabled, now_text);
    }));
    const std::vector<std::int64_t> ids{b, 9999, a};
    auto rows = db_->run_sync([&](db::connection& c) { return user_store(c).find_accounts(ids); });
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 2U);
    std::ranges::sort(*rows, {}, &user_store::account_row::id);
    EXPECT_EQ((*rows)[0].id, a);
    EXPECT_EQ((*rows)[0].level, role::user);
    EXPECT_EQ((*rows)[0].status, user_status::active);
    EXPECT_EQ((*rows)[1].id, b);
    EXPECT_EQ((*rows)[1].level, role::admin);
    EXPECT_EQ((*rows)[1].status, user_status::disabled);
    auto none = db_->run_sync([](db::connection& c) { return user_store(c).find_accounts({}); });
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_TRUE(none->empty());
}

TEST_P(user_store_on, the_search_matches_email_or_name_and_takes_wildcards_literally) {
    add("kim@example.com", "Kim Minji");
    add("lee@example.com", "Lee 100%");
    add("park_1@example.com", "Park");
    add("parkx1@example.com", "Parkx");
    auto search = [&](const std::string& q) {
        std::vector<std::string> emails;
        auto r = db_->run_sync(
            [&](db::connection& c) { return user_store(c).list({.q = q, .page = 0, .size = 10}); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        if (r) {
            for (const auto& u : r->items) emails.push_back(u.email);
            EXPECT_EQ(r->total, static_cast<std::int64_t>(emails.size()));
        }
        return emails;
    };
    EXPECT_EQ(search("minji"), (std::vector<std::string>{"kim@example.com"}))
        << "a name matches whatever its case";
    EXPECT_EQ(search("100%"), (std::vector<std::string>{"lee@example.com"}));
    EXPECT_EQ(search("park_"), (std::vector<std::string>{"park_1@example.com"}))
        << "_ is a character, not a wildcard";
    EXPECT_EQ(search("example").size(), 4U);
}

TEST_P(user_store_on, an_oauth2_state_is_spent_once_and_expired_ones_are_forgotten) {
    auto spend = [&](const std::string& id, std::int64_t expires, std::int64_t now) {
        auto r = db_->run_sync(
            [&](db::connection& c) { return user_store(c).spend_state(id, expires, now); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r && *r;
    };
    EXPECT_TRUE(spend("st_1", 1'600, 1'000));
    EXPECT_FALSE(spend("st_1", 1'600, 1'001)) << "a replayed callback";
    EXPECT_TRUE(spend("st_2", 1'700, 1'100));
    EXPECT_TRUE(spend("st_3", 2'000, 1'650)) << "st_1 expired meanwhile";
    auto left = db_->run_sync([](db::connection& c) {
        return c.exec("SELECT state_id FROM oauth_spent_states ORDER BY state_id");
    });
    ASSERT_TRUE(left);
    ASSERT_EQ(left->rows.size(), 2U);
    EXPECT_EQ(left->rows[0].text(0), "st_2");
    EXPECT_EQ(left->rows[1].text(0), "st_3");
}

}  // namespace
}  // namespace tkt::auth
