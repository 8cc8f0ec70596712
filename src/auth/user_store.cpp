#include "auth/user_store.hpp"

#include <fmt/core.h>

#include "common/assert.hpp"
#include "common/paging.hpp"

namespace tkt::auth {
namespace {

constexpr std::string_view user_columns =
    "id, email, name, password_hash, role, status, failed_logins, locked_until, created_at, "
    "updated_at";

user user_from(const db::row& r) {
    return user{.id = r.int64(0),
                .email = r.text(1),
                .name = r.text(2),
                .password_hash = r.text(3),
                .role = parse_role(r.text(4)).value_or(role::user),
                .status = parse_user_status(r.text(5)).value_or(user_status::disabled),
                .failed_logins = r.int64(6),
                .locked_until = r.opt_int64(7),
                .created_at = r.text(8),
                .updated_at = r.text(9)};
}

db::expected<std::optional<user>> first_user(db::expected<db::query_result> r) {
    if (!r) return std::unexpected(std::move(r.error()));
    if (r->rows.empty()) return std::optional<user>{};
    return std::optional<user>{user_from(r->rows.front())};
}

db::expected<void> done(const db::expected<db::query_result>& r) {
    if (!r) return std::unexpected(r.error());
    return {};
}

db::value opt(std::optional<std::int64_t> v) {
    return v ? db::value{*v} : db::value{nullptr};
}

// LIKE pattern for a substring search; '\' escapes the wildcards a user might type.
std::string like_pattern(std::string_view q) {
    std::string out = "%";
    for (const char c : q) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    out += '%';
    return out;
}

}  // namespace

db::expected<std::optional<user>> user_store::find_by_email(std::string_view email) {
    return first_user(c_.exec(fmt::format("SELECT {} FROM users WHERE email = ?", user_columns),
                              {std::string{email}}));
}

db::expected<std::optional<user>> user_store::find_by_id(std::int64_t id) {
    return first_user(
        c_.exec(fmt::format("SELECT {} FROM users WHERE id = ?", user_columns), {id}));
}

db::expected<std::vector<user_store::account_row>> user_store::find_accounts(
    std::span<const std::int64_t> ids) {
    std::vector<account_row> out;
    if (ids.empty()) return out;
    // The ids go in as one JSON array, so the statement's text (and its cached prepared form)
    // is the same however many there are; each is then a lookup by primary key.
    std::string list = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) list += ',';
        list += std::to_string(ids[i]);
    }
    list += ']';
    auto r = c_.exec(c_.kind() == db::dialect::mysql
                         ? "SELECT id, role, status FROM users WHERE id IN (SELECT j.value FROM "
                           "JSON_TABLE(?, '$[*]' COLUMNS (value BIGINT PATH '$')) AS j)"
                         : "SELECT id, role, status FROM users WHERE id IN "
                           "(SELECT value FROM json_each(?))",
                     {std::move(list)});
    if (!r) return std::unexpected(std::move(r.error()));
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) {
        out.push_back(
            account_row{.id = row.int64(0),
                        .level = parse_role(row.text(1)).value_or(role::user),
                        .status = parse_user_status(row.text(2)).value_or(user_status::disabled)});
    }
    return out;
}

db::expected<std::int64_t> user_store::insert(const new_user& u) {
    auto r = c_.exec(
        "INSERT INTO users (email, name, password_hash, role, status, failed_logins, created_at, "
        "updated_at) "
        "VALUES (?, ?, ?, ?, 'ACTIVE', 0, ?, ?)",
        {u.email, u.name, u.password_hash, std::string{to_string(u.role)}, u.created_at,
         u.created_at});
    if (!r) return std::unexpected(std::move(r.error()));
    return r->last_insert_id;
}

db::expected<user_list> user_store::list(const user_list_query& query) {
    const std::string where =
        query.q.empty() ? "" : " WHERE email LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'";
    std::vector<db::value> params;
    if (!query.q.empty()) {
        const auto pattern = like_pattern(query.q);
        params = {pattern, pattern};
    }
    auto count = c_.exec("SELECT COUNT(*) FROM users" + where, params);
    if (!count) return std::unexpected(std::move(count.error()));
    params.emplace_back(query.size);
    // The service checked the page (common/paging.hpp): the product cannot overflow.
    TKT_ASSERT(page_in_bounds(query.page, query.size));
    params.emplace_back(query.page * query.size);
    auto rows = c_.exec(
        fmt::format("SELECT {} FROM users{} ORDER BY id LIMIT ? OFFSET ?", user_columns, where),
        params);
    if (!rows) return std::unexpected(std::move(rows.error()));
    user_list out;
    out.total = count->rows.empty() ? 0 : count->rows.front().int64(0);
    for (const auto& r : rows->rows) out.items.push_back(user_from(r));
    return out;
}

db::expected<void> user_store::set_login_state(std::int64_t id, std::int64_t failed_logins,
                                               std::optional<std::int64_t> locked_until,
                                               std::string_view now) {
    return done(
        c_.exec("UPDATE users SET failed_logins = ?, locked_until = ?, updated_at = ? WHERE id = ?",
                {failed_logins, opt(locked_until), std::string{now}, id}));
}

db::expected<void> user_store::set_name(std::int64_t id, std::string_view name,
                                        std::string_view now) {
    return done(c_.exec("UPDATE users SET name = ?, updated_at = ? WHERE id = ?",
                        {std::string{name}, std::string{now}, id}));
}

db::expected<void> user_store::set_password_hash(std::int64_t id, std::string_view hash,
                                                 std::string_view now) {
    return done(c_.exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                        {std::string{hash}, std::string{now}, id}));
}

db::expected<void> user_store::set_role(std::int64_t id, role r, std::string_view now) {
    return done(c_.exec("UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
                        {std::string{to_string(r)}, std::string{now}, id}));
}

db::expected<void> user_store::set_status(std::int64_t id, user_status s, std::string_view now) {
    return done(c_.exec("UPDATE users SET status = ?, updated_at = ? WHERE id = ?",
                        {std::string{to_string(s)}, std::string{now}, id}));
}

db::expected<void> user_store::withdraw(std::int64_t id, std::string_view now) {
    // The person may come back through the same provider as someone new.
    if (auto r = c_.exec("DELETE FROM oauth_identities WHERE user_id = ?", {id}); !r)
        return std::unexpected(std::move(r.error()));
    // The placeholder is unique per id and uses the reserved .invalid domain, so it can never
    // collide with a real address nor be signed up for; the name and password go with the
    // account, and an empty hash never verifies.
    return done(
        c_.exec("UPDATE users SET status = 'DELETED', email = ?, name = 'Deleted user', "
                "password_hash = '', "
                "failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
                {fmt::format("deleted-{}@deleted.invalid", id), std::string{now}, id}));
}

db::expected<void> user_store::insert_refresh_token(const new_refresh_token& t) {
    return done(
        c_.exec("INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                {t.user_id, t.family_id, t.token_hash, t.expires_at, t.created_at}));
}

db::expected<std::optional<refresh_token_row>> user_store::find_refresh_token(
    std::string_view token_hash) {
    auto r = c_.exec(
        "SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE "
        "token_hash = ?",
        {std::string{token_hash}});
    if (!r) return std::unexpected(std::move(r.error()));
    if (r->rows.empty()) return std::optional<refresh_token_row>{};
    const auto& row = r->rows.front();
    return std::optional<refresh_token_row>{refresh_token_row{.id = row.int64(0),
                                                              .user_id = row.int64(1),
                                                              .family_id = row.text(2),
                                                              .expires_at = row.int64(3),
                                                              .used_at = row.opt_int64(4),
                                                              .revoked_at = row.opt_int64(5)}};
}

db::expected<bool> user_store::mark_refresh_token_used(std::int64_t id, std::int64_t now_unix) {
    auto r = c_.exec(
        "UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS "
        "NULL",
        {now_unix, id});
    if (!r) return std::unexpected(std::move(r.error()));
    return r->affected_rows == 1;
}

db::expected<void> user_store::revoke_family(std::string_view family_id, std::int64_t now_unix) {
    return done(c_.exec(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        {now_unix, std::string{family_id}}));
}

db::expected<void> user_store::revoke_all_for_user(std::int64_t user_id, std::int64_t now_unix) {
    return done(
        c_.exec("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                {now_unix, user_id}));
}

db::expected<std::optional<oauth_identity>> user_store::find_identity(std::string_view provider,
                                                                      std::string_view subject) {
    auto r = c_.exec(
        "SELECT provider, subject, user_id, email, created_at FROM oauth_identities WHERE "
        "provider = ? AND subject = ?",
        {std::string{provider}, std::string{subject}});
    if (!r) return std::unexpected(std::move(r.error()));
    if (r->rows.empty()) return std::optional<oauth_identity>{};
    const auto& row = r->rows.front();
    return std::optional<oauth_identity>{oauth_identity{.provider = row.text(0),
                                                        .subject = row.text(1),
                                                        .user_id = row.int64(2),
                                                        .email = row.text(3),
                                                        .created_at = row.text(4)}};
}

db::expected<void> user_store::insert_identity(const oauth_identity& i) {
    return done(
        c_.exec("INSERT INTO oauth_identities (provider, subject, user_id, email, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                {i.provider, i.subject, i.user_id, i.email, i.created_at}));
}

db::expected<bool> user_store::spend_state(std::string_view state_id, std::int64_t expires_at,
                                           std::int64_t now_unix) {
    if (auto gone = c_.exec("DELETE FROM oauth_spent_states WHERE expires_at < ?", {now_unix});
        !gone)
        return std::unexpected(std::move(gone.error()));
    auto r = c_.exec("INSERT INTO oauth_spent_states (state_id, expires_at) VALUES (?, ?)",
                     {std::string{state_id}, expires_at});
    if (!r && r.error().code == db::errc::constraint_unique) return false;
    if (!r) return std::unexpected(std::move(r.error()));
    return true;
}

}  // namespace tkt::auth
