#pragma once
// The SQL of the auth module: users and refresh tokens over one borrowed db::connection. Every
// call blocks, so a `user_store` lives only inside a function handed to database::run() or
// transact(), on a DB thread, and is gone when that function returns. It enforces no business
// rule; the service decides, the store reads and writes.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth/user.hpp"
#include "db/database.hpp"

namespace tkt::auth {

struct new_user {
    std::string email;  // normalised
    std::string name;
    std::string password_hash;
    auth::role role = role::user;
    std::string created_at;
};

struct refresh_token_row {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string family_id;
    std::int64_t expires_at = 0;  // unix seconds
    std::optional<std::int64_t> used_at;
    std::optional<std::int64_t> revoked_at;
};

struct new_refresh_token {
    std::int64_t user_id = 0;
    std::string family_id;
    std::string token_hash;  // sha256 hex of the token
    std::int64_t expires_at = 0;
    std::string created_at;
};

// A person at an OAuth2 provider, and the account they sign in to.
struct oauth_identity {
    std::string provider;
    std::string subject;
    std::int64_t user_id = 0;
    std::string email;
    std::string created_at;
};

struct user_list_query {
    std::string q;  // substring of email or name; empty: everyone
    std::int64_t page = 0;
    std::int64_t size = 20;
};

struct user_list {
    std::vector<user> items;
    std::int64_t total = 0;
};

class user_store {
public:
    explicit user_store(db::connection& c) : c_(c) {}

    db::expected<std::optional<user>> find_by_email(std::string_view email);
    db::expected<std::optional<user>> find_by_id(std::int64_t id);
    // Role and status of each of `ids` that exists, in one query (authenticate()'s batched
    // account reads, account_loads.hpp): (id, role, status) per row found, in no order.
    struct account_row {
        std::int64_t id = 0;
        role level = role::user;
        user_status status = user_status::disabled;
    };
    db::expected<std::vector<account_row>> find_accounts(std::span<const std::int64_t> ids);
    // errc::constraint_unique when the email is taken.
    db::expected<std::int64_t> insert(const new_user& u);
    db::expected<user_list> list(const user_list_query& query);

    db::expected<void> set_login_state(std::int64_t id, std::int64_t failed_logins,
                                       std::optional<std::int64_t> locked_until,
                                       std::string_view now);
    db::expected<void> set_name(std::int64_t id, std::string_view name, std::string_view now);
    db::expected<void> set_password_hash(std::int64_t id, std::string_view hash,
                                         std::string_view now);
    db::expected<void> set_role(std::int64_t id, role r, std::string_view now);
    db::expected<void> set_status(std::int64_t id, user_status s, std::string_view now);
    // Marks the account DELETED and frees its email for a new sign-up.
    db::expected<void> withdraw(std::int64_t id, std::string_view now);

    db::expected<void> insert_refresh_token(const new_refresh_token& t);
    db::expected<std::optional<refresh_token_row>> find_refresh_token(std::string_view token_hash);
    // Sets used_at when the token is still unused and unrevoked; false when another request got
    // there first (a concurrent reuse).
    db::expected<bool> mark_refresh_token_used(std::int64_t id, std::int64_t now_unix);
    db::expected<void> revoke_family(std::string_view family_id, std::int64_t now_unix);
    db::expected<void> revoke_all_for_user(std::int64_t user_id, std::int64_t now_unix);

    db::expected<std::optional<oauth_identity>> find_identity(std::string_view provider,
                                                              std::string_view subject);
    // errc::constraint_unique when (provider, subject) is taken.
    db::expected<void> insert_identity(const oauth_identity& identity);
    // Marks a sign-in state spent; false when it already was (a replay). Drops spent states
    // that have expired, which can never come back.
    db::expected<bool> spend_state(std::string_view state_id, std::int64_t expires_at,
                                   std::int64_t now_unix);

private:
    db::connection& c_;
};

}  // namespace tkt::auth
