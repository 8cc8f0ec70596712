#include "auth/jwt.hpp"

#include <array>
#include <cstring>
#include <optional>

#include <fmt/core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.hpp"
#include "common/key_file.hpp"

namespace tkt::auth {
namespace {

// Bounds the work an attacker can make us do per token; real tokens are a few hundred bytes.
constexpr std::size_t token_bytes_max = 8192;
constexpr std::string_view key_file_name = "jwt-keys.json";

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    const auto* out =
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
    if (out == nullptr) throw std::runtime_error("HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

std::optional<boost::json::object> decode_json_object(std::string_view part) {
    const auto raw = base64url_decode(part);
    if (!raw) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(as_chars(*raw), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

const boost::json::string* string_member(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

std::optional<std::int64_t> int_member(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    return std::nullopt;
}

struct token_parts {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
};

std::optional<token_parts> split(std::string_view token) {
    const auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
    return token_parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                       token.substr(second + 1)};
}

std::expected<claims, jwt_error> read_claims(const boost::json::object& payload) {
    const auto* sub = string_member(payload, "sub");
    const auto* role = string_member(payload, "role");
    const auto* iss = string_member(payload, "iss");
    const auto iat = int_member(payload, "iat");
    const auto exp = int_member(payload, "exp");
    if (sub == nullptr || role == nullptr || iss == nullptr || !iat || !exp) {
        return std::unexpected(jwt_error::missing_claim);
    }
    return claims{.sub = std::string{*sub},
                  .role = std::string{*role},
                  .iat = *iat,
                  .exp = *exp,
                  .iss = std::string{*iss}};
}

}  // namespace

std::string_view to_string(jwt_error e) {
    switch (e) {
        case jwt_error::malformed:
            return "malformed token";
        case jwt_error::unsupported_alg:
            return "unsupported algorithm";
        case jwt_error::unknown_key:
            return "unknown signing key";
        case jwt_error::bad_signature:
            return "bad signature";
        case jwt_error::expired:
            return "token expired";
        case jwt_error::wrong_issuer:
            return "wrong issuer";
        case jwt_error::missing_claim:
            return "missing claim";
    }
    return "invalid token";
}

const jwt_key* keyring::find(std::string_view kid) const {
    for (const auto& k : verification) {
        if (k.kid == kid) return &k;
    }
    return nullptr;
}

keyring make_keyring(jwt_key key) {
    keyring ring{.signing = key, .verification = {}};
    ring.verification.push_back(std::move(key));
    return ring;
}

std::string sign_payload(const boost::json::object& payload, const keyring& keys) {
    const boost::json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", keys.signing.kid}};
    std::string input = base64url_encode(boost::json::serialize(header));
    input += '.';
    input += base64url_encode(boost::json::serialize(payload));
    const auto mac = hmac_sha256(keys.signing.secret, input);
    input += '.';
    input += base64url_encode(mac);
    return input;
}

std::expected<boost::json::object, jwt_error> verify_payload(std::string_view token,
                                                             const keyring& keys) {
    if (token.size() > token_bytes_max) return std::unexpected(jwt_error::malformed);
    const auto parts = split(token);
    if (!parts) return std::unexpected(jwt_error::malformed);
    const auto header = decode_json_object(parts->header);
    if (!header) return std::unexpected(jwt_error::malformed);

    const auto* alg = string_member(*header, "alg");
    if (alg == nullptr || *alg != "HS256") return std::unexpected(jwt_error::unsupported_alg);
    const auto* kid = string_member(*header, "kid");
    const jwt_key* key = kid != nullptr ? keys.find(*kid) : nullptr;
    if (key == nullptr) return std::unexpected(jwt_error::unknown_key);

    const auto signature = base64url_decode(parts->signature);
    if (!signature) return std::unexpected(jwt_error::malformed);
    const auto signed_part = token.substr(0, parts->header.size() + 1 + parts->payload.size());
    const auto expected_mac = hmac_sha256(key->secret, signed_part);
    if (!constant_time_equal(as_chars(*signature), expected_mac)) {
        return std::unexpected(jwt_error::bad_signature);
    }

    auto payload = decode_json_object(parts->payload);
    if (!payload) return std::unexpected(jwt_error::malformed);
    return std::move(*payload);
}

std::optional<std::int64_t> int_claim(const boost::json::object& payload, std::string_view name) {
    return int_member(payload, name);
}

std::string sign(const claims& c, const keyring& keys) {
    return sign_payload(
        boost::json::object{
            {"sub", c.sub}, {"role", c.role}, {"iat", c.iat}, {"exp", c.exp}, {"iss", c.iss}},
        keys);
}

std::expected<claims, jwt_error> verify(std::string_view token, const keyring& keys,
                                        std::string_view issuer, time_point now) {
    auto payload = verify_payload(token, keys);
    if (!payload) return std::unexpected(payload.error());
    auto c = read_claims(*payload);
    if (!c) return c;
    if (c->exp <= unix_seconds(now)) return std::unexpected(jwt_error::expired);
    if (c->iss != issuer) return std::unexpected(jwt_error::wrong_issuer);
    return c;
}

namespace {

std::expected<keyring, std::string> keyring_from(std::vector<jwt_key> keys,
                                                 std::string_view origin) {
    if (keys.empty()) return std::unexpected(fmt::format("{}: no JWT keys", origin));
    for (const auto& k : keys) {
        if (k.kid.empty()) return std::unexpected(fmt::format("{}: a JWT key has no kid", origin));
        if (k.secret.size() < jwt_secret_bytes_min) {
            return std::unexpected(fmt::format("{}: JWT key '{}' is shorter than {} bytes", origin,
                                               k.kid, jwt_secret_bytes_min));
        }
    }
    keyring ring{.signing = keys.front(), .verification = std::move(keys)};
    return ring;
}

std::expected<std::vector<jwt_key>, std::string> read_key_file(const std::filesystem::path& path) {
    auto text = read_text_file(path);
    if (!text) return std::unexpected(text.error());
    boost::system::error_code ec;
    const auto doc = boost::json::parse(*text, ec);
    const auto* list = !ec && doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
    if (list == nullptr || !list->is_array()) {
        return std::unexpected(fmt::format("{}: expected {{\"keys\": [...]}}", path.string()));
    }
    std::vector<jwt_key> keys;
    for (const auto& item : list->get_array()) {
        const auto* o = item.if_object();
        const auto* kid = o != nullptr ? string_member(*o, "kid") : nullptr;
        const auto* secret = o != nullptr ? string_member(*o, "secret") : nullptr;
        const auto raw = secret != nullptr ? base64url_decode(*secret) : std::nullopt;
        if (kid == nullptr || !raw) {
            return std::unexpected(
                fmt::format("{}: each key needs kid and a base64url secret", path.string()));
        }
        keys.push_back(jwt_key{.kid = std::string{*kid}, .secret = std::string{as_chars(*raw)}});
    }
    return keys;
}

}  // namespace

std::expected<keyring, std::string> load_or_create_keyring(std::vector<jwt_key> configured,
                                                           const std::filesystem::path& data_dir) {
    if (!configured.empty()) return keyring_from(std::move(configured), "configuration");
    const auto path = data_dir / key_file_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        std::filesystem::create_directories(data_dir, ec);
        if (ec)
            return std::unexpected(
                fmt::format("cannot create {}: {}", data_dir.string(), ec.message()));
        const auto secret = random_bytes(jwt_secret_bytes_min);
        const boost::json::object key{{"kid", hex_encode(random_bytes(8))},
                                      {"secret", base64url_encode(secret)}};
        const boost::json::object doc{{"keys", boost::json::array{key}}};
        if (auto published = publish_key_file(path, boost::json::serialize(doc)); !published) {
            return std::unexpected(published.error());
        }
    }
    auto keys = read_key_file(path);
    if (!keys) return std::unexpected(keys.error());
    return keyring_from(std::move(*keys), path.string());
}

}  // namespace tkt::auth
