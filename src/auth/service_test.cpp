#include "auth/service.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "common/testing/temp_dir.hpp"
#include "db/migrations.hpp"
#include "http/testing/fake_headers.hpp"

namespace tkt::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view password = "correct horse battery";

using http::testing::lookup_header;

class AuthService : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = db::open_database("sqlite://" + (dir_ / "test.db").string(),
                                        db::pool_options{.size = 2});
        ASSERT_TRUE(opened) << opened.error().message;
        db_ = std::move(*opened);
        auto migrated = db::migrate(*db_);
        ASSERT_TRUE(migrated) << migrated.error().message;
        svc_ = std::make_unique<service>(*db_, clock_,
                                         make_keyring(jwt_key{"test", std::string(32, 'k')}),
                                         service_options{.issuer = "ticketon-test",
                                                         .access_ttl_seconds = 900,
                                                         .refresh_ttl_seconds = 1'209'600,
                                                         .lockout_threshold = 5,
                                                         .lockout_seconds = 300,
                                                         .cost = password_cost::min});
    }
    void TearDown() override {
        svc_.reset();
        db_.reset();
    }

    // Runs a coroutine of the service to completion on this thread.
    template <class T>
    T await(boost::asio::awaitable<T> op) {
        auto done = boost::asio::co_spawn(io_, std::move(op), boost::asio::use_future);
        io_.restart();
        io_.run();
        return done.get();
    }

    session signup(std::string email, std::string name = "Kim") {
        auto s = await(svc_->signup({std::move(email), std::string{password}, std::move(name)}));
        EXPECT_TRUE(s) << s.error().detail;
        return s ? *s : session{};
    }

    result<session> login(std::string email, std::string_view pw = password) {
        return await(svc_->login(std::move(email), std::string{pw}));
    }

    result<principal> authenticate(std::string token, role min_role = role::user) {
        return await(svc_->authenticate_token(std::move(token), min_role));
    }

    tkt::testing::temp_dir dir_{"auth"};
    manual_clock clock_;
    boost::asio::io_context io_;
    std::unique_ptr<db::database> db_;
    std::unique_ptr<service> svc_;
};

TEST_F(AuthService, SignupReturnsASessionForANewUser) {
    const auto s = signup("  Alice@Example.com ", " Alice ");
    EXPECT_GT(s.account.id, 0);
    EXPECT_EQ(s.account.email, "alice@example.com");
    EXPECT_EQ(s.account.name, "Alice");
    EXPECT_EQ(s.account.role, role::user);
    EXPECT_EQ(s.account.created_at, "2027-01-15T08:00:00Z");
    EXPECT_EQ(s.expires_in, 900);
    EXPECT_FALSE(s.refresh_token.empty());
    const auto who = authenticate(s.access_token);
    ASSERT_TRUE(who) << who.error().detail;
    EXPECT_EQ(who->user_id, s.account.id);
    EXPECT_EQ(who->role, role::user);
}

TEST_F(AuthService, SignupWithATakenEmailIsConflict) {
    signup("bob@example.com");
    const auto again = await(svc_->signup({"BOB@example.com", std::string{password}, "Bob"}));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, problem_code::conflict);
    EXPECT_EQ(again.error().status(), 409);
}

TEST_F(AuthService, SignupValidatesEachField) {
    EXPECT_EQ(await(svc_->signup({"not-an-email", std::string{password}, "X"})).error().field,
              "email");
    EXPECT_EQ(await(svc_->signup({"x@example.com", "short", "X"})).error().field, "password");
    EXPECT_EQ(await(svc_->signup({"x@example.com", std::string{password}, "  "})).error().field,
              "name");
}

TEST_F(AuthService, LoginWithWrongPasswordOrUnknownEmailIsTheSame401) {
    signup("carol@example.com");
    const auto wrong = login("carol@example.com", "wrong password");
    const auto unknown = login("nobody@example.com");
    ASSERT_FALSE(wrong);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(wrong.error().code, problem_code::unauthorized);
    EXPECT_EQ(unknown.error().code, problem_code::unauthorized);
    EXPECT_EQ(wrong.error().detail, unknown.error().detail);
    const auto right = login(" CAROL@example.com");
    ASSERT_TRUE(right) << right.error().detail;
    EXPECT_TRUE(authenticate(right->access_token));
}

TEST_F(AuthService, FiveFailuresLockForFiveMinutesEvenWithTheRightPassword) {
    signup("dave@example.com");
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(login("dave@example.com", "wrong password").error().code,
                  problem_code::unauthorized)
            << i;
    const auto locked = login("dave@example.com");
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, problem_code::account_locked);
    EXPECT_EQ(locked.error().status(), 423);
    EXPECT_EQ(locked.error().retry_after_seconds, 300);
    clock_.advance(299s);
    EXPECT_EQ(login("dave@example.com").error().retry_after_seconds, 1);
    clock_.advance(1s);
    ASSERT_TRUE(login("dave@example.com"));
    // Success reset the counter: four more failures do not lock.
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(login("dave@example.com", "wrong password"));
    EXPECT_TRUE(login("dave@example.com"));
}

TEST_F(AuthService, ALapsedLockGivesAFreshSetOfAttempts) {
    signup("erin@example.com");
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(login("erin@example.com", "wrong password"));
    clock_.advance(301s);
    EXPECT_EQ(login("erin@example.com", "wrong password").error().code, problem_code::unauthorized);
    EXPECT_TRUE(login("erin@example.com"));
}

TEST_F(AuthService, RefreshRotatesAndReuseRevokesTheFamily) {
    const auto first = signup("frank@example.com");
    const auto other = login("frank@example.com");  // a second device, its own family
    ASSERT_TRUE(other);
    const auto second = await(svc_->refresh(first.refresh_token));
    ASSERT_TRUE(second) << second.error().detail;
    EXPECT_NE(second->refresh_token, first.refresh_token);
    EXPECT_EQ(second->account.id, first.account.id);
    EXPECT_TRUE(authenticate(second->access_token));
    const auto third = await(svc_->refresh(second->refresh_token));
    ASSERT_TRUE(third);

    // The first token comes back: someone copied it. Everything in its family dies.
    const auto reused = await(svc_->refresh(first.refresh_token));
    ASSERT_FALSE(reused);
    EXPECT_EQ(reused.error().code, problem_code::unauthorized);
    EXPECT_EQ(await(svc_->refresh(third->refresh_token)).error().code, problem_code::unauthorized);
    // The other device's family is untouched.
    EXPECT_TRUE(await(svc_->refresh(other->refresh_token)));
}

TEST_F(AuthService, RefreshRejectsExpiredAndUnknownTokens) {
    const auto s = signup("gina@example.com");
    EXPECT_EQ(await(svc_->refresh("not-a-token")).error().code, problem_code::unauthorized);
    EXPECT_EQ(await(svc_->refresh("")).error().code, problem_code::unauthorized);
    clock_.advance(std::chrono::seconds{1'209'600});
    EXPECT_EQ(await(svc_->refresh(s.refresh_token)).error().code, problem_code::unauthorized);
}

TEST_F(AuthService, LogoutRevokesTheTokensFamilyOnlyForItsOwner) {
    const auto a = signup("hana@example.com");
    const auto b = signup("ivan@example.com");
    const auto a_who = authenticate(a.access_token);
    ASSERT_TRUE(a_who);
    EXPECT_TRUE(await(svc_->logout(*a_who, b.refresh_token)));  // not hers: ignored
    EXPECT_TRUE(await(svc_->logout(*a_who, a.refresh_token)));
    EXPECT_FALSE(await(svc_->refresh(a.refresh_token)));
    EXPECT_TRUE(await(svc_->refresh(b.refresh_token)));
}

TEST_F(AuthService, AuthenticateRejectsMissingBadAndExpiredTokens) {
    const auto s = signup("jin@example.com");
    EXPECT_EQ(authenticate("").error().code, problem_code::unauthorized);
    EXPECT_EQ(authenticate("a.b.c").error().code, problem_code::unauthorized);
    clock_.advance(900s);
    EXPECT_EQ(authenticate(s.access_token).error().code, problem_code::unauthorized);
}

TEST_F(AuthService, AuthenticateReadsTheHeaderAndRefusesATokenInTheUrl) {
    const auto s = signup("kai@example.com");
    http::testing::headers_map headers{{"Authorization", "Bearer " + s.access_token}};
    http::request with_header;
    with_header.bind_headers(&headers, lookup_header);
    EXPECT_TRUE(await(svc_->authenticate(with_header, role::user)));

    // A route that does not opt in refuses a token that came in the URL, valid or not.
    http::request with_query;
    with_query.query = "access_token=" + s.access_token;
    const auto refused = await(svc_->authenticate(with_query, role::user));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, problem_code::unauthorized);
    EXPECT_NE(refused.error().detail.find("Authorization header"), std::string::npos);
    EXPECT_EQ(await(svc_->authenticate(with_query, role::user, token_source::header)).error().code,
              problem_code::unauthorized);

    // With both, the header is the token, so the query parameter is never looked at.
    http::request with_both;
    with_both.query = "access_token=junk";
    with_both.bind_headers(&headers, lookup_header);
    EXPECT_TRUE(await(svc_->authenticate(with_both, role::user)));

    http::request without;
    EXPECT_EQ(await(svc_->authenticate(without, role::user)).error().code,
              problem_code::unauthorized);
}

TEST_F(AuthService, AStreamingRouteTakesTheTokenFromTheUrlToo) {
    const auto s = signup("lee@example.com");
    http::request with_query;
    with_query.query = "access_token=" + s.access_token;
    const auto who =
        await(svc_->authenticate(with_query, role::user, token_source::header_or_query));
    ASSERT_TRUE(who) << who.error().detail;
    EXPECT_EQ(who->user_id, s.account.id);

    http::testing::headers_map headers{{"Authorization", "Bearer " + s.access_token}};
    http::request with_header;
    with_header.bind_headers(&headers, lookup_header);
    EXPECT_TRUE(await(svc_->authenticate(with_header, role::user, token_source::header_or_query)));

    // The URL's token is checked like any other.
    http::request bad_query;
    bad_query.query = "access_token=a.b.c";
    EXPECT_EQ(await(svc_->authenticate(bad_query, role::user, token_source::header_or_query))
                  .error()
                  .code,
              problem_code::unauthorized);
    http::request without;
    EXPECT_EQ(
        await(svc_->authenticate(without, role::user, token_source::header_or_query)).error().code,
        problem_code::unauthorized);
}

TEST_F(AuthService, AccessTokenOfSaysWhereTheTokenWas) {
    http::testing::headers_map headers{{"Authorization", "Bearer from-header"}};
    http::request both;
    both.query = "access_token=from-url";
    both.bind_headers(&headers, lookup_header);
    EXPECT_EQ(access_token_of(both, token_source::header).value(), "from-header");
    EXPECT_EQ(access_token_of(both, token_source::header_or_query).value(), "from-header");

    http::request url_only;
    url_only.query = "access_token=from-url";
    EXPECT_EQ(access_token_of(url_only, token_source::header).error().code,
              problem_code::unauthorized);
    EXPECT_EQ(access_token_of(url_only, token_source::header_or_query).value(), "from-url");

    http::request none;
    none.query = "page=1";
    EXPECT_EQ(access_token_of(none, token_source::header).value(), "");
    EXPECT_EQ(access_token_of(none, token_source::header_or_query).value(), "");
}

TEST_F(AuthService, RoleBelowTheMinimumIsForbidden) {
    const auto s = signup("lee@example.com");
    const auto denied = authenticate(s.access_token, role::manager);
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, problem_code::forbidden);
    EXPECT_EQ(denied.error().status(), 403);
    // A promotion counts at once: the role is read from the account, not the token.
    ASSERT_TRUE(await(
        svc_->update_user(s.account.id, {.role = role::admin, .disabled = {}, .locked = {}})));
    EXPECT_TRUE(authenticate(s.access_token, role::manager));
    EXPECT_TRUE(authenticate(s.access_token, role::admin));
}

TEST_F(AuthService, AccountReadsOfABatchAreOneQueryForManyIds) {
    const auto a = signup("a@example.com");
    const auto b = signup("b@example.com");
    ASSERT_TRUE(await(
        svc_->update_user(b.account.id, {.role = role::admin, .disabled = true, .locked = {}})));
    const std::vector<std::int64_t> ids{b.account.id, 9999, a.account.id};
    auto rows = db_->run_sync([&](db::connection& c) { return user_store(c).find_accounts(ids); });
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 2u);  // no row for an id that does not exist
    std::ranges::sort(*rows, {}, &user_store::account_row::id);
    EXPECT_EQ((*rows)[0].id, a.account.id);
    EXPECT_EQ((*rows)[0].level, role::user);
    EXPECT_EQ((*rows)[0].status, user_status::active);
    EXPECT_EQ((*rows)[1].id, b.account.id);
    EXPECT_EQ((*rows)[1].level, role::admin);
    EXPECT_EQ((*rows)[1].status, user_status::disabled);
    auto none = db_->run_sync([](db::connection& c) { return user_store(c).find_accounts({}); });
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST_F(AuthService, DisabledUserTokensAre401) {
    const auto s = signup("min@example.com");
    ASSERT_TRUE(authenticate(s.access_token)) << "the account is now in the account cache";
    const auto updated =
        await(svc_->update_user(s.account.id, {.role = {}, .disabled = true, .locked = {}}));
    ASSERT_TRUE(updated);
    EXPECT_EQ(updated->status, user_status::disabled);
    EXPECT_EQ(authenticate(s.access_token).error().code, problem_code::unauthorized);
    EXPECT_EQ(await(svc_->refresh(s.refresh_token)).error().code, problem_code::unauthorized);
    EXPECT_EQ(login("min@example.com").error().code, problem_code::unauthorized);
    ASSERT_TRUE(
        await(svc_->update_user(s.account.id, {.role = {}, .disabled = false, .locked = {}})));
    EXPECT_TRUE(login("min@example.com"));
    // Re-enabling does not bring back the sessions that disabling ended.
    EXPECT_FALSE(await(svc_->refresh(s.refresh_token)));
}

TEST_F(AuthService, AnotherNodesChangeAppliesWithinTheAccountCacheTime) {
    const auto s = signup("ko@example.com");
    ASSERT_TRUE(authenticate(s.access_token));
    // Another node disables the account: this node's service is not told.
    auto changed = db_->run_sync([&](db::connection& c) {
        return c.exec("UPDATE users SET status = 'DISABLED' WHERE id = ?", {s.account.id});
    });
    ASSERT_TRUE(changed) << changed.error().message;
    clock_.advance(std::chrono::milliseconds(999));
    EXPECT_TRUE(authenticate(s.access_token)) << "still trusted within the 1 s time to live";
    clock_.advance(std::chrono::milliseconds(1));
    EXPECT_EQ(authenticate(s.access_token).error().code, problem_code::unauthorized);
}

TEST_F(AuthService, AdminLockHoldsUntilUnlocked) {
    const auto s = signup("nam@example.com");
    ASSERT_TRUE(
        await(svc_->update_user(s.account.id, {.role = {}, .disabled = {}, .locked = true})));
    clock_.advance(std::chrono::hours{24 * 365});
    const auto locked = login("nam@example.com");
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, problem_code::account_locked);
    EXPECT_EQ(locked.error().retry_after_seconds, 0);
    ASSERT_TRUE(
        await(svc_->update_user(s.account.id, {.role = {}, .disabled = {}, .locked = false})));
    EXPECT_TRUE(login("nam@example.com"));
}

TEST_F(AuthService, AdminUnlockClearsAFailureLockout) {
    const auto s = signup("oh@example.com");
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(login("oh@example.com", "wrong password"));
    EXPECT_EQ(login("oh@example.com").error().code, problem_code::account_locked);
    ASSERT_TRUE(
        await(svc_->update_user(s.account.id, {.role = {}, .disabled = {}, .locked = false})));
    EXPECT_TRUE(login("oh@example.com"));
}

TEST_F(AuthService, UpdateOfAnUnknownUserIsNotFound) {
    const auto r =
        await(svc_->update_user(9999, {.role = role::admin, .disabled = {}, .locked = {}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, problem_code::not_found);
}

TEST_F(AuthService, DeleteMeEndsSessionsAndFreesTheEmail) {
    const auto s = signup("park@example.com");
    const auto who = authenticate(s.access_token);
    ASSERT_TRUE(who);
    ASSERT_TRUE(await(svc_->delete_me(*who)));
    EXPECT_EQ(authenticate(s.access_token).error().code, problem_code::unauthorized);
    EXPECT_FALSE(await(svc_->refresh(s.refresh_token)));
    EXPECT_EQ(login("park@example.com").error().code, problem_code::unauthorized);
    const auto again = signup("park@example.com");
    EXPECT_NE(again.account.id, s.account.id);
    EXPECT_TRUE(login("park@example.com"));
    EXPECT_EQ(await(svc_->update_user(s.account.id, {.role = {}, .disabled = false, .locked = {}}))
                  .error()
                  .code,
              problem_code::not_found);
}

TEST_F(AuthService, UpdateMeChangesNameAndPassword) {
    const auto s = signup("quinn@example.com");
    const principal who{.user_id = s.account.id, .role = role::user};
    const auto renamed =
        await(svc_->update_me(who, {.name = " Quinn ", .password = {}, .current_password = {}}));
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->name, "Quinn");

    const std::string next = "a brand new secret";
    EXPECT_EQ(await(svc_->update_me(who, {.name = {}, .password = next, .current_password = {}}))
                  .error()
                  .field,
              "currentPassword");
    EXPECT_EQ(await(svc_->update_me(
                        who, {.name = {}, .password = next, .current_password = "wrong password"}))
                  .error()
                  .code,
              problem_code::unauthorized);
    EXPECT_EQ(await(svc_->update_me(who, {.name = {},
                                          .password = "short",
                                          .current_password = std::string{password}}))
                  .error()
                  .field,
              "password");
    ASSERT_TRUE(await(svc_->update_me(
        who, {.name = {}, .password = next, .current_password = std::string{password}})));
    EXPECT_FALSE(await(svc_->refresh(s.refresh_token)));
    EXPECT_FALSE(login("quinn@example.com"));
    EXPECT_TRUE(login("quinn@example.com", next));
}

TEST_F(AuthService, ListUsersPagesAndSearches) {
    for (const auto* e :
         {"a1@example.com", "a2@example.com", "b1@sample.org", "b2@sample.org", "b3@sample.org"})
        signup(e);
    const auto page = await(svc_->list_users({.q = "", .page = 1, .size = 2}));
    ASSERT_TRUE(page);
    EXPECT_EQ(page->total, 5);
    ASSERT_EQ(page->items.size(), 2u);
    EXPECT_EQ(page->items[0].email, "b1@sample.org");
    const auto found = await(svc_->list_users({.q = "sample", .page = 0, .size = 20}));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->total, 3);
    EXPECT_EQ(await(svc_->list_users({.q = "%", .page = 0, .size = 20}))->total, 0);
    EXPECT_EQ(await(svc_->list_users({.q = "", .page = -1, .size = 20})).error().field, "page");
    EXPECT_EQ(await(svc_->list_users({.q = "", .page = 0, .size = 101})).error().field, "size");
    // page × size would overflow int64, or pass the bound on the offset.
    EXPECT_EQ(await(svc_->list_users(
                        {.q = "", .page = std::numeric_limits<std::int64_t>::max(), .size = 100}))
                  .error()
                  .field,
              "page");
    EXPECT_EQ(await(svc_->list_users({.q = "", .page = 10'001, .size = 100})).error().field,
              "page");
    EXPECT_TRUE(await(svc_->list_users({.q = "", .page = 10'000, .size = 100})));
}

external_identity person(std::string subject, std::string email, bool verified = true) {
    return external_identity{.provider = "kakao",
                             .subject = std::move(subject),
                             .email = std::move(email),
                             .email_verified = verified,
                             .name = "Ryan"};
}

TEST_F(AuthService, ASocialLoginMakesAnAccountWithoutAPasswordAndFindsItAgain) {
    auto first = await(svc_->sign_in_external(person("42", "ryan@kakao.com")));
    ASSERT_TRUE(first) << first.error().detail;
    EXPECT_EQ(first->account.role, role::user);
    EXPECT_EQ(first->account.name, "Ryan");
    EXPECT_TRUE(first->account.password_hash.empty());
    EXPECT_TRUE(authenticate(first->access_token));
    // The same person, even with another address at the provider now: the same account.
    auto again = await(svc_->sign_in_external(person("42", "new@kakao.com")));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->account.id, first->account.id);
    // No password login, not even with an empty password.
    EXPECT_FALSE(login("ryan@kakao.com", ""));
    // The first password needs no current one.
    auto set = await(svc_->update_me(principal{first->account.id, role::user},
                                     profile_update{.password = "a-brand-new-one"}));
    ASSERT_TRUE(set) << set.error().detail;
    EXPECT_TRUE(login("ryan@kakao.com", "a-brand-new-one"));
    auto second = await(svc_->update_me(principal{first->account.id, role::user},
                                        profile_update{.password = "yet-another-one"}));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().field, "currentPassword");
}

TEST_F(AuthService, ASocialLoginLinksAnAccountOnlyByAVerifiedEmail) {
    const auto existing = signup("kim@example.com");
    auto unverified = await(svc_->sign_in_external(person("7", "kim@example.com", false)));
    ASSERT_FALSE(unverified);
    EXPECT_EQ(unverified.error().code, problem_code::conflict);
    auto verified = await(svc_->sign_in_external(person("7", "kim@example.com", true)));
    ASSERT_TRUE(verified) << verified.error().detail;
    EXPECT_EQ(verified->account.id, existing.account.id);
    EXPECT_TRUE(login("kim@example.com"));
}

TEST_F(AuthService, ASocialLoginOfADisabledOrWithdrawnAccountIs401) {
    auto made = await(svc_->sign_in_external(person("9", "gone@kakao.com")));
    ASSERT_TRUE(made);
    ASSERT_TRUE(await(svc_->update_user(made->account.id, {.disabled = true})));
    auto refused = await(svc_->sign_in_external(person("9", "gone@kakao.com")));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, problem_code::unauthorized);
    ASSERT_TRUE(await(svc_->update_user(made->account.id, {.disabled = false})));
    ASSERT_TRUE(await(svc_->delete_me(principal{made->account.id, role::user})));
    // Withdrawn: the person comes back as someone new.
    auto back = await(svc_->sign_in_external(person("9", "gone@kakao.com")));
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_NE(back->account.id, made->account.id);
}

TEST_F(AuthService, CreateUserForTheCli) {
    const auto admin = create_user(*db_, "Root@Example.com", password, "Root", role::admin,
                                   password_cost::min, clock_);
    ASSERT_TRUE(admin) << admin.error().detail;
    EXPECT_EQ(admin->email, "root@example.com");
    EXPECT_EQ(admin->role, role::admin);
    const auto s = login("root@example.com");
    ASSERT_TRUE(s);
    EXPECT_TRUE(authenticate(s->access_token, role::admin));
    EXPECT_EQ(
        create_user(*db_, "root@example.com", password, "Root", role::user, password_cost::min)
            .error()
            .code,
        problem_code::conflict);
    EXPECT_EQ(
        create_user(*db_, "bad", password, "Root", role::user, password_cost::min).error().field,
        "email");
}

}  // namespace
}  // namespace tkt::auth
