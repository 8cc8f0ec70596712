#pragma once
// Accounts and sessions: sign-up, login with lockout, rotating refresh tokens, the caller's own
// profile, and the admin's user management (DESIGN.md §1 Users and Roles, §7 auth rows).
//
// Owns the business rules; the SQL lives in user_store and runs on the database's DB threads.
// Every public coroutine may be awaited from any I/O thread, concurrently: the service's only
// state of its own is authenticate()'s two thread-safe caches (accounts, verified tokens), and
// everything that must be consistent (failed-login counters, refresh rotation, reuse detection) is
// read and written inside one DB transaction. Argon2id hashing and verification run inside db.run()
// too, never on the I/O thread.
//
// Refresh tokens are 32 random bytes (base64url) stored only as their SHA-256. Each login starts
// a family; each refresh marks the presented token used and issues the next one in the family.
// Presenting a used or revoked token again means it was copied: the whole family is revoked, so
// neither the thief nor the legitimate holder can go on without logging in.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "auth/account_cache.hpp"
#include "auth/account_loads.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/user.hpp"
#include "auth/user_store.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"
#include "http/message.hpp"

namespace tkt::auth {

struct service_options {
    std::string issuer = "ticketon";
    std::int64_t access_ttl_seconds = 900;
    std::int64_t refresh_ttl_seconds = 1'209'600;  // 14 days
    std::int64_t lockout_threshold = 5;            // consecutive failures
    std::int64_t lockout_seconds = 300;
    password_cost cost = password_cost::interactive;
    // How long authenticate() trusts what it last read of an account (account_cache.hpp).
    std::chrono::milliseconds account_cache_ttl{1000};
};

// What sign-up, login and refresh hand back to the client.
struct session {
    user account;
    std::string access_token;
    std::string refresh_token;
    std::int64_t expires_in = 0;  // seconds until the access token expires
};

struct signup_request {
    std::string email;
    std::string password;
    std::string name;
};

// A person as an OAuth2 provider vouches for them (auth/oauth_provider), for sign_in_external.
struct external_identity {
    std::string provider;
    std::string subject;
    std::string email;  // normalised
    bool email_verified = false;
    std::string name;  // normalised
};

struct profile_update {
    std::optional<std::string> name;
    std::optional<std::string> password;
    // Required with `password`, unless the account has none yet (made by a social login).
    std::optional<std::string> current_password;
};

struct admin_user_update {
    std::optional<auth::role> role;
    std::optional<bool> disabled;
    std::optional<bool> locked;
};

inline constexpr std::int64_t user_page_size_max = 100;

// Where a route takes the access token from. The Authorization header everywhere; the
// `access_token` query parameter too only on routes that opt in: SSE streams, because a browser's
// EventSource cannot set headers. Elsewhere a token in the URL would end up in proxy and access
// logs, so it is refused rather than read.
enum class token_source { header, header_or_query };

// The access token `req` carries where `source` allows it; "" when it carries none. 401 when its
// only token is in the URL and `source` does not take it from there.
result<std::string> access_token_of(const http::request& req, token_source source);

class service {
public:
    service(db::database& db, const clock& clk, keyring keys, service_options options);

    boost::asio::awaitable<result<session>> signup(signup_request request);
    boost::asio::awaitable<result<session>> login(std::string email, std::string password);
    boost::asio::awaitable<result<session>> refresh(std::string refresh_token);
    // A social login: the account linked to (provider, subject); else the account with the same
    // email, linked now, but only when the provider says the address is verified (409 CONFLICT
    // otherwise, so nobody takes over an account with an address they do not own); else a new
    // USER account without a password. One transaction: a failure leaves nothing behind. 401
    // when the account is disabled or withdrawn.
    boost::asio::awaitable<result<session>> sign_in_external(external_identity who);
    // Revokes the family of `refresh_token` when it belongs to `who`; unknown tokens are ignored
    // so logging out twice is not an error.
    boost::asio::awaitable<result<void>> logout(principal who, std::string refresh_token);

    // The caller of `req`: its Bearer token, or its `access_token` query parameter where the
    // route takes that (`source`, see token_source). 401 for no, bad or expired tokens, for a
    // token in the URL of a route that does not take it there, and for accounts no longer
    // active; 403 when the account's role is below `min_role`. `req` must outlive the await.
    boost::asio::awaitable<result<principal>> authenticate(
        const http::request& req, role min_role, token_source source = token_source::header);
    boost::asio::awaitable<result<principal>> authenticate_token(std::string access_token,
                                                                 role min_role);

    boost::asio::awaitable<result<user>> me(principal who);
    boost::asio::awaitable<result<user>> update_me(principal who, profile_update update);
    // Withdrawal: the account becomes DELETED, its email is freed, every session ends.
    boost::asio::awaitable<result<void>> delete_me(principal who);

    boost::asio::awaitable<result<user_list>> list_users(user_list_query query);
    boost::asio::awaitable<result<user>> update_user(std::int64_t id, admin_user_update update);

    const service_options& options() const { return options_; }
    // Prometheus text: account reads that missed the cache and the batches that read them.
    void collect_metrics(std::string& out) const;
    std::int64_t now_unix() const { return unix_seconds(clock_.now()); }

private:
    session make_session(user account, std::string refresh_token) const;

    db::database& db_;
    const clock& clock_;
    keyring keys_;
    service_options options_;
    account_cache accounts_;
    verified_tokens tokens_;
    account_loads loads_;
};

// Creates an account with the given role, validated like a sign-up, blocking on the calling
// thread (for `ticketon user create`; never call it on an I/O thread). 409 CONFLICT when the
// email is taken. The first form stamps created_at from the system clock.
result<user> create_user(db::database& db, std::string_view email, std::string_view password,
                         std::string_view name, role r, password_cost cost);
result<user> create_user(db::database& db, std::string_view email, std::string_view password,
                         std::string_view name, role r, password_cost cost, const clock& clk);

}  // namespace tkt::auth
