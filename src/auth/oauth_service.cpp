#include "auth/oauth_service.hpp"

#include <cctype>
#include <utility>

#include <fmt/core.h>

#include "auth/user_store.hpp"
#include "auth/validation.hpp"
#include "common/log.hpp"

namespace tkt::auth::oauth {
namespace {

using boost::asio::awaitable;

// Discovery documents rarely change; keys are fetched again at once when a token names one we
// do not know (the provider rotated them).
constexpr auto discovery_ttl = std::chrono::hours(1);

problem unavailable(std::string detail) {
    auto p = make_problem(problem_code::unavailable, std::move(detail));
    p.retry_after_seconds = 5;
    return p;
}

problem provider_error(std::string detail) {
    return make_problem(problem_code::oauth_provider_error, std::move(detail));
}

// The provider's `error` parameter, cut short and reduced to what is safe to echo.
std::string safe_code(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 64)) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-') out += c;
    }
    return out.empty() ? std::string("error") : out;
}

}  // namespace

service::service(http::client& client, db::database& db, auth::service& accounts, const clock& clk,
                 keyring keys, service_options options)
    : client_(client),
      db_(db),
      accounts_(accounts),
      clock_(clk),
      keys_(std::move(keys)),
      options_(std::move(options)) {}

const provider* service::find(std::string_view name) const {
    for (const auto& p : options_.providers) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::string service::redirect_uri(std::string_view name) const {
    return fmt::format("{}/api/v1/auth/oauth2/{}/callback", options_.public_url, name);
}

awaitable<result<http::client_response>> service::call(std::string_view provider_name,
                                                       http::client_request req) {
    req.timeout = options_.timeout;
    req.headers.emplace_back("Accept", "application/json");
    auto op = client_.request(std::move(req));
    auto answer = co_await std::move(op);
    if (!answer) {
        log::warn("auth.oauth2_provider_unreachable",
                  {{"provider", provider_name},
                   {"error", http::to_string(answer.error().code)},
                   {"message", answer.error().message}});
        co_return std::unexpected(
            unavailable(answer.error().code == http::client_errc::timeout
                            ? fmt::format("{} did not answer in time; try again", provider_name)
                            : fmt::format("{} cannot be reached; try again", provider_name)));
    }
    if (answer->status >= 500) {
        log::warn("auth.oauth2_provider_failed",
                  {{"provider", provider_name}, {"status", answer->status}});
        co_return std::unexpected(unavailable(
            fmt::format("{} failed to answer ({}); try again", provider_name, answer->status)));
    }
    co_return std::move(*answer);
}

awaitable<result<service::openid>> service::discover(const provider& p, key_refresh refresh) {
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        const auto it = openid_.find(p.name);
        if (it != openid_.end() && now - it->second.fetched < discovery_ttl &&
            refresh == key_refresh::if_missing) {
            co_return it->second;
        }
    }
    http::client_request doc_req;
    doc_req.url = p.issuer + "/.well-known/openid-configuration";
    auto doc_op = call(p.name, std::move(doc_req));
    auto doc = co_await std::move(doc_op);
    if (!doc) co_return std::unexpected(std::move(doc.error()));
    auto where = oidc::parse_discovery(doc->body, p.issuer);
    if (doc->status != 200 || !where) {
        const auto why = where ? fmt::format("status {}", doc->status) : where.error();
        log::warn("auth.oauth2_discovery_failed", {{"provider", p.name}, {"error", why}});
        co_return std::unexpected(provider_error(
            fmt::format("the OpenID configuration of {} is unusable: {}", p.name, why)));
    }
    http::client_request keys_req;
    keys_req.url = where->jwks_uri;
    auto keys_op = call(p.name, std::move(keys_req));
    auto keys_doc = co_await std::move(keys_op);
    if (!keys_doc) co_return std::unexpected(std::move(keys_doc.error()));
    auto keys = oidc::parse_jwks(keys_doc->body);
    if (keys_doc->status != 200 || !keys) {
        co_return std::unexpected(
            provider_error(fmt::format("the signing keys of {} are unusable", p.name)));
    }
    openid fresh{.where = std::move(*where),
                 .keys = std::make_shared<const oidc::jwk_set>(std::move(*keys)),
                 .fetched = now};
    std::lock_guard lock(mutex_);
    openid_[p.name] = fresh;
    co_return fresh;
}

awaitable<result<provider>> service::effective(const provider& p) {
    if (!p.oidc()) co_return p;
    auto found = co_await discover(p, key_refresh::if_missing);
    if (!found) co_return std::unexpected(std::move(found.error()));
    provider out = p;
    out.authorize_url = found->where.authorization_endpoint;
    out.token_url = found->where.token_endpoint;
    out.userinfo_url = found->where.userinfo_endpoint;
    co_return out;
}

awaitable<result<start_answer>> service::start(std::string name, std::string binding) {
    const provider* p = find(name);
    if (p == nullptr)
        co_return std::unexpected(make_problem(problem_code::not_found,
                                               fmt::format("no sign-in provider named {}", name)));
    auto ready = co_await effective(*p);
    if (!ready) co_return std::unexpected(std::move(ready.error()));
    const auto state = new_state(name, binding, unix_seconds(clock_.now()));
    co_return start_answer{.location = authorize_location(
                               *ready, authorize_params{.redirect_uri = redirect_uri(name),
                                                        .state = sign_state(state, keys_),
                                                        .code_challenge = pkce_challenge(
                                                            pkce_verifier(binding, state.id)),
                                                        .nonce = state.nonce})};
}

awaitable<result<void>> service::spend(const state_claims& state) {
    const auto now = unix_seconds(clock_.now());
    auto spent = co_await db_.run(
        [&](db::connection& c) { return user_store(c).spend_state(state.id, state.exp, now); });
    if (!spent) {
        log::error("auth.db_error", {{"message", spent.error().message}});
        co_return std::unexpected(unavailable("the database is busy"));
    }
    if (!*spent) {
        co_return std::unexpected(make_problem(problem_code::oauth_state_invalid,
                                               "this sign-in was already completed: start again"));
    }
    co_return result<void>{};
}

awaitable<result<boost::json::object>> service::identity_claims(const provider& p,
                                                                const token_answer& tokens,
                                                                const state_claims& state) {
    if (tokens.id_token.empty())
        co_return std::unexpected(provider_error(
            fmt::format("{} answered without the ID token OpenID Connect requires", p.name)));
    auto known = co_await discover(p, key_refresh::if_missing);
    if (!known) co_return std::unexpected(std::move(known.error()));
    const auto kid = oidc::kid_of(tokens.id_token);
    if ((kid.empty() ? known->keys->only() : known->keys->find(kid)) == nullptr) {
        // A key we have not seen: the provider may have rotated its keys since we fetched them.
        known = co_await discover(p, key_refresh::always);
        if (!known) co_return std::unexpected(std::move(known.error()));
    }
    const oidc::id_token_expectations expect{.issuer = p.issuer,
                                             .audience = p.client_id,
                                             .nonce = state.nonce,
                                             .now_unix = unix_seconds(clock_.now()),
                                             .leeway_seconds = 60};
    auto claims = oidc::verify_id_token(tokens.id_token, *known->keys, expect);
    if (!claims) {
        log::warn("auth.oauth2_id_token_refused",
                  {{"provider", p.name}, {"error", oidc::to_string(claims.error())}});
        co_return std::unexpected(make_problem(problem_code::oauth_id_token_invalid,
                                               std::string(oidc::to_string(claims.error()))));
    }
    co_return std::move(*claims);
}

awaitable<result<session>> service::finish(callback_params params) {
    const provider* configured = find(params.provider);
    if (configured == nullptr)
        co_return std::unexpected(make_problem(
            problem_code::not_found, fmt::format("no sign-in provider named {}", params.provider)));
    if (!params.error.empty()) {
        co_return std::unexpected(make_problem(
            problem_code::oauth_denied,
            fmt::format("{} did not sign you in: {}", params.provider, safe_code(params.error))));
    }
    auto state = verify_state(params.state, keys_, params.provider, params.binding,
                              unix_seconds(clock_.now()));
    if (!state) co_return std::unexpected(std::move(state.error()));
    if (params.code.empty())
        co_return std::unexpected(
            make_problem(problem_code::oauth_code_invalid, "the callback carries no code"));
    if (auto spent = co_await spend(*state); !spent)
        co_return std::unexpected(std::move(spent.error()));
    auto ready = co_await effective(*configured);
    if (!ready) co_return std::unexpected(std::move(ready.error()));
    const provider& p = *ready;

    http::client_request token_req;
    token_req.method = http::verb::post;
    token_req.url = p.token_url;
    token_req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    token_req.body = token_request_body(p, params.code, redirect_uri(p.name),
                                        pkce_verifier(params.binding, state->id), params.state);
    auto token_op = call(p.name, std::move(token_req));
    auto token_answer_raw = co_await std::move(token_op);
    if (!token_answer_raw) co_return std::unexpected(std::move(token_answer_raw.error()));
    auto tokens = read_token_answer(token_answer_raw->status, token_answer_raw->body);
    if (!tokens) {
        log::warn("auth.oauth2_token_refused",
                  {{"provider", p.name}, {"detail", tokens.error().detail}});
        co_return std::unexpected(std::move(tokens.error()));
    }

    boost::json::object doc;
    if (p.oidc()) {
        auto claims = co_await identity_claims(p, *tokens, *state);
        if (!claims) co_return std::unexpected(std::move(claims.error()));
        doc = std::move(*claims);
    }
    if (!p.userinfo_url.empty()) {
        http::client_request info_req;
        info_req.url = p.userinfo_url;
        info_req.headers.emplace_back("Authorization", "Bearer " + tokens->access_token);
        auto info_op = call(p.name, std::move(info_req));
        auto info_raw = co_await std::move(info_op);
        if (!info_raw) co_return std::unexpected(std::move(info_raw.error()));
        auto info = read_profile_answer(info_raw->status, info_raw->body);
        if (!info) co_return std::unexpected(std::move(info.error()));
        // OpenID Connect: the profile must be the ID token's person (OIDC Core §5.3.2).
        if (p.oidc()) {
            const auto* sub = info->if_contains("sub");
            if (sub == nullptr || *sub != doc.at("sub"))
                co_return std::unexpected(
                    provider_error("the profile belongs to someone other than the ID token's"));
        }
        for (auto& [key, value] : *info) doc[key] = std::move(value);
    }
    auto person = map_profile(doc, p.fields);
    if (!person) co_return std::unexpected(std::move(person.error()));
    external_identity who{.provider = p.name,
                          .subject = std::move(person->subject),
                          .email = std::move(person->email),
                          .email_verified = person->email_verified,
                          .name = std::move(person->name)};
    auto op = accounts_.sign_in_external(std::move(who));
    co_return co_await std::move(op);
}

}  // namespace tkt::auth::oauth
