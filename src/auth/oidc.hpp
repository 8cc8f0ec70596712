#pragma once
// OpenID Connect, the sans-io half (issue 15): the discovery document, the provider's signing
// keys (JWKS) and the ID token check. The token must be RS256 (what Google and every provider
// we know of sign with by default; "none", HMAC and every other algorithm are refused), signed
// by a key of the JWKS named by its `kid`, issued by the configured issuer for our client id
// (`aud`, and `azp` when there are several audiences), unexpired, and carry the nonce of the
// flow it ends. Plain data and pure functions; a jwk_set may be shared between threads once
// built.
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

using EVP_PKEY = struct evp_pkey_st;

namespace tkt::auth::oidc {

struct discovery {
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string userinfo_endpoint;  // may be empty
    std::string jwks_uri;
};

// `body` is <issuer>/.well-known/openid-configuration; its issuer must be `expected_issuer`
// exactly, and every endpoint https (http for a loopback host only). The error is one line.
std::expected<discovery, std::string> parse_discovery(std::string_view body,
                                                      std::string_view expected_issuer);

// The RSA signing keys of a JWKS; other kinds of key are skipped.
class jwk_set {
public:
    struct key {
        std::string kid;
        std::shared_ptr<EVP_PKEY> pkey;
    };
    const key* find(std::string_view kid) const;
    // The one key, when there is exactly one.
    const key* only() const { return keys_.size() == 1 ? &keys_.front() : nullptr; }
    std::size_t size() const { return keys_.size(); }
    void add(key k) { keys_.push_back(std::move(k)); }

private:
    std::vector<key> keys_;
};

std::expected<jwk_set, std::string> parse_jwks(std::string_view body);

struct id_token_expectations {
    std::string issuer;
    std::string audience;  // our client id
    std::string nonce;
    std::int64_t now_unix = 0;
    // Tolerated clock difference with the provider.
    std::int64_t leeway_seconds = 60;
};

enum class id_token_error {
    malformed,
    unsupported_alg,
    unknown_key,
    bad_signature,
    wrong_issuer,
    wrong_audience,
    expired,
    wrong_nonce,
    missing_claim,
};
std::string_view to_string(id_token_error e);

// The token's claims when every check passes.
std::expected<boost::json::object, id_token_error> verify_id_token(
    std::string_view token, const jwk_set& keys, const id_token_expectations& expect);
// The `kid` of a token's header ("" when it has none or is malformed), to decide whether the
// keys must be fetched again (the provider rotated them).
std::string kid_of(std::string_view token);

}  // namespace tkt::auth::oidc
