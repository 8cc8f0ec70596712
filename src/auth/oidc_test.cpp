#include "auth/oidc.hpp"

#include <memory>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/serialize.hpp>

#include "common/encoding.hpp"

namespace tkt::auth::oidc {
namespace {

constexpr std::int64_t now = 1'800'000'000;
const std::string issuer = "http://127.0.0.1:9000/oidc";

// A provider's RSA key, made for the test.
struct rsa_signer {
    std::shared_ptr<EVP_PKEY> key{EVP_RSA_gen(2048), EVP_PKEY_free};
    std::string kid;

    std::string big(const char* name) const {
        BIGNUM* bn = nullptr;
        EVP_PKEY_get_bn_param(key.get(), name, &bn);
        bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
        BN_bn2bin(bn, out.data());
        BN_free(bn);
        return base64url_encode(out);
    }
    boost::json::object jwk() const {
        return {{"kty", "RSA"},
                {"use", "sig"},
                {"alg", "RS256"},
                {"kid", kid},
                {"n", big(OSSL_PKEY_PARAM_RSA_N)},
                {"e", big(OSSL_PKEY_PARAM_RSA_E)}};
    }
    std::string sign(const boost::json::object& header, const boost::json::object& claims) const {
        std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                            base64url_encode(boost::json::serialize(claims));
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t size = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get());
        EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        bytes sig(size);
        EVP_DigestSign(ctx, sig.data(), &size, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(size);
        return input + "." + base64url_encode(sig);
    }
    std::string sign(const boost::json::object& claims) const {
        return sign({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}}, claims);
    }
};

boost::json::object good_claims() {
    return {{"iss", issuer},  {"aud", "client-1"}, {"sub", "person-1"}, {"nonce", "n-1"},
            {"iat", now - 5}, {"exp", now + 300},  {"email", "a@b.co"}};
}

const id_token_expectations expect{.issuer = issuer,
                                   .audience = "client-1",
                                   .nonce = "n-1",
                                   .now_unix = now,
                                   .leeway_seconds = 60};

class id_token : public ::testing::Test {
protected:
    void SetUp() override {
        provider_.kid = "key-1";
        other_.kid = "key-1";  // same name, another key: a forger's
        auto set = parse_jwks(boost::json::serialize(
            boost::json::object{{"keys", boost::json::array{provider_.jwk()}}}));
        ASSERT_TRUE(set.has_value()) << set.error();
        keys_ = std::move(*set);
    }
    id_token_error refused(const std::string& token, const id_token_expectations& e = expect) {
        const auto r = verify_id_token(token, keys_, e);
        EXPECT_FALSE(r.has_value());
        return r ? id_token_error::malformed : r.error();
    }
    rsa_signer provider_, other_;
    jwk_set keys_;
};

TEST_F(id_token, a_good_token_passes) {
    const auto claims = verify_id_token(provider_.sign(good_claims()), keys_, expect);
    ASSERT_TRUE(claims.has_value()) << to_string(claims.error());
    EXPECT_EQ(claims->at("sub"), "person-1");
    EXPECT_EQ(kid_of(provider_.sign(good_claims())), "key-1");
    // Several audiences: azp must be us.
    auto multi = good_claims();
    multi["aud"] = boost::json::array{"client-1", "other"};
    multi["azp"] = "client-1";
    EXPECT_TRUE(verify_id_token(provider_.sign(multi), keys_, expect).has_value());
    multi["azp"] = "other";
    EXPECT_EQ(refused(provider_.sign(multi)), id_token_error::wrong_audience);
}

TEST_F(id_token, a_bad_signature_is_refused) {
    EXPECT_EQ(refused(other_.sign(good_claims())), id_token_error::bad_signature);
    auto token = provider_.sign(good_claims());
    // A claim changed after signing.
    auto tampered = good_claims();
    tampered["sub"] = "admin";
    const auto dot = token.rfind('.');
    const auto forged =
        provider_.sign(tampered).substr(0, provider_.sign(tampered).rfind('.')) + token.substr(dot);
    EXPECT_EQ(refused(forged), id_token_error::bad_signature);
}

TEST_F(id_token, only_rs256_with_a_known_key) {
    EXPECT_EQ(refused(provider_.sign({{"alg", "none"}, {"kid", "key-1"}}, good_claims())),
              id_token_error::unsupported_alg);
    EXPECT_EQ(refused(provider_.sign({{"alg", "HS256"}, {"kid", "key-1"}}, good_claims())),
              id_token_error::unsupported_alg);
    EXPECT_EQ(refused(provider_.sign({{"alg", "RS256"}, {"kid", "key-2"}}, good_claims())),
              id_token_error::unknown_key);
    EXPECT_EQ(refused("not.a-token"), id_token_error::malformed);
    EXPECT_EQ(refused("a.b.c.d"), id_token_error::malformed);
}

TEST_F(id_token, issuer_audience_expiry_and_nonce) {
    auto c = good_claims();
    c["iss"] = "https://evil.example";
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::wrong_issuer);
    c = good_claims();
    c["aud"] = "client-2";
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::wrong_audience);
    c = good_claims();
    c["exp"] = now - 61;
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::expired);
    c["exp"] = now - 30;  // within the leeway
    EXPECT_TRUE(verify_id_token(provider_.sign(c), keys_, expect).has_value());
    c = good_claims();
    c["nonce"] = "n-2";
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::wrong_nonce);
    c.erase("nonce");
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::wrong_nonce);
    c = good_claims();
    c.erase("sub");
    EXPECT_EQ(refused(provider_.sign(c)), id_token_error::missing_claim);
}

TEST(oidc, discovery_documents) {
    const auto ok = parse_discovery(R"({"issuer": "https://id.example",
        "authorization_endpoint": "https://id.example/auth", "token_endpoint":
        "https://id.example/token", "userinfo_endpoint": "https://id.example/me",
        "jwks_uri": "https://id.example/jwks"})",
                                    "https://id.example");
    ASSERT_TRUE(ok.has_value()) << ok.error();
    EXPECT_EQ(ok->token_endpoint, "https://id.example/token");
    EXPECT_FALSE(parse_discovery(R"({"issuer": "https://other.example"})", "https://id.example"));
    EXPECT_FALSE(parse_discovery(R"({"issuer": "https://id.example",
        "authorization_endpoint": "http://id.example/auth", "token_endpoint":
        "https://id.example/token", "jwks_uri": "https://id.example/jwks"})",
                                 "https://id.example"));
    EXPECT_FALSE(parse_discovery("[]", "https://id.example"));
}

TEST(oidc, jwks_skips_keys_it_cannot_use) {
    const auto set = parse_jwks(R"({"keys": [{"kty": "EC", "kid": "e", "crv": "P-256"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}]})");
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->size(), 0u);
    EXPECT_FALSE(parse_jwks("{}"));
}

}  // namespace
}  // namespace tkt::auth::oidc
