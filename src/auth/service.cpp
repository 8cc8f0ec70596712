#include "auth/service.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/core.h>

#include "auth/validation.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/paging.hpp"
#include "db/problem.hpp"
#include "http/metrics.hpp"

namespace tkt::auth {
namespace {

using boost::asio::awaitable;

constexpr std::size_t refresh_token_bytes = 32;
constexpr std::string_view bad_credentials_detail = "email or password is incorrect";
constexpr std::string_view bad_refresh_detail = "refresh token is invalid, expired or revoked";

problem db_problem(const db::error& e) {
    return db::as_problem(e, "auth");
}

problem unauthorized(std::string_view detail) {
    return make_problem(problem_code::unauthorized, std::string{detail});
}

problem locked_problem(std::int64_t locked_until, std::int64_t now) {
    auto p =
        make_problem(problem_code::account_locked, "too many failed logins; the account is locked");
    // An admin's lock has no end to count down to, so it carries no Retry-After.
    if (locked_until < lock_forever_unix) {
        p.retry_after_seconds = static_cast<int>(std::max<std::int64_t>(1, locked_until - now));
    } else {
        p.detail = "the account is locked; ask an administrator";
    }
    return p;
}

std::string generate_refresh_token() {
    return base64url_encode(random_bytes(refresh_token_bytes));
}
std::string new_family_id() {
    return hex_encode(random_bytes(16));
}

// Stores a fresh token of `family_id` for `user_id` and returns the token itself, which exists
// nowhere else from now on: only its hash is kept.
db::expected<std::string> issue_refresh_token(user_store& store, std::int64_t user_id,
                                              std::string family_id, std::int64_t now,
                                              std::int64_t ttl_seconds) {
    auto token = generate_refresh_token();
    auto stored = store.insert_refresh_token(
        new_refresh_token{.user_id = user_id,
                          .family_id = std::move(family_id),
                          .token_hash = sha256_hex(token),
                          .expires_at = now + ttl_seconds,
                          .created_at = format_rfc3339(time_point{std::chrono::seconds{now}})});
    if (!stored) return std::unexpected(std::move(stored.error()));
    return token;
}

// The user after a write, which must still be there: it was read in the same transaction.
db::expected<user> reload(user_store& store, std::int64_t id) {
    auto u = store.find_by_id(id);
    if (!u) return std::unexpected(std::move(u.error()));
    if (!*u)
        return std::unexpected(
            db::error{db::errc::not_found, "user vanished during its own update"});
    return std::move(**u);
}

std::string rfc3339_of(std::int64_t unix) {
    return format_rfc3339(time_point{std::chrono::seconds{unix}});
}

template <class T>
result<T> lift(db::expected<T> r) {
    if (!r) return std::unexpected(db_problem(r.error()));
    return std::move(*r);
}

result<void> lift(const db::expected<void>& r) {
    if (!r) return std::unexpected(db_problem(r.error()));
    return {};
}

// A user and their new refresh token, produced on a DB thread; the access token is signed
// afterwards on the caller's thread.
struct session_seed {
    user account;
    std::string refresh_token;
};

// What a login attempt decided. Failures are values, not errors, so the transaction that counts
// them commits.
struct login_outcome {
    enum class kind { success, bad_credentials, locked } outcome = kind::bad_credentials;
    session_seed seed;
    std::int64_t locked_until = 0;
};

struct login_limits {
    std::int64_t threshold;
    std::int64_t lockout_seconds;
    std::int64_t refresh_ttl_seconds;
};

// Inside a transaction, after the (slow) password check: counts a failure or resets the
// counters and opens a session. The counters are read again here because another attempt may
// have changed them while the password was being checked.
db::expected<login_outcome> settle_login(db::connection& c, std::int64_t user_id,
                                         password_match match, std::int64_t now,
                                         const login_limits& limits) {
    user_store store(c);
    auto u = reload(store, user_id);
    if (!u) return std::unexpected(std::move(u.error()));
    if (u->locked_at(now))
        return login_outcome{
            .outcome = login_outcome::kind::locked, .seed = {}, .locked_until = *u->locked_until};
    // Disabled by an admin while the password was being checked.
    if (u->status != user_status::active) return login_outcome{};
    const auto stamp = rfc3339_of(now);
    if (match == password_match::no) {
        // A lock that has run out gives a fresh set of attempts.
        const auto previous = u->locked_until ? 0 : u->failed_logins;
        const auto failures = previous + 1;
        const auto lock = failures >= limits.threshold ? std::optional{now + limits.lockout_seconds}
                                                       : std::nullopt;
        auto saved = store.set_login_state(user_id, failures, lock, stamp);
        if (!saved) return std::unexpected(std::move(saved.error()));
        return login_outcome{};
    }
    if (u->failed_logins != 0 || u->locked_until) {
        auto saved = store.set_login_state(user_id, 0, std::nullopt, stamp);
        if (!saved) return std::unexpected(std::move(saved.error()));
        u->failed_logins = 0;
        u->locked_until.reset();
    }
    auto token =
        issue_refresh_token(store, user_id, new_family_id(), now, limits.refresh_ttl_seconds);
    if (!token) return std::unexpected(std::move(token.error()));
    return login_outcome{.outcome = login_outcome::kind::success,
                         .seed = session_seed{std::move(*u), std::move(*token)},
                         .locked_until = 0};
}

// On a DB thread: look the account up, refuse it while locked, check the password (slow), then
// settle. Unknown and inactive accounts cost one hash check too, so timing reveals nothing.
db::expected<login_outcome> attempt_login(db::connection& c, const std::string& email,
                                          const std::string& password, std::int64_t now,
                                          password_cost cost, const login_limits& limits) {
    auto found = user_store(c).find_by_email(email);
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found || (*found)->status != user_status::active) {
        static_cast<void>(verify_password(password, dummy_password_hash(cost)));
        return login_outcome{};
    }
    const auto& u = **found;
    if (u.locked_at(now))
        return login_outcome{
            .outcome = login_outcome::kind::locked, .seed = {}, .locked_until = *u.locked_until};
    const auto match = verify_password(password, u.password_hash);
    auto settle = [&](db::connection& tc) { return settle_login(tc, u.id, match, now, limits); };
    return db::database::in_transaction(c, settle);
}

// What a refresh decided; `rejected` commits too, because a reuse revokes the family.
struct refresh_outcome {
    bool accepted = false;
    session_seed seed;
};

db::expected<refresh_outcome> rotate_refresh_token(db::connection& c, const std::string& token_hash,
                                                   std::int64_t now, std::int64_t ttl_seconds) {
    user_store store(c);
    auto found = store.find_refresh_token(token_hash);
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found) return refresh_outcome{};
    const auto& t = **found;
    auto reject_family = [&]() -> db::expected<refresh_outcome> {
        auto revoked = store.revoke_family(t.family_id, now);
        if (!revoked) return std::unexpected(std::move(revoked.error()));
        return refresh_outcome{};
    };
    if (t.used_at || t.revoked_at) {
        log::warn("auth.refresh_reuse", {{"userId", t.user_id}, {"family", t.family_id}});
        return reject_family();
    }
    if (t.expires_at <= now) return refresh_outcome{};
    auto u = store.find_by_id(t.user_id);
    if (!u) return std::unexpected(std::move(u.error()));
    if (!*u || (*u)->status != user_status::active) return reject_family();
    auto marked = store.mark_refresh_token_used(t.id, now);
    if (!marked) return std::unexpected(std::move(marked.error()));
    if (!*marked) return reject_family();
    auto next = issue_refresh_token(store, t.user_id, t.family_id, now, ttl_seconds);
    if (!next) return std::unexpected(std::move(next.error()));
    return refresh_outcome{.accepted = true,
                           .seed = session_seed{std::move(**u), std::move(*next)}};
}

// Inside a transaction: the account for an external identity, linked or made as needed.
result<std::int64_t> account_for(user_store& store, const external_identity& who,
                                 const std::string& stamp) {
    auto linked = lift(store.find_identity(who.provider, who.subject));
    if (!linked) return std::unexpected(std::move(linked.error()));
    if (*linked) return (*linked)->user_id;
    auto same_email = lift(store.find_by_email(who.email));
    if (!same_email) return std::unexpected(std::move(same_email.error()));
    std::int64_t id = 0;
    if (*same_email) {
        if (!who.email_verified) {
            return std::unexpected(make_problem(
                problem_code::conflict,
                "an account with this email exists, and the provider does not say the address is "
                "verified: log in with the password"));
        }
        id = (*same_email)->id;
    } else {
        auto made = store.insert(new_user{.email = who.email,
                                          .name = who.name,
                                          .password_hash = "",
                                          .role = role::user,
                                          .created_at = stamp});
        if (!made) return std::unexpected(db_problem(made.error()));
        id = *made;
    }
    auto saved = lift(store.insert_identity(oauth_identity{.provider = who.provider,
                                                           .subject = who.subject,
                                                           .user_id = id,
                                                           .email = who.email,
                                                           .created_at = stamp}));
    if (!saved) return std::unexpected(std::move(saved.error()));
    return id;
}

}  // namespace

service::service(db::database& db, const clock& clk, keyring keys, service_options options)
    : db_(db),
      clock_(clk),
      keys_(std::move(keys)),
      options_(std::move(options)),
      accounts_(options_.account_cache_ttl),
      loads_(db, accounts_, clk,
             [](db::connection& c,
                const std::vector<std::int64_t>& ids) -> db::expected<account_loads::found> {
                 auto rows = user_store(c).find_accounts(ids);
                 if (!rows) return std::unexpected(std::move(rows.error()));
                 account_loads::found out;
                 out.reserve(rows->size());
                 for (const auto& r : *rows) {
                     out[r.id] =
                         account_state{.active = r.status == user_status::active, .level = r.level};
                 }
                 return out;
             }) {}

session service::make_session(user account, std::string refresh_token) const {
    const auto now = now_unix();
    const claims c{.sub = std::to_string(account.id),
                   .role = std::string{to_string(account.role)},
                   .iat = now,
                   .exp = now + options_.access_ttl_seconds,
                   .iss = options_.issuer};
    return session{.account = std::move(account),
                   .access_token = sign(c, keys_),
                   .refresh_token = std::move(refresh_token),
                   .expires_in = options_.access_ttl_seconds};
}

awaitable<result<session>> service::signup(signup_request request) {
    auto email = normalize_email(request.email);
    if (!email) co_return std::unexpected(std::move(email.error()));
    if (auto ok = check_password(request.password); !ok)
        co_return std::unexpected(std::move(ok.error()));
    auto name = normalize_name(request.name);
    if (!name) co_return std::unexpected(std::move(name.error()));
    const auto now = now_unix();
    // The hash on a DB pool thread (Argon2id is slow by design: never on an I/O thread), then the
    // rows through the group-committing writer: a flood of sign-ups shares commits instead of
    // queueing on SQLite's write lock one transaction each.
    auto hash = co_await db_.run([&request, this](db::connection&) {
        return hash_password(request.password, options_.cost);
    });
    if (!hash)
        co_return std::unexpected(make_problem(problem_code::internal, "password hashing failed"));
    auto seed = co_await db_.write([&](db::connection& tc) -> result<session_seed> {
        user_store store(tc);
        auto id = store.insert(new_user{.email = *email,
                                        .name = *name,
                                        .password_hash = *hash,
                                        .role = role::user,
                                        .created_at = rfc3339_of(now)});
        if (!id && id.error().code == db::errc::constraint_unique) {
            return std::unexpected(
                make_problem(problem_code::conflict, "email is already registered"));
        }
        if (!id) return std::unexpected(db_problem(id.error()));
        auto token = lift(
            issue_refresh_token(store, *id, new_family_id(), now, options_.refresh_ttl_seconds));
        if (!token) return std::unexpected(std::move(token.error()));
        auto u = lift(reload(store, *id));
        if (!u) return std::unexpected(std::move(u.error()));
        return session_seed{std::move(*u), std::move(*token)};
    });
    if (!seed) co_return std::unexpected(std::move(seed.error()));
    log::info("auth.signup", {{"userId", seed->account.id}});
    co_return make_session(std::move(seed->account), std::move(seed->refresh_token));
}

awaitable<result<session>> service::sign_in_external(external_identity who) {
    const auto now = now_unix();
    auto seed = co_await db_.transact([&](db::connection& c) -> result<session_seed> {
        user_store store(c);
        auto id = account_for(store, who, rfc3339_of(now));
        if (!id) return std::unexpected(std::move(id.error()));
        auto u = lift(reload(store, *id));
        if (!u) return std::unexpected(std::move(u.error()));
        if (u->status != user_status::active)
            return std::unexpected(unauthorized("the account is not active"));
        auto token = lift(
            issue_refresh_token(store, *id, new_family_id(), now, options_.refresh_ttl_seconds));
        if (!token) return std::unexpected(std::move(token.error()));
        return session_seed{std::move(*u), std::move(*token)};
    });
    if (!seed) co_return std::unexpected(std::move(seed.error()));
    log::info("auth.oauth2_sign_in", {{"userId", seed->account.id}, {"provider", who.provider}});
    co_return make_session(std::move(seed->account), std::move(seed->refresh_token));
}

awaitable<result<session>> service::login(std::string email, std::string password) {
    // No shape check here: a malformed address simply matches no account, and the answer is
    // the same 401 as for any unknown email.
    auto canonical = normalize_email(email);
    const auto key = canonical ? std::move(*canonical) : std::string{};
    const auto now = now_unix();
    const login_limits limits{options_.lockout_threshold, options_.lockout_seconds,
                              options_.refresh_ttl_seconds};
    auto outcome = co_await db_.run([&](db::connection& c) {
        return attempt_login(c, key, password, now, options_.cost, limits);
    });
    if (!outcome) co_return std::unexpected(db_problem(outcome.error()));
    switch (outcome->outcome) {
        case login_outcome::kind::locked:
            co_return std::unexpected(locked_problem(outcome->locked_until, now));
        case login_outcome::kind::bad_credentials:
            co_return std::unexpected(unauthorized(bad_credentials_detail));
        case login_outcome::kind::success:
            break;
    }
    co_return make_session(std::move(outcome->seed.account),
                           std::move(outcome->seed.refresh_token));
}

awaitable<result<session>> service::refresh(std::string refresh_token) {
    if (refresh_token.empty()) co_return std::unexpected(unauthorized(bad_refresh_detail));
    const auto hash = sha256_hex(refresh_token);
    const auto now = now_unix();
    auto outcome = co_await db_.transact([&](db::connection& c) {
        return rotate_refresh_token(c, hash, now, options_.refresh_ttl_seconds);
    });
    if (!outcome) co_return std::unexpected(db_problem(outcome.error()));
    if (!outcome->accepted) co_return std::unexpected(unauthorized(bad_refresh_detail));
    co_return make_session(std::move(outcome->seed.account),
                           std::move(outcome->seed.refresh_token));
}

awaitable<result<void>> service::logout(principal who, std::string refresh_token) {
    const auto hash = sha256_hex(refresh_token);
    const auto now = now_unix();
    auto done = co_await db_.transact([&](db::connection& c) -> db::expected<void> {
        user_store store(c);
        auto found = store.find_refresh_token(hash);
        if (!found) return std::unexpected(std::move(found.error()));
        // Someone else's token is left alone: knowing a token is not owning it.
        if (!*found || (*found)->user_id != who.user_id) return {};
        return store.revoke_family((*found)->family_id, now);
    });
    co_return lift(done);
}

result<std::string> access_token_of(const http::request& req, token_source source) {
    if (const auto bearer = req.bearer_token(); !bearer.empty()) return std::string{bearer};
    auto in_url = req.query_param("access_token");
    if (!in_url) return std::string{};
    if (source == token_source::header_or_query) return std::move(*in_url);
    return std::unexpected(
        unauthorized("send the access token in the Authorization header; the access_token "
                     "parameter is taken on streaming routes only"));
}

awaitable<result<principal>> service::authenticate(const http::request& req, role min_role,
                                                   token_source source) {
    auto token = access_token_of(req, source);
    if (!token) co_return std::unexpected(std::move(token.error()));
    // Started before the co_await: g++ 12 destroys a by-value coroutine argument twice when
    // the call sits inside the co_await expression.
    auto op = authenticate_token(std::move(*token), min_role);
    co_return co_await std::move(op);
}

awaitable<result<principal>> service::authenticate_token(std::string access_token, role min_role) {
    if (access_token.empty())
        co_return std::unexpected(unauthorized("an access token is required"));
    const auto now = clock_.now();
    std::int64_t id = 0;
    if (auto known = tokens_.find(access_token, unix_seconds(now))) {
        id = *known;
    } else {
        const auto c = verify(access_token, keys_, options_.issuer, now);
        if (!c) {
            co_return std::unexpected(unauthorized(
                c.error() == jwt_error::expired ? "access token expired" : "access token invalid"));
        }
        const auto* end = c->sub.data() + c->sub.size();
        if (auto [p, ec] = std::from_chars(c->sub.data(), end, id); ec != std::errc{} || p != end) {
            co_return std::unexpected(unauthorized("access token invalid"));
        }
        tokens_.put(access_token, id, c->exp, unix_seconds(now));
    }
    auto state = accounts_.find(id, now);
    if (!state) {
        // Read with the other misses of the moment (account_loads.hpp), and remembered there.
        // An unknown id is not remembered: ids come from tokens this server signed, so it means
        // a deleted row, which is rare.
        auto found = co_await loads_.load(id);
        if (!found) co_return std::unexpected(db_problem(found.error()));
        state = found->value_or(account_state{.active = false, .level = role::user});
    }
    if (!state->active) co_return std::unexpected(unauthorized("the account is not active"));
    const principal who{.user_id = id, .role = state->level};
    if (!at_least(who.role, min_role)) {
        co_return std::unexpected(make_problem(
            problem_code::forbidden, fmt::format("requires role {}", to_string(min_role))));
    }
    co_return who;
}

void service::collect_metrics(std::string& out) const {
    http::append_counter(out, "ticketon_account_reads_total",
                         "Account reads of authentication that missed the cache.",
                         loads_.ids_read());
    http::append_counter(out, "ticketon_account_read_batches_total",
                         "Database reads that carried them, batched.", loads_.batches());
}

awaitable<result<user>> service::me(principal who) {
    auto found = co_await db_.run(
        [id = who.user_id](db::connection& c) { return user_store(c).find_by_id(id); });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    if (!*found || (*found)->status != user_status::active) {
        co_return std::unexpected(unauthorized("the account is not active"));
    }
    co_return std::move(**found);
}

awaitable<result<user>> service::update_me(principal who, profile_update update) {
    std::optional<std::string> name;
    if (update.name) {
        auto n = normalize_name(*update.name);
        if (!n) co_return std::unexpected(std::move(n.error()));
        name = std::move(*n);
    }
    if (update.password) {
        if (auto ok = check_password(*update.password); !ok)
            co_return std::unexpected(std::move(ok.error()));
    }
    const auto now = now_unix();
    co_return co_await db_.run([&](db::connection& c) -> result<user> {
        auto found = lift(user_store(c).find_by_id(who.user_id));
        if (!found) return std::unexpected(std::move(found.error()));
        if (!*found || (*found)->status != user_status::active)
            return std::unexpected(unauthorized("the account is not active"));
        std::optional<std::string> new_hash;
        // An account made by a social login has no password yet: its first needs no current one.
        const bool has_password = !(*found)->password_hash.empty();
        if (update.password && has_password) {
            if (!update.current_password) {
                return std::unexpected(
                    validation_error("currentPassword", "is required to change the password"));
            }
            if (verify_password(*update.current_password, (*found)->password_hash) ==
                password_match::no) {
                return std::unexpected(unauthorized("current password is incorrect"));
            }
        }
        if (update.password) {
            new_hash = hash_password(*update.password, options_.cost);
            if (!new_hash)
                return std::unexpected(
                    make_problem(problem_code::internal, "password hashing failed"));
        }
        auto write = [&](db::connection& tc) -> result<user> {
            user_store store(tc);
            const auto stamp = rfc3339_of(now);
            if (name) {
                if (auto r = lift(store.set_name(who.user_id, *name, stamp)); !r)
                    return std::unexpected(r.error());
            }
            if (new_hash) {
                // A new password ends every session but the caller's current access token.
                if (auto r = lift(store.set_password_hash(who.user_id, *new_hash, stamp)); !r)
                    return std::unexpected(r.error());
                if (auto r = lift(store.revoke_all_for_user(who.user_id, now)); !r)
                    return std::unexpected(r.error());
            }
            return lift(reload(store, who.user_id));
        };
        return db::database::in_transaction(c, write);
    });
}

awaitable<result<void>> service::delete_me(principal who) {
    const auto now = now_unix();
    auto done = co_await db_.transact([&](db::connection& c) -> db::expected<void> {
        user_store store(c);
        if (auto r = store.withdraw(who.user_id, rfc3339_of(now)); !r) return r;
        return store.revoke_all_for_user(who.user_id, now);
    });
    accounts_.forget(who.user_id);
    if (done) log::info("auth.withdraw", {{"userId", who.user_id}});
    co_return lift(done);
}

awaitable<result<user_list>> service::list_users(user_list_query query) {
    if (auto window = page_window_of(query.page, query.size, user_page_size_max); !window)
        co_return std::unexpected(std::move(window.error()));
    if (query.q.size() > email_chars_max)
        co_return std::unexpected(validation_error("q", "must be at most 254 characters"));
    auto list = co_await db_.run([&](db::connection& c) { return user_store(c).list(query); });
    co_return lift(std::move(list));
}

awaitable<result<user>> service::update_user(std::int64_t id, admin_user_update update) {
    const auto now = now_unix();
    auto updated =
        co_await db_.transact([&](db::connection& c) -> db::expected<std::optional<user>> {
            user_store store(c);
            auto found = store.find_by_id(id);
            if (!found) return std::unexpected(std::move(found.error()));
            // A withdrawn account is gone for every purpose, administration included.
            if (!*found || (*found)->status == user_status::deleted) return std::optional<user>{};
            const auto stamp = rfc3339_of(now);
            if (update.role) {
                if (auto r = store.set_role(id, *update.role, stamp); !r)
                    return std::unexpected(r.error());
            }
            if (update.disabled) {
                const auto status = *update.disabled ? user_status::disabled : user_status::active;
                if (auto r = store.set_status(id, status, stamp); !r)
                    return std::unexpected(r.error());
                if (*update.disabled) {
                    if (auto r = store.revoke_all_for_user(id, now); !r)
                        return std::unexpected(r.error());
                }
            }
            if (update.locked) {
                const auto until = *update.locked ? std::optional{lock_forever_unix} : std::nullopt;
                const auto failures = *update.locked ? (*found)->failed_logins : 0;
                if (auto r = store.set_login_state(id, failures, until, stamp); !r)
                    return std::unexpected(r.error());
            }
            auto u = reload(store, id);
            if (!u) return std::unexpected(std::move(u.error()));
            return std::optional<user>{std::move(*u)};
        });
    accounts_.forget(id);
    if (!updated) co_return std::unexpected(db_problem(updated.error()));
    if (!*updated)
        co_return std::unexpected(make_problem(problem_code::not_found, "user not found"));
    log::info("auth.admin_update", {{"userId", id}});
    co_return std::move(**updated);
}

result<user> create_user(db::database& db, std::string_view email, std::string_view password,
                         std::string_view name, role r, password_cost cost) {
    return create_user(db, email, password, name, r, cost, system_clock{});
}

result<user> create_user(db::database& db, std::string_view email, std::string_view password,
                         std::string_view name, role r, password_cost cost, const clock& clk) {
    auto canonical = normalize_email(email);
    if (!canonical) return std::unexpected(std::move(canonical.error()));
    if (auto ok = check_password(password); !ok) return std::unexpected(std::move(ok.error()));
    auto display = normalize_name(name);
    if (!display) return std::unexpected(std::move(display.error()));
    auto hash = hash_password(password, cost);
    if (!hash)
        return std::unexpected(make_problem(problem_code::internal, "password hashing failed"));
    const auto created_at = format_rfc3339(clk.now());
    return db.run_sync([&](db::connection& c) -> result<user> {
        user_store store(c);
        auto id = store.insert(new_user{.email = *canonical,
                                        .name = *display,
                                        .password_hash = *hash,
                                        .role = r,
                                        .created_at = created_at});
        if (!id && id.error().code == db::errc::constraint_unique) {
            return std::unexpected(
                make_problem(problem_code::conflict, "email is already registered"));
        }
        if (!id) return std::unexpected(db_problem(id.error()));
        return lift(reload(store, *id));
    });
}

}  // namespace tkt::auth
