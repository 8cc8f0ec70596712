#include "auth/jwt.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.hpp"
#include "common/testing/temp_dir.hpp"

namespace tkt::auth {
namespace {

using namespace std::chrono_literals;

const time_point now{std::chrono::seconds{1'800'000'000}};
const std::string issuer = "ticketon";

jwt_key key(std::string kid, char fill) {
    return jwt_key{std::move(kid), std::string(32, fill)};
}

claims sample_claims() {
    return claims{.sub = "42",
                  .role = "USER",
                  .iat = unix_seconds(now),
                  .exp = unix_seconds(now + 900s),
                  .iss = issuer};
}

std::string hs256(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
    return base64url_encode(std::span<const std::uint8_t>(mac, size));
}

// A token with a hand-made header and payload, signed with `secret` (empty: no signature).
std::string forge(std::string_view header_json, std::string_view payload_json,
                  std::string_view secret) {
    std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    return input + "." + (secret.empty() ? std::string{} : hs256(secret, input));
}

std::string payload_of(const claims& c) {
    return boost::json::serialize(boost::json::object{
        {"sub", c.sub}, {"role", c.role}, {"iat", c.iat}, {"exp", c.exp}, {"iss", c.iss}});
}

std::string header_of(std::string_view alg, std::string_view kid) {
    return boost::json::serialize(boost::json::object{{"alg", alg}, {"typ", "JWT"}, {"kid", kid}});
}

TEST(Jwt, RoundTrip) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token = sign(sample_claims(), ring);
    const auto c = verify(token, ring, issuer, now);
    ASSERT_TRUE(c) << to_string(c.error());
    EXPECT_EQ(c->sub, "42");
    EXPECT_EQ(c->role, "USER");
    EXPECT_EQ(c->iat, unix_seconds(now));
    EXPECT_EQ(c->exp, unix_seconds(now + 900s));
    EXPECT_EQ(c->iss, issuer);
    const auto header = base64url_decode(token.substr(0, token.find('.')));
    ASSERT_TRUE(header);
    EXPECT_EQ(as_chars(*header), R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
}

TEST(Jwt, HandMadeHs256TokenVerifies) {
    // Guards the test helper itself, so the rejections below fail for the reason they name.
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token =
        forge(header_of("HS256", "k1"), payload_of(sample_claims()), ring.signing.secret);
    EXPECT_TRUE(verify(token, ring, issuer, now));
}

TEST(Jwt, SignaturesMatchOpenSslHmacForEveryKeyLength) {
    // The signer's HMAC is its own (a reused SHA-256 context); OpenSSL's one-shot HMAC() is the
    // reference, across keys shorter than, equal to and longer than SHA-256's 64-byte block.
    for (std::size_t size : {32, 63, 64, 65, 100, 200}) {
        std::string secret(size, '\0');
        for (std::size_t i = 0; i < size; ++i) secret[i] = static_cast<char>(i * 7 + size);
        const auto ring = make_keyring(jwt_key{"k1", secret});
        const auto token = sign(sample_claims(), ring);
        const auto input = token.substr(0, token.rfind('.'));
        EXPECT_EQ(token.substr(token.rfind('.') + 1), hs256(secret, input)) << size;
        EXPECT_TRUE(verify(forge(header_of("HS256", "k1"), payload_of(sample_claims()), secret),
                           ring, issuer, now))
            << size;
    }
}

TEST(Jwt, RejectsAlgNoneInAnyCase) {
    const auto ring = make_keyring(key("k1", 'a'));
    for (const auto* alg : {"none", "None", "NONE", "nOnE", "hs256"}) {
        const auto unsigned_token = forge(header_of(alg, "k1"), payload_of(sample_claims()), "");
        EXPECT_EQ(verify(unsigned_token, ring, issuer, now).error(), jwt_error::unsupported_alg)
            << alg;
        const auto signed_token =
            forge(header_of(alg, "k1"), payload_of(sample_claims()), ring.signing.secret);
        EXPECT_EQ(verify(signed_token, ring, issuer, now).error(), jwt_error::unsupported_alg)
            << alg;
    }
    const auto no_alg =
        forge(R"({"typ":"JWT","kid":"k1"})", payload_of(sample_claims()), ring.signing.secret);
    EXPECT_EQ(verify(no_alg, ring, issuer, now).error(), jwt_error::unsupported_alg);
}

TEST(Jwt, RejectsHs512) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token =
        forge(header_of("HS512", "k1"), payload_of(sample_claims()), ring.signing.secret);
    EXPECT_EQ(verify(token, ring, issuer, now).error(), jwt_error::unsupported_alg);
}

TEST(Jwt, RejectsWrongSignature) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto other = make_keyring(key("k1", 'b'));
    EXPECT_EQ(verify(sign(sample_claims(), other), ring, issuer, now).error(),
              jwt_error::bad_signature);
    auto token = sign(sample_claims(), ring);
    token.erase(token.rfind('.') + 1);
    EXPECT_EQ(verify(token, ring, issuer, now).error(), jwt_error::bad_signature);
}

TEST(Jwt, RejectsTamperedPayload) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token = sign(sample_claims(), ring);
    auto admin = sample_claims();
    admin.role = "ADMIN";
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    const auto tampered =
        token.substr(0, first + 1) + base64url_encode(payload_of(admin)) + token.substr(second);
    EXPECT_EQ(verify(tampered, ring, issuer, now).error(), jwt_error::bad_signature);
}

TEST(Jwt, RejectsUnknownOrMissingKid) {
    const auto ring = make_keyring(key("k1", 'a'));
    EXPECT_EQ(
        verify(sign(sample_claims(), make_keyring(key("k2", 'a'))), ring, issuer, now).error(),
        jwt_error::unknown_key);
    const auto no_kid =
        forge(R"({"alg":"HS256","typ":"JWT"})", payload_of(sample_claims()), ring.signing.secret);
    EXPECT_EQ(verify(no_kid, ring, issuer, now).error(), jwt_error::unknown_key);
}

TEST(Jwt, RejectsExpiredAtAndAfterExp) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token = sign(sample_claims(), ring);
    EXPECT_TRUE(verify(token, ring, issuer, now + 899s));
    EXPECT_EQ(verify(token, ring, issuer, now + 900s).error(), jwt_error::expired);
    EXPECT_EQ(verify(token, ring, issuer, now + 3600s).error(), jwt_error::expired);
}

TEST(Jwt, RejectsWrongIssuer) {
    const auto ring = make_keyring(key("k1", 'a'));
    EXPECT_EQ(verify(sign(sample_claims(), ring), ring, "someone-else", now).error(),
              jwt_error::wrong_issuer);
}

TEST(Jwt, RejectsMissingClaims) {
    const auto ring = make_keyring(key("k1", 'a'));
    for (const auto* name : {"sub", "role", "iat", "exp", "iss"}) {
        auto payload = boost::json::parse(payload_of(sample_claims())).as_object();
        payload.erase(name);
        const auto token =
            forge(header_of("HS256", "k1"), boost::json::serialize(payload), ring.signing.secret);
        EXPECT_EQ(verify(token, ring, issuer, now).error(), jwt_error::missing_claim) << name;
    }
    const auto string_exp =
        forge(header_of("HS256", "k1"),
              R"({"sub":"1","role":"USER","iat":1,"exp":"9999999999","iss":"ticketon"})",
              ring.signing.secret);
    EXPECT_EQ(verify(string_exp, ring, issuer, now).error(), jwt_error::missing_claim);
}

// The claims are read without a JSON tree (jwt.cpp's member_reader); these are the cases where
// such a reader could part from boost::json::parse's reading.
TEST(Jwt, ReadsClaimsAsAJsonTreeWould) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto verified = [&](std::string_view payload, std::string_view header = {}) {
        const auto h = header.empty() ? header_of("HS256", "k1") : std::string(header);
        return verify(forge(h, payload, ring.signing.secret), ring, issuer, now);
    };
    // Escapes are decoded; members nested deeper than the top are not claims; unknown ones
    // (objects, arrays, numbers of every kind) are skipped.
    const auto c =
        verified(R"({"x":{"sub":"9","exp":1},"sub":"4\u0032","role":"US\"ER","y":[1,{"iss":"z"}],)"
                 R"("iat":1.5e3,"iat":0,"exp":9999999999,"z":-1,"w":18446744073709551615,"n":null,)"
                 R"("t":true,"iss":"ticketon"})");
    ASSERT_TRUE(c) << to_string(c.error());
    EXPECT_EQ(c->sub, "42");
    EXPECT_EQ(c->role, "US\"ER");
    EXPECT_EQ(c->iat, 0);  // the last of duplicate keys wins
    EXPECT_EQ(c->exp, 9999999999);
    // A duplicate of the wrong type wins too; numbers that are not int64 are no claim.
    EXPECT_EQ(verified(R"({"sub":"1","role":"USER","iat":1,"exp":9999999999,"exp":"1",)"
                       R"("iss":"ticketon"})")
                  .error(),
              jwt_error::missing_claim);
    EXPECT_EQ(verified(R"({"sub":"1","role":"USER","iat":1,"exp":9999999999.0,)"
                       R"("iss":"ticketon"})")
                  .error(),
              jwt_error::missing_claim);
    EXPECT_EQ(verified(R"({"sub":"1","role":"USER","iat":1,"exp":18446744073709551615,)"
                       R"("iss":"ticketon"})")
                  .error(),
              jwt_error::missing_claim);
    EXPECT_EQ(verified(R"({"sub":{"a":"1"},"role":"USER","iat":1,"exp":9999999999,)"
                       R"("iss":"ticketon"})")
                  .error(),
              jwt_error::missing_claim);
    // Not one JSON object: trailing data, a trailing comma, a comment, too deep, not an object.
    const auto ok = payload_of(sample_claims());
    EXPECT_EQ(verified(ok + " {}").error(), jwt_error::malformed);
    EXPECT_EQ(verified(ok.substr(0, ok.size() - 1) + ",}").error(), jwt_error::malformed);
    EXPECT_EQ(verified("/**/" + ok).error(), jwt_error::malformed);
    EXPECT_EQ(verified(R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}").error(),
              jwt_error::malformed);
    EXPECT_EQ(verified(R"("a")").error(), jwt_error::malformed);
    EXPECT_TRUE(verified(" " + ok + "\n"));
    // The header is read the same way: the last `alg` counts, nested ones do not.
    EXPECT_EQ(verified(ok, R"({"alg":"HS256","alg":"none","kid":"k1"})").error(),
              jwt_error::unsupported_alg);
    EXPECT_EQ(verified(ok, R"({"h":{"alg":"HS256"},"kid":"k1"})").error(),
              jwt_error::unsupported_alg);
    EXPECT_TRUE(verified(ok, R"({"alg":"none","kid":"k0","alg":"HS\u0032\u00356","kid":"k1"})"));
}

TEST(Jwt, RejectsMalformed) {
    const auto ring = make_keyring(key("k1", 'a'));
    const auto token = sign(sample_claims(), ring);
    EXPECT_EQ(verify("", ring, issuer, now).error(), jwt_error::malformed);
    EXPECT_EQ(verify("abc", ring, issuer, now).error(), jwt_error::malformed);
    EXPECT_EQ(verify("a.b", ring, issuer, now).error(), jwt_error::malformed);
    EXPECT_EQ(verify(token + ".x", ring, issuer, now).error(), jwt_error::malformed);
    EXPECT_EQ(verify("!!!." + token.substr(token.find('.') + 1), ring, issuer, now).error(),
              jwt_error::malformed);
    EXPECT_EQ(
        verify(base64url_encode(std::string_view{"not json"}) + ".e30.", ring, issuer, now).error(),
        jwt_error::malformed);
    EXPECT_EQ(
        verify(base64url_encode(std::string_view{"[1]"}) + ".e30.", ring, issuer, now).error(),
        jwt_error::malformed);
    const auto bad_payload = forge(header_of("HS256", "k1"), "not json", ring.signing.secret);
    EXPECT_EQ(verify(bad_payload, ring, issuer, now).error(), jwt_error::malformed);
    EXPECT_EQ(verify(token.substr(0, token.rfind('.') + 1) + "*", ring, issuer, now).error(),
              jwt_error::malformed);
    EXPECT_EQ(verify(std::string(10000, 'a'), ring, issuer, now).error(), jwt_error::malformed);
}

TEST(Jwt, RotationKeepsOldTokensValid) {
    const auto old_key = key("old", 'o');
    const auto new_key = key("new", 'n');
    const auto before = make_keyring(old_key);
    const auto old_token = sign(sample_claims(), before);

    const keyring after{.signing = new_key, .verification = {new_key, old_key}};
    const auto new_token = sign(sample_claims(), after);
    EXPECT_TRUE(verify(old_token, after, issuer, now));
    EXPECT_TRUE(verify(new_token, after, issuer, now));
    EXPECT_NE(new_token.find(base64url_encode(header_of("HS256", "new"))), std::string::npos);
    // Once the old key is dropped, its tokens stop working.
    EXPECT_EQ(verify(old_token, make_keyring(new_key), issuer, now).error(),
              jwt_error::unknown_key);
}

class KeyringFile : public ::testing::Test {
protected:
    tkt::testing::temp_dir dir_{"jwt"};
};

TEST_F(KeyringFile, GeneratesOnceWithMode0600AndReusesIt) {
    const auto first = load_or_create_keyring({}, dir_);
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(first->signing.secret.size(), 32u);
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "jwt-keys.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    const auto token = sign(sample_claims(), *first);
    const auto second = load_or_create_keyring({}, dir_);
    ASSERT_TRUE(second) << second.error();
    EXPECT_EQ(second->signing.kid, first->signing.kid);
    EXPECT_TRUE(verify(token, *second, issuer, now));
}

TEST_F(KeyringFile, ConfiguredKeysWinAndFirstSigns) {
    const auto ring = load_or_create_keyring({key("a", 'x'), key("b", 'y')}, dir_);
    ASSERT_TRUE(ring) << ring.error();
    EXPECT_EQ(ring->signing.kid, "a");
    EXPECT_NE(ring->find("b"), nullptr);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "jwt-keys.json"));
}

TEST_F(KeyringFile, RefusesShortConfiguredSecretAndCorruptFile) {
    EXPECT_FALSE(load_or_create_keyring({jwt_key{"a", "short"}}, dir_));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "jwt-keys.json") << "{\"keys\": 3}";
    EXPECT_FALSE(load_or_create_keyring({}, dir_));
}

}  // namespace
}  // namespace tkt::auth
