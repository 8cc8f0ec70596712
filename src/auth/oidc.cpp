#include "auth/oidc.hpp"

#include <optional>

#include <fmt/core.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.hpp"
#include "common/ip_address.hpp"

namespace tkt::auth::oidc {
namespace {

constexpr std::size_t token_bytes_max = 16384;

std::string string_of(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::optional<boost::json::object> json_object_of(std::string_view text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

std::optional<boost::json::object> decode_part(std::string_view part) {
    const auto raw = base64url_decode(part);
    if (!raw) return std::nullopt;
    return json_object_of(as_chars(*raw));
}

std::shared_ptr<EVP_PKEY> rsa_key(const bytes& n, const bytes& e) {
    BIGNUM* bn_n = BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY* pkey = nullptr;
    if (bn_n != nullptr && bn_e != nullptr && bld != nullptr && ctx != nullptr &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    if (pkey == nullptr) return nullptr;
    return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
}

bool rs256_valid(EVP_PKEY* key, std::string_view input, const bytes& signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return false;
    const bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx, signature.data(), signature.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::optional<std::int64_t> int_of(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return std::nullopt;
}

// `aud` is one string or an array; with several audiences `azp` must be us too.
bool audience_matches(const boost::json::object& claims, std::string_view client_id) {
    const auto* aud = claims.if_contains("aud");
    if (aud == nullptr) return false;
    if (aud->is_string()) return aud->get_string() == client_id;
    if (!aud->is_array()) return false;
    bool found = false;
    for (const auto& a : aud->get_array())
        found = found || (a.is_string() && a.get_string() == client_id);
    if (!found) return false;
    if (aud->get_array().size() == 1) return true;
    return string_of(claims, "azp") == client_id;
}

struct parts {
    std::string_view header, payload, signature;
};

std::optional<parts> split(std::string_view token) {
    const auto a = token.find('.');
    if (a == std::string_view::npos) return std::nullopt;
    const auto b = token.find('.', a + 1);
    if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
        return std::nullopt;
    return parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

}  // namespace

std::expected<discovery, std::string> parse_discovery(std::string_view body,
                                                      std::string_view expected_issuer) {
    const auto o = json_object_of(body);
    if (!o) return std::unexpected("the discovery document is not a JSON object");
    discovery d{.issuer = string_of(*o, "issuer"),
                .authorization_endpoint = string_of(*o, "authorization_endpoint"),
                .token_endpoint = string_of(*o, "token_endpoint"),
                .userinfo_endpoint = string_of(*o, "userinfo_endpoint"),
                .jwks_uri = string_of(*o, "jwks_uri")};
    if (d.issuer != expected_issuer)
        return std::unexpected(
            fmt::format("the discovery document names issuer \"{}\", not the "
                        "configured one",
                        d.issuer.substr(0, 200)));
    for (const auto* url : {&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri}) {
        if (!is_https_or_loopback_url(*url))
            return std::unexpected("the discovery document lacks an https endpoint it needs");
    }
    if (!d.userinfo_endpoint.empty() && !is_https_or_loopback_url(d.userinfo_endpoint))
        return std::unexpected("the discovery document's userinfo_endpoint is not https");
    return d;
}

const jwk_set::key* jwk_set::find(std::string_view kid) const {
    for (const auto& k : keys_) {
        if (k.kid == kid) return &k;
    }
    return nullptr;
}

std::expected<jwk_set, std::string> parse_jwks(std::string_view body) {
    const auto o = json_object_of(body);
    const auto* keys = o ? o->if_contains("keys") : nullptr;
    if (keys == nullptr || !keys->is_array())
        return std::unexpected("the JWKS is not an object with a keys array");
    jwk_set out;
    for (const auto& entry : keys->get_array()) {
        const auto* k = entry.if_object();
        if (k == nullptr || string_of(*k, "kty") != "RSA") continue;
        const auto use = string_of(*k, "use");
        if (!use.empty() && use != "sig") continue;
        const auto n = base64url_decode(string_of(*k, "n"));
        const auto e = base64url_decode(string_of(*k, "e"));
        if (!n || !e || n->empty() || e->empty()) continue;
        auto pkey = rsa_key(*n, *e);
        if (pkey) out.add({string_of(*k, "kid"), std::move(pkey)});
    }
    return out;
}

std::string_view to_string(id_token_error e) {
    switch (e) {
        case id_token_error::malformed:
            return "malformed ID token";
        case id_token_error::unsupported_alg:
            return "ID token algorithm is not RS256";
        case id_token_error::unknown_key:
            return "ID token signed with an unknown key";
        case id_token_error::bad_signature:
            return "ID token signature is invalid";
        case id_token_error::wrong_issuer:
            return "ID token issued by someone else";
        case id_token_error::wrong_audience:
            return "ID token issued for another client";
        case id_token_error::expired:
            return "ID token expired";
        case id_token_error::wrong_nonce:
            return "ID token nonce does not match this sign-in";
        case id_token_error::missing_claim:
            return "ID token lacks a required claim";
    }
    return "ID token invalid";
}

std::string kid_of(std::string_view token) {
    const auto p = split(token);
    if (!p) return {};
    const auto header = decode_part(p->header);
    return header ? string_of(*header, "kid") : std::string{};
}

std::expected<boost::json::object, id_token_error> verify_id_token(
    std::string_view token, const jwk_set& keys, const id_token_expectations& expect) {
    using enum id_token_error;
    if (token.size() > token_bytes_max) return std::unexpected(malformed);
    const auto p = split(token);
    if (!p) return std::unexpected(malformed);
    const auto header = decode_part(p->header);
    auto claims = decode_part(p->payload);
    const auto signature = base64url_decode(p->signature);
    if (!header || !claims || !signature) return std::unexpected(malformed);
    // Exactly "RS256": "none", "HS256" (which would use a public key as an HMAC secret) and the
    // rest never reach the signature check.
    if (string_of(*header, "alg") != "RS256") return std::unexpected(unsupported_alg);
    const auto kid = string_of(*header, "kid");
    // A token without `kid` is accepted only when the set holds a single key.
    const jwk_set::key* key = kid.empty() ? keys.only() : keys.find(kid);
    if (key == nullptr) return std::unexpected(unknown_key);
    const std::string_view input = token.substr(0, p->header.size() + 1 + p->payload.size());
    if (!rs256_valid(key->pkey.get(), input, *signature)) return std::unexpected(bad_signature);
    if (string_of(*claims, "iss") != expect.issuer) return std::unexpected(wrong_issuer);
    if (!audience_matches(*claims, expect.audience)) return std::unexpected(wrong_audience);
    const auto exp = int_of(*claims, "exp");
    if (!exp || string_of(*claims, "sub").empty()) return std::unexpected(missing_claim);
    if (*exp + expect.leeway_seconds <= expect.now_unix) return std::unexpected(expired);
    if (string_of(*claims, "nonce") != expect.nonce || expect.nonce.empty())
        return std::unexpected(wrong_nonce);
    return std::move(*claims);
}

}  // namespace tkt::auth::oidc
