#pragma once
// Social login, the sans-io half (issue 15, DESIGN.md §7, §9): what each OAuth2 / OpenID Connect
// provider is, how the trip to it is spelled, and how its answers are read. No sockets and no
// clock: oauth_service carries the requests out and passes the time in.
//
// A provider is the operator's `[auth.oauth2.<name>]` settings over a preset: `kakao`, `naver`
// and `google` have their real endpoints and profile fields built in; any other name needs an
// issuer (OIDC discovery) or its own endpoints. The flow is the authorization code grant with
// PKCE (S256, RFC 7636), a signed `state` bound to the browser by a cookie, and, for OpenID
// Connect, a nonce that the ID token must carry back.
//
// Everything here is plain data and pure functions, safe from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "auth/jwt.hpp"
#include "common/config.hpp"
#include "common/problem.hpp"

namespace tkt::auth::oauth {

// Which fields of the profile (userinfo answer or ID token claims) say what; dotted paths into
// nested objects ("kakao_account.email"). An empty email_verified path: the provider never says,
// so its addresses count as unverified.
struct field_map {
    std::string subject = "sub";
    std::string email = "email";
    std::string email_verified = "email_verified";
    std::string name = "name";
};

struct provider {
    std::string name;
    std::string client_id;
    std::string client_secret;  // empty: a public client (PKCE alone)
    // Set: OpenID Connect. The endpoints below are then filled in from discovery.
    std::string issuer;
    std::string authorize_url;
    std::string token_url;
    std::string userinfo_url;
    std::string scopes;  // space-separated
    field_map fields;
    // Naver wants the state repeated in the token request.
    bool state_in_token_request = false;

    bool oidc() const { return !issuer.empty(); }
};

// The settings over their preset.
provider resolve(const oauth2_provider_config& settings);

// ---- The browser's binding, the state and PKCE ----

// The cookie that binds a flow to the browser that started it.
inline constexpr std::string_view binding_cookie = "tkt_oauth2";
inline constexpr std::int64_t state_ttl_seconds = 600;

// A fresh cookie value: 32 random bytes, base64url.
std::string new_binding();
// The cookie's value in a Cookie header, or "" when absent or malformed.
std::string binding_of(std::string_view cookie_header);
// The Set-Cookie value; `secure` when the public URL is https.
enum class cookie_security { plain, secure };
std::string binding_set_cookie(std::string_view binding, cookie_security security);

struct state_claims {
    std::string provider;
    std::string binding_hash;  // base64url(sha256(cookie value))
    std::string nonce;
    std::string id;  // unique per flow; spent once
    std::int64_t exp = 0;
};

// A new flow's claims for `provider`, bound to `binding`, valid until now + state_ttl_seconds.
state_claims new_state(std::string_view provider_name, std::string_view binding,
                       std::int64_t now_unix);
std::string sign_state(const state_claims& claims, const keyring& keys);
// The claims when `token` is a state this server signed for `provider_name`, unexpired at
// `now_unix`, and started by the browser holding `binding`; otherwise OAUTH_STATE_INVALID.
result<state_claims> verify_state(std::string_view token, const keyring& keys,
                                  std::string_view provider_name, std::string_view binding,
                                  std::int64_t now_unix);

// RFC 7636: the verifier is derived from the cookie and the flow's id, so it is never sent
// anywhere before the token request and needs no storage; the challenge is its S256.
std::string pkce_verifier(std::string_view binding, std::string_view state_id);
std::string pkce_challenge(std::string_view verifier);

// ---- Requests ----

struct authorize_params {
    std::string redirect_uri;
    std::string state;
    std::string code_challenge;
    std::string nonce;  // sent to OpenID Connect providers only
};
std::string authorize_location(const provider& p, const authorize_params& params);

// application/x-www-form-urlencoded body of the token request (client_secret_post).
std::string token_request_body(const provider& p, std::string_view code,
                               std::string_view redirect_uri, std::string_view verifier,
                               std::string_view state);
std::string form_encode(std::string_view text);

// ---- Answers ----

struct token_answer {
    std::string access_token;
    std::string id_token;  // empty when the provider sent none
};
// The token endpoint's answer: tokens, OAUTH_CODE_INVALID when the provider refused the code
// (also inside a 200, as Naver does), OAUTH_PROVIDER_ERROR for anything else unusable.
result<token_answer> read_token_answer(int status, std::string_view body);

// What we keep of a person's profile at the provider.
struct profile {
    std::string subject;
    std::string email;  // normalised (auth/validation)
    bool email_verified = false;
    std::string name;
};
// Reads a profile with `fields`; OAUTH_PROFILE_INCOMPLETE when the subject or a usable email is
// missing. A missing or unusable name falls back to the email's local part.
result<profile> map_profile(const boost::json::object& doc, const field_map& fields);
// The userinfo endpoint's answer as a JSON object; OAUTH_PROVIDER_ERROR otherwise.
result<boost::json::object> read_profile_answer(int status, std::string_view body);

}  // namespace tkt::auth::oauth
