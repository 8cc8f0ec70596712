#pragma once
// JWT access tokens (RFC 7519), HS256 only (DESIGN.md §7). Sans-io: signing and verifying are
// pure functions of the token, the keys and a time passed in; the key file is touched only by
// load_or_create_keyring(), once at start-up.
//
// A token carries `kid` in its header so keys can rotate: the keyring signs with one key and
// verifies with every key it still lists, so tokens signed before a rotation keep working until
// they expire. Anything but "HS256" in `alg` is refused, whatever its case, so "none" and
// algorithm-confusion tokens never reach the signature check.
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.hpp"

namespace tkt::auth {

struct jwt_key {
    std::string kid;
    std::string secret;  // raw bytes of the HMAC key
};

// The minimum secret length accepted from configuration: HS256 keys shorter than the hash
// output are guessable faster than the hash is breakable.
inline constexpr std::size_t jwt_secret_bytes_min = 32;

struct keyring {
    jwt_key signing;
    // Every key a token may name; includes the signing key.
    std::vector<jwt_key> verification;

    const jwt_key* find(std::string_view kid) const;
};

struct claims {
    std::string sub;  // user id, decimal
    std::string role;
    std::int64_t iat = 0;  // unix seconds
    std::int64_t exp = 0;  // unix seconds
    std::string iss;
};

enum class jwt_error {
    malformed,        // not three parts, bad base64url, bad JSON, header or payload not objects
    unsupported_alg,  // alg other than HS256, including "none"
    unknown_key,      // kid missing or not in the keyring
    bad_signature,
    expired,  // exp <= now
    wrong_issuer,
    missing_claim,  // sub, role, iat, exp or iss absent or of the wrong type
};

std::string_view to_string(jwt_error e);

// A keyring whose only key signs and verifies.
keyring make_keyring(jwt_key key);

std::string sign(const claims& c, const keyring& keys);

std::expected<claims, jwt_error> verify(std::string_view token, const keyring& keys,
                                        std::string_view issuer, time_point now);

// The signed envelope alone, for tokens of other kinds (the waiting room's entry tokens): signs
// any payload, and verifies form, `alg`, `kid` and signature, handing back the payload. Reading
// and checking its claims (expiry included) is the caller's. A payload without `role` is never
// an access token, and one without the caller's own claims never passes as theirs.
std::string sign_payload(const boost::json::object& payload, const keyring& keys);
std::expected<boost::json::object, jwt_error> verify_payload(std::string_view token,
                                                             const keyring& keys);
// A payload member as an int64, if it is one.
std::optional<std::int64_t> int_claim(const boost::json::object& payload, std::string_view name);

// The keys configured by the operator (first one signs, all verify); when there are none, the
// keys kept in `data_dir/jwt-keys.json`, generated there once (32 random bytes, mode 0600) on the
// first start so tokens survive restarts. Errors carry a one-line reason for start-up.
std::expected<keyring, std::string> load_or_create_keyring(std::vector<jwt_key> configured,
                                                           const std::filesystem::path& data_dir);

}  // namespace tkt::auth
