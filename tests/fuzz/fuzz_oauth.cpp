// Fuzzes what social login reads from the network and from the browser: the OAuth2 `state`
// (verify_state), an OpenID provider's ID token (verify_id_token, kid_of), and the provider's
// answers (parse_discovery, parse_jwks, read_token_answer, read_profile_answer + map_profile).
//
// Properties checked besides "no crash, no sanitizer report":
// - a state that verifies names the provider and the browser binding it was checked against, is
//   unexpired, and sign_state() of its claims gives the same token back; changing any one
//   character of it makes it fail;
// - an ID token that verifies carries the expected issuer, nonce and a subject, is unexpired,
//   and no token verifies whose last part is not an RS256 signature by the provider's key of the
//   fixed JWKS (a changed character fails); ID tokens signed here with claims from the bytes
//   verify exactly when their claims meet the expectations;
// - a discovery document that parses has the expected issuer; a profile that maps has a subject
//   and an email.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/serialize.hpp>

#include "auth/jwt.hpp"
#include "auth/oauth_provider.hpp"
#include "auth/oidc.hpp"
#include "common/assert.hpp"
#include "common/encoding.hpp"

namespace {

namespace oauth = tkt::auth::oauth;
namespace oidc = tkt::auth::oidc;

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view issuer = "http://127.0.0.1:9000/oidc";
constexpr std::string_view audience = "client-1";
constexpr std::string_view nonce = "n-1";
constexpr std::string_view provider_name = "kakao";
constexpr std::string_view binding = "browser-binding-0123456789";

const tkt::auth::keyring& ring() {
    static const auto keys =
        tkt::auth::make_keyring({.kid = "state-key", .secret = "fuzz-state-secret-0123456789abcd"});
    return keys;
}

// The provider's key pair (made once per process) and its JWKS as we parsed it.
struct provider_key {
    std::shared_ptr<EVP_PKEY> key{EVP_RSA_gen(2048), EVP_PKEY_free};
    oidc::jwk_set set;

    provider_key() {
        auto parsed = oidc::parse_jwks(boost::json::serialize(boost::json::object{
            {"keys", boost::json::array{boost::json::object{{"kty", "RSA"},
                                                            {"kid", "key-1"},
                                                            {"alg", "RS256"},
                                                            {"n", big(OSSL_PKEY_PARAM_RSA_N)},
                                                            {"e", big(OSSL_PKEY_PARAM_RSA_E)}}}}}));
        TKT_ASSERT(parsed.has_value());
        set = std::move(*parsed);
    }
    std::string big(const char* name) const {
        BIGNUM* bn = nullptr;
        EVP_PKEY_get_bn_param(key.get(), name, &bn);
        tkt::bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
        BN_bn2bin(bn, out.data());
        BN_free(bn);
        return tkt::base64url_encode(out);
    }
    std::string sign(std::string_view header_json, std::string_view claims_json) const {
        std::string input =
            tkt::base64url_encode(header_json) + "." + tkt::base64url_encode(claims_json);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t size = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get());
        EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        tkt::bytes sig(size);
        EVP_DigestSign(ctx, sig.data(), &size, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(size);
        return input + "." + tkt::base64url_encode(sig);
    }
};

const provider_key& provider() {
    static const provider_key p;
    return p;
}

const oidc::id_token_expectations expect{.issuer = std::string{issuer},
                                         .audience = std::string{audience},
                                         .nonce = std::string{nonce},
                                         .now_unix = now,
                                         .leeway_seconds = 60};

std::string one_changed(std::string_view token) {
    std::string altered(token);
    const std::size_t at = std::hash<std::string_view>{}(token) % altered.size();
    altered[at] = altered[at] == 'A' ? 'B' : 'A';
    return altered;
}

// A string claim, or "" when absent or not a string.
std::string_view text_of(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

void check_state(std::string_view token) {
    auto claims = oauth::verify_state(token, ring(), provider_name, binding, now);
    if (!claims) return;
    TKT_ASSERT(claims->provider == provider_name);
    TKT_ASSERT(claims->exp > now);
    TKT_ASSERT(oauth::sign_state(*claims, ring()) == token);
    TKT_ASSERT(!oauth::verify_state(one_changed(token), ring(), provider_name, binding, now));
    TKT_ASSERT(!oauth::verify_state(token, ring(), provider_name, "another-browser", now));
}

void check_id_token(std::string_view token) {
    (void)oidc::kid_of(token);
    auto claims = oidc::verify_id_token(token, provider().set, expect);
    if (!claims) return;
    TKT_ASSERT(text_of(*claims, "iss") == issuer);
    TKT_ASSERT(text_of(*claims, "nonce") == nonce);
    TKT_ASSERT(!text_of(*claims, "sub").empty());
    TKT_ASSERT(!oidc::verify_id_token(one_changed(token), provider().set, expect));
}

// A token signed here with claims drawn from the bytes verifies exactly when they meet the
// expectations.
void check_signed_by_provider(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const bool good_iss = in.ConsumeBool();
    const bool good_aud = in.ConsumeBool();
    const bool good_nonce = in.ConsumeBool();
    const bool has_sub = in.ConsumeBool();
    const std::int64_t exp = now + in.ConsumeIntegralInRange<std::int64_t>(-600, 600);
    std::string sub = in.ConsumeRandomLengthString(24);
    for (auto& c : sub) c = static_cast<char>('a' + (static_cast<unsigned char>(c) % 26));
    if (sub.empty()) sub = "p";
    boost::json::object claims{{"iss", good_iss ? issuer : "http://127.0.0.1:9000/other"},
                               {"aud", good_aud ? audience : "client-2"},
                               {"nonce", good_nonce ? nonce : "n-2"},
                               {"exp", exp},
                               {"iat", now - 5}};
    if (has_sub) claims["sub"] = sub;
    const auto token = provider().sign(R"({"alg":"RS256","typ":"JWT","kid":"key-1"})",
                                       boost::json::serialize(claims));
    const bool should =
        good_iss && good_aud && good_nonce && has_sub && exp + expect.leeway_seconds > now;
    auto verified = oidc::verify_id_token(token, provider().set, expect);
    TKT_ASSERT(verified.has_value() == should);
    if (verified) TKT_ASSERT(text_of(*verified, "sub") == sub);
}

void check_answers(std::string_view body) {
    if (auto d = oidc::parse_discovery(body, issuer)) TKT_ASSERT(d->issuer == issuer);
    (void)oidc::parse_jwks(body);
    (void)oauth::read_token_answer(200, body);
    (void)oauth::read_token_answer(400, body);
    if (auto doc = oauth::read_profile_answer(200, body)) {
        for (const auto& fields : {oauth::field_map{}, oauth::resolve({.name = "kakao"}).fields,
                                   oauth::resolve({.name = "naver"}).fields}) {
            if (auto p = oauth::map_profile(*doc, fields)) {
                TKT_ASSERT(!p->subject.empty());
                TKT_ASSERT(!p->email.empty());
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_state(text);
    check_id_token(text);
    check_answers(text);
    check_signed_by_provider(data, size);
    return 0;
}
