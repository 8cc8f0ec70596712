#include "auth/oauth_provider.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "auth/validation.hpp"
#include "common/encoding.hpp"

namespace tkt::auth::oauth {
namespace {

// The documented endpoints and profile shapes of the providers that need no more than a client
// id and secret. Kakao: GET /v2/user/me → {id: <number>, kakao_account: {email,
// is_email_verified, profile: {nickname}}}. Naver: GET /v1/nid/me → {resultcode, message,
// response: {id, email, name, nickname}}; it never says whether the address was verified.
// Google: OpenID Connect with discovery.
provider preset(std::string_view name) {
    provider p;
    p.name = std::string(name);
    if (name == "kakao") {
        p.authorize_url = "https://kauth.kakao.com/oauth/authorize";
        p.token_url = "https://kauth.kakao.com/oauth/token";
        p.userinfo_url = "https://kapi.kakao.com/v2/user/me";
        p.scopes = "profile_nickname account_email";
        p.fields = {.subject = "id",
                    .email = "kakao_account.email",
                    .email_verified = "kakao_account.is_email_verified",
                    .name = "kakao_account.profile.nickname"};
    } else if (name == "naver") {
        p.authorize_url = "https://nid.naver.com/oauth2.0/authorize";
        p.token_url = "https://nid.naver.com/oauth2.0/token";
        p.userinfo_url = "https://openapi.naver.com/v1/nid/me";
        p.fields = {.subject = "response.id",
                    .email = "response.email",
                    .email_verified = "",
                    .name = "response.name"};
        p.state_in_token_request = true;
    } else if (name == "google") {
        p.issuer = "https://accounts.google.com";
    }
    return p;
}

void override_with(std::string& field, const std::string& value) {
    if (!value.empty()) field = value;
}

std::string joined(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (!out.empty()) out += ' ';
        out += s;
    }
    return out;
}

// The value at a dotted path, or nullptr.
const boost::json::value* at_path(const boost::json::object& doc, std::string_view path) {
    const boost::json::object* current = &doc;
    while (true) {
        const auto dot = path.find('.');
        const auto* v = current->if_contains(path.substr(0, dot));
        if (v == nullptr || dot == std::string_view::npos) return v;
        current = v->if_object();
        if (current == nullptr) return nullptr;
        path.remove_prefix(dot + 1);
    }
}

// Subjects are strings or (Kakao) numbers; either way compared as text.
std::string text_at(const boost::json::object& doc, std::string_view path) {
    if (path.empty()) return {};
    const auto* v = at_path(doc, path);
    if (v == nullptr) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    return {};
}

bool flag_at(const boost::json::object& doc, std::string_view path) {
    if (path.empty()) return false;
    const auto* v = at_path(doc, path);
    if (v == nullptr) return false;
    if (v->is_bool()) return v->get_bool();
    // Some providers send "true" as text.
    return v->is_string() && v->get_string() == "true";
}

problem provider_error(std::string detail) {
    return make_problem(problem_code::oauth_provider_error, std::move(detail));
}

// A provider's error code, cut short and reduced to what is safe to echo.
std::string safe_code(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 64)) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.')
            out += c;
    }
    return out;
}

}  // namespace

provider resolve(const oauth2_provider_config& settings) {
    provider p = preset(settings.name);
    p.client_id = settings.client_id;
    p.client_secret = settings.client_secret;
    override_with(p.issuer, settings.issuer);
    override_with(p.authorize_url, settings.authorize_url);
    override_with(p.token_url, settings.token_url);
    override_with(p.userinfo_url, settings.userinfo_url);
    if (!settings.scopes.empty()) p.scopes = joined(settings.scopes);
    if (p.scopes.empty() && p.oidc()) p.scopes = "openid email profile";
    override_with(p.fields.subject, settings.subject_field);
    override_with(p.fields.email, settings.email_field);
    override_with(p.fields.email_verified, settings.email_verified_field);
    override_with(p.fields.name, settings.name_field);
    return p;
}

// ---- Binding, state, PKCE ----

std::string new_binding() {
    return base64url_encode(random_bytes(32));
}

std::string binding_of(std::string_view header) {
    while (!header.empty()) {
        const auto semi = std::min(header.find(';'), header.size());
        std::string_view item = header.substr(0, semi);
        header.remove_prefix(std::min(semi + 1, header.size()));
        while (item.starts_with(' ')) item.remove_prefix(1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || item.substr(0, eq) != binding_cookie) continue;
        const auto value = item.substr(eq + 1);
        // Only what new_binding() makes: 43 characters of base64url.
        if (value.size() != 43 || !base64url_decode(value)) return {};
        return std::string(value);
    }
    return {};
}

std::string binding_set_cookie(std::string_view binding, cookie_security security) {
    return fmt::format("{}={}; Path=/api/v1/auth/oauth2; Max-Age={}; HttpOnly; SameSite=Lax{}",
                       binding_cookie, binding, state_ttl_seconds,
                       security == cookie_security::secure ? "; Secure" : "");
}

state_claims new_state(std::string_view provider_name, std::string_view binding,
                       std::int64_t now_unix) {
    return state_claims{.provider = std::string(provider_name),
                        .binding_hash = base64url_encode(sha256(binding)),
                        .nonce = base64url_encode(random_bytes(16)),
                        .id = base64url_encode(random_bytes(16)),
                        .exp = now_unix + state_ttl_seconds};
}

std::string sign_state(const state_claims& c, const keyring& keys) {
    // `typ` keeps a state from ever passing for another kind of token signed with these keys.
    return sign_payload(boost::json::object{{"typ", "oauth2_state"},
                                            {"prv", c.provider},
                                            {"bnd", c.binding_hash},
                                            {"non", c.nonce},
                                            {"jti", c.id},
                                            {"exp", c.exp}},
                        keys);
}

result<state_claims> verify_state(std::string_view token, const keyring& keys,
                                  std::string_view provider_name, std::string_view binding,
                                  std::int64_t now_unix) {
    auto bad = [](std::string detail) -> result<state_claims> {
        return std::unexpected(make_problem(problem_code::oauth_state_invalid, std::move(detail)));
    };
    if (token.empty()) return bad("the state parameter is missing");
    if (binding.empty())
        return bad("the sign-in cookie is missing: start again from the same browser");
    auto payload = verify_payload(token, keys);
    if (!payload) return bad("the state was not issued by this server");
    auto text = [&](std::string_view name) -> std::string {
        const auto* v = payload->if_contains(name);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
    };
    const auto exp = int_claim(*payload, "exp");
    state_claims c{.provider = text("prv"),
                   .binding_hash = text("bnd"),
                   .nonce = text("non"),
                   .id = text("jti"),
                   .exp = exp.value_or(0)};
    if (text("typ") != "oauth2_state" || c.id.empty() || !exp)
        return bad("the state was not issued by this server");
    if (c.provider != provider_name) return bad("the state belongs to another provider");
    if (c.exp <= now_unix) return bad("the sign-in took too long: start again");
    if (!constant_time_equal(c.binding_hash, base64url_encode(sha256(binding))))
        return bad("the sign-in was started in another browser");
    return c;
}

std::string pkce_verifier(std::string_view binding, std::string_view state_id) {
    return base64url_encode(sha256(fmt::format("pkce|{}|{}", binding, state_id)));
}

std::string pkce_challenge(std::string_view verifier) {
    return base64url_encode(sha256(verifier));
}

// ---- Requests ----

std::string authorize_location(const provider& p, const authorize_params& a) {
    boost::urls::url url(p.authorize_url);
    auto params = url.params();
    params.append({"response_type", "code"});
    params.append({"client_id", p.client_id});
    params.append({"redirect_uri", a.redirect_uri});
    if (!p.scopes.empty()) params.append({"scope", p.scopes});
    params.append({"state", a.state});
    params.append({"code_challenge", a.code_challenge});
    params.append({"code_challenge_method", "S256"});
    if (p.oidc()) params.append({"nonce", a.nonce});
    return std::string(url.buffer());
}

std::string form_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

std::string token_request_body(const provider& p, std::string_view code,
                               std::string_view redirect_uri, std::string_view verifier,
                               std::string_view state) {
    std::string body = fmt::format(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}",
        form_encode(code), form_encode(redirect_uri), form_encode(p.client_id),
        form_encode(verifier));
    if (!p.client_secret.empty()) body += "&client_secret=" + form_encode(p.client_secret);
    if (p.state_in_token_request) body += "&state=" + form_encode(state);
    return body;
}

// ---- Answers ----

result<token_answer> read_token_answer(int status, std::string_view body) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    const auto* o = ec ? nullptr : doc.if_object();
    if (o == nullptr) {
        return std::unexpected(provider_error(
            fmt::format("the token endpoint answered {} without a JSON object", status)));
    }
    if (const auto* e = o->if_contains("error"); e != nullptr && e->is_string()) {
        const auto code = safe_code(e->get_string());
        // Our own registration is wrong: no person can fix that by trying again.
        if (code == "invalid_client" || code == "unauthorized_client")
            return std::unexpected(
                provider_error(fmt::format("the provider refused our client: {}", code)));
        return std::unexpected(
            make_problem(problem_code::oauth_code_invalid,
                         fmt::format("the provider refused the authorization code: {}", code)));
    }
    const auto* access = o->if_contains("access_token");
    if (status != 200 || access == nullptr || !access->is_string() ||
        access->get_string().empty()) {
        return std::unexpected(provider_error(
            fmt::format("the token endpoint answered {} without an access token", status)));
    }
    token_answer out{.access_token = std::string(access->get_string()), .id_token = {}};
    if (const auto* id = o->if_contains("id_token"); id != nullptr && id->is_string())
        out.id_token = std::string(id->get_string());
    return out;
}

result<boost::json::object> read_profile_answer(int status, std::string_view body) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    if (status != 200 || ec || !doc.is_object()) {
        return std::unexpected(provider_error(
            fmt::format("the profile endpoint answered {} without a JSON profile", status)));
    }
    return std::move(doc.as_object());
}

result<profile> map_profile(const boost::json::object& doc, const field_map& fields) {
    auto incomplete = [](std::string detail) -> result<profile> {
        return std::unexpected(
            make_problem(problem_code::oauth_profile_incomplete, std::move(detail)));
    };
    profile out;
    out.subject = text_at(doc, fields.subject);
    if (out.subject.empty() || out.subject.size() > 255)
        return incomplete(fmt::format("the profile has no usable {}", fields.subject));
    const auto email = text_at(doc, fields.email);
    if (email.empty()) {
        return incomplete(fmt::format("the profile has no {}: allow the email address to be shared",
                                      fields.email));
    }
    auto canonical = normalize_email(email);
    if (!canonical) return incomplete(fmt::format("{} is not a usable address", fields.email));
    out.email = std::move(*canonical);
    out.email_verified = flag_at(doc, fields.email_verified);
    auto name = normalize_name(text_at(doc, fields.name));
    if (!name) name = normalize_name(out.email.substr(0, out.email.find('@')));
    out.name = name ? std::move(*name) : std::string("User");
    return out;
}

}  // namespace tkt::auth::oauth
