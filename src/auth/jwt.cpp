#include "auth/jwt.hpp"

#include <array>
#include <cstring>
#include <optional>
#include <span>

#include <fmt/core.h>
#include <openssl/evp.h>

#include <boost/json/basic_parser_impl.hpp>
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

// HMAC-SHA256 (RFC 2104) over one SHA-256 fetched once and a context per thread that is reused:
// OpenSSL 3's one-shot HMAC() fetches the algorithm and allocates a context on every call, which
// was most of what checking a new token cost (docs/benchmarks.md, session 14).
std::string hmac_sha256(std::string_view key, std::string_view data) {
    constexpr std::size_t block = 64;
    constexpr std::size_t digest = 32;
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    struct context {
        EVP_MD_CTX* p = EVP_MD_CTX_new();
        ~context() { EVP_MD_CTX_free(p); }
    };
    thread_local const context ctx;
    if (sha256 == nullptr || ctx.p == nullptr) throw std::runtime_error("HMAC-SHA256 unavailable");

    auto hash = [&](std::initializer_list<std::span<const unsigned char>> parts,
                    unsigned char* out) {
        unsigned int size = 0;
        bool ok = EVP_DigestInit_ex2(ctx.p, sha256, nullptr) == 1;
        for (auto part : parts) ok = ok && EVP_DigestUpdate(ctx.p, part.data(), part.size()) == 1;
        if (!ok || EVP_DigestFinal_ex(ctx.p, out, &size) != 1 || size != digest) {
            throw std::runtime_error("HMAC-SHA256 failed");
        }
    };
    auto bytes = [](std::string_view s) {
        return std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(s.data()),
                                              s.size());
    };
    // A key longer than a block is hashed first (keys from configuration are 32 to 64 bytes).
    std::array<unsigned char, block> pad{};
    if (key.size() > block) {
        hash({bytes(key)}, pad.data());
    } else {
        std::memcpy(pad.data(), key.data(), key.size());
    }
    std::array<unsigned char, digest> inner{};
    for (auto& b : pad) b ^= 0x36;
    hash({pad, bytes(data)}, inner.data());
    for (auto& b : pad) b ^= 0x36 ^ 0x5c;
    std::string mac(digest, '\0');
    hash({pad, inner}, reinterpret_cast<unsigned char*>(mac.data()));
    return mac;
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

// A top-level member of a token's JSON object, as the checks read it.
struct member {
    enum class type { absent, string, integer, other };
    type kind = type::absent;
    std::string text;         // type::string
    std::int64_t number = 0;  // type::integer: an int64, or a uint64 that fits one
};

// Reads the members named in `names` of a JSON object into `out` (same order) without building
// a tree: verifying a token the node has not seen is on the path of every first request of a
// user (docs/benchmarks.md, session 7). The document is checked as boost::json::parse checks it
// (default parse_options); as there, the last of duplicate keys wins.
class member_reader {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    member_reader(std::span<const std::string_view> names, std::span<member> out)
        : names_(names), out_(out) {}

    bool is_object() const { return is_object_; }

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code&) {
        if (depth_ == 0) is_object_ = true;
        if (depth_ == 1) set({});
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&) {
        --depth_;
        return true;
    }
    bool on_array_begin(boost::system::error_code&) {
        if (depth_ == 1) set({});
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, boost::system::error_code&) {
        --depth_;
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (depth_ == 1) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (depth_ != 1) return true;
        key_.append(s.data(), s.size());
        want_ = -1;
        for (std::size_t i = 0; i < names_.size(); ++i) {
            if (names_[i] == key_) want_ = static_cast<int>(i);
        }
        key_.clear();
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (depth_ == 1 && want_ >= 0) text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (depth_ == 1 && want_ >= 0) {
            text_.append(s.data(), s.size());
            set(member{.kind = member::type::string, .text = std::move(text_)});
            text_.clear();
        }
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t v, boost::json::string_view, boost::system::error_code&) {
        if (depth_ == 1) set(member{.kind = member::type::integer, .number = v});
        return true;
    }
    bool on_uint64(std::uint64_t v, boost::json::string_view, boost::system::error_code&) {
        if (depth_ != 1) return true;
        if (v <= static_cast<std::uint64_t>(INT64_MAX)) {
            set(member{.kind = member::type::integer, .number = static_cast<std::int64_t>(v)});
        } else {
            set(member{.kind = member::type::other});
        }
        return true;
    }
    bool on_double(double, boost::json::string_view, boost::system::error_code&) {
        if (depth_ == 1) set(member{.kind = member::type::other});
        return true;
    }
    bool on_bool(bool, boost::system::error_code&) {
        if (depth_ == 1) set(member{.kind = member::type::other});
        return true;
    }
    bool on_null(boost::system::error_code&) {
        if (depth_ == 1) set(member{.kind = member::type::other});
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

private:
    // The value of the member whose key came last (if it is one of ours).
    void set(member m) {
        if (want_ < 0) return;
        if (m.kind == member::type::absent) m.kind = member::type::other;
        out_[static_cast<std::size_t>(want_)] = std::move(m);
        want_ = -1;
    }

    std::span<const std::string_view> names_;
    std::span<member> out_;
    std::size_t depth_ = 0;
    bool is_object_ = false;
    int want_ = -1;
    std::string key_;
    std::string text_;
};

// Decodes a base64url part and reads the named members of the JSON object in it; false when
// the part is not base64url, not JSON or not an object.
bool read_members(std::string_view part, std::span<const std::string_view> names,
                  std::span<member> out) {
    const auto raw = base64url_decode(part);
    if (!raw) return false;
    const auto text = as_chars(*raw);
    boost::json::basic_parser<member_reader> parser(boost::json::parse_options{}, names, out);
    boost::system::error_code ec;
    const auto n = parser.write_some(false, text.data(), text.size(), ec);
    return !ec && parser.done() && n == text.size() && parser.handler().is_object();
}

const std::string* string_of(const member& m) {
    return m.kind == member::type::string ? &m.text : nullptr;
}

std::optional<std::int64_t> int_of(const member& m) {
    if (m.kind == member::type::integer) return m.number;
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

// Form, `alg`, `kid` and signature; the payload part (base64url) once they pass.
std::expected<std::string_view, jwt_error> check_envelope(std::string_view token,
                                                          const keyring& keys) {
    if (token.size() > token_bytes_max) return std::unexpected(jwt_error::malformed);
    const auto parts = split(token);
    if (!parts) return std::unexpected(jwt_error::malformed);
    static constexpr std::array<std::string_view, 2> header_names{"alg", "kid"};
    std::array<member, 2> header;
    if (!read_members(parts->header, header_names, header))
        return std::unexpected(jwt_error::malformed);

    const auto* alg = string_of(header[0]);
    if (alg == nullptr || *alg != "HS256") return std::unexpected(jwt_error::unsupported_alg);
    const auto* kid = string_of(header[1]);
    const jwt_key* key = kid != nullptr ? keys.find(*kid) : nullptr;
    if (key == nullptr) return std::unexpected(jwt_error::unknown_key);

    const auto signature = base64url_decode(parts->signature);
    if (!signature) return std::unexpected(jwt_error::malformed);
    const auto signed_part = token.substr(0, parts->header.size() + 1 + parts->payload.size());
    const auto expected_mac = hmac_sha256(key->secret, signed_part);
    if (!constant_time_equal(as_chars(*signature), expected_mac)) {
        return std::unexpected(jwt_error::bad_signature);
    }
    return parts->payload;
}

std::expected<claims, jwt_error> read_claims(std::string_view payload_part) {
    static constexpr std::array<std::string_view, 5> names{"sub", "role", "iss", "iat", "exp"};
    std::array<member, 5> m;
    if (!read_members(payload_part, names, m)) return std::unexpected(jwt_error::malformed);
    const auto* sub = string_of(m[0]);
    const auto* role = string_of(m[1]);
    const auto* iss = string_of(m[2]);
    const auto iat = int_of(m[3]);
    const auto exp = int_of(m[4]);
    if (sub == nullptr || role == nullptr || iss == nullptr || !iat || !exp) {
        return std::unexpected(jwt_error::missing_claim);
    }
    return claims{.sub = std::move(m[0].text),
                  .role = std::move(m[1].text),
                  .iat = *iat,
                  .exp = *exp,
                  .iss = std::move(m[2].text)};
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
    const auto payload_part = check_envelope(token, keys);
    if (!payload_part) return std::unexpected(payload_part.error());
    auto payload = decode_json_object(*payload_part);
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
    const auto payload_part = check_envelope(token, keys);
    if (!payload_part) return std::unexpected(payload_part.error());
    auto c = read_claims(*payload_part);
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
