// Fuzzes access-token verification: tkt::auth::verify on the bytes as a token, with a fixed
// keyring of two keys (the signing key and an older one still accepted, as after a rotation),
// and the base64url and hex decoders it rests on.
//
// Properties checked besides "no crash, no sanitizer report":
// - a token that verifies is signed: its third part is the base64url HMAC-SHA256, computed here
//   independently with OpenSSL, of its first two parts under the key its header names; its claims
//   are not expired and carry the issuer; and changing any one character makes it fail;
// - sign() always makes a token that verify() accepts with the same claims, whichever key of the
//   ring signs (claims built from the bytes, any ASCII in the strings);
// - the decoders accept only canonical text: decode then encode gives the input back, and
//   encode then decode gives the bytes back.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.hpp"
#include "common/assert.hpp"
#include "common/clock.hpp"
#include "common/encoding.hpp"

namespace {

using namespace std::chrono_literals;

// The seeds in corpus/jwt/ were signed with these keys at this time; keep them in step.
constexpr std::string_view issuer = "ticketon";
constexpr std::string_view signing_kid = "fuzz-key-1";
constexpr std::string_view signing_secret = "fuzz-signing-secret-0123456789abcdef";
constexpr std::string_view old_kid = "fuzz-key-0";
constexpr std::string_view old_secret = "fuzz-retired-secret-0123456789abcdef";
const tkt::time_point now{std::chrono::seconds{1'800'000'000}};

const tkt::auth::keyring& ring() {
    static const tkt::auth::keyring keys = [] {
        auto k = tkt::auth::make_keyring(
            {.kid = std::string{signing_kid}, .secret = std::string{signing_secret}});
        k.verification.push_back({.kid = std::string{old_kid}, .secret = std::string{old_secret}});
        return k;
    }();
    return keys;
}

// The same ring, signing with the older key.
const tkt::auth::keyring& old_ring() {
    static const tkt::auth::keyring keys = [] {
        auto k = ring();
        k.signing = k.verification.back();
        return k;
    }();
    return keys;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    const auto* out =
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
    TKT_ASSERT(out != nullptr);
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

bool same_claims(const tkt::auth::claims& a, const tkt::auth::claims& b) {
    return a.sub == b.sub && a.role == b.role && a.iat == b.iat && a.exp == b.exp && a.iss == b.iss;
}

void check_codecs(std::string_view input) {
    if (auto decoded = tkt::base64url_decode(input)) {
        TKT_ASSERT(tkt::base64url_encode(*decoded) == input);
    }
    const auto encoded = tkt::base64url_encode(input);
    const auto back = tkt::base64url_decode(encoded);
    TKT_ASSERT(back && tkt::as_chars(*back) == input);

    if (auto decoded = tkt::hex_decode(input)) {
        // Decoding accepts both cases; encoding writes lower case.
        const auto again = tkt::hex_decode(tkt::hex_encode(*decoded));
        TKT_ASSERT(again && *again == *decoded);
    }
}

// A verified token: check it against an HMAC computed here, then that any one-character change
// breaks it.
void check_verified(std::string_view token, const tkt::auth::claims& c) {
    TKT_ASSERT(c.exp > tkt::unix_seconds(now));
    TKT_ASSERT(c.iss == issuer);
    const auto last_dot = token.rfind('.');
    TKT_ASSERT(last_dot != std::string_view::npos);
    const auto signed_part = token.substr(0, last_dot);
    const auto signature = token.substr(last_dot + 1);
    const bool by_current =
        tkt::base64url_encode(hmac_sha256(signing_secret, signed_part)) == signature;
    const bool by_old = tkt::base64url_encode(hmac_sha256(old_secret, signed_part)) == signature;
    TKT_ASSERT(by_current || by_old);

    std::string altered(token);
    const std::size_t at = std::hash<std::string_view>{}(token) % altered.size();
    altered[at] = altered[at] == 'A' ? 'B' : 'A';
    TKT_ASSERT(!tkt::auth::verify(altered, ring(), issuer, now));
}

std::string ascii_string(FuzzedDataProvider& in, std::size_t length_max) {
    std::string s = in.ConsumeRandomLengthString(length_max);
    for (auto& c : s) c = static_cast<char>(static_cast<unsigned char>(c) & 0x7F);
    return s;
}

// sign() round-trips through verify() for claims made from the bytes. Strings are ASCII because
// the claims the server signs are (decimal ids, role names, the configured issuer); the JSON
// parser in verify() refuses invalid UTF-8 by design.
void check_sign_round_trip(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const std::int64_t now_seconds = tkt::unix_seconds(now);
    tkt::auth::claims c;
    c.sub = ascii_string(in, 32);
    c.role = ascii_string(in, 16);
    c.iat = in.ConsumeIntegral<std::int64_t>();
    c.exp = in.ConsumeIntegralInRange<std::int64_t>(now_seconds + 1,
                                                    std::numeric_limits<std::int64_t>::max());
    c.iss = std::string{issuer};
    const auto& keys = in.ConsumeBool() ? ring() : old_ring();

    const auto token = tkt::auth::sign(c, keys);
    const auto verified = tkt::auth::verify(token, ring(), issuer, now);
    TKT_ASSERT(verified && same_claims(*verified, c));
    check_verified(token, *verified);
    // The same claims signed again make the same token: signing is deterministic.
    TKT_ASSERT(tkt::auth::sign(*verified, keys) == token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    check_codecs(token);
    if (const auto verified = tkt::auth::verify(token, ring(), issuer, now)) {
        check_verified(token, *verified);
    }
    check_sign_round_trip(data, size);
    return 0;
}
