#include "common/encoding.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "common/assert.hpp"

namespace tkt {
namespace {

constexpr std::string_view b64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_b64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < b64_alphabet.size(); ++i) {
        t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr auto b64_table = make_b64_table();

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string base64url_encode(std::span<const std::uint8_t> data) {
    std::string out;
    out.reserve((data.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                                std::uint32_t{data[i + 2]};
        out.push_back(b64_alphabet[(n >> 18) & 63]);
        out.push_back(b64_alphabet[(n >> 12) & 63]);
        out.push_back(b64_alphabet[(n >> 6) & 63]);
        out.push_back(b64_alphabet[n & 63]);
    }
    const std::size_t rest = data.size() - i;
    if (rest == 1) {
        const std::uint32_t n = std::uint32_t{data[i]} << 16;
        out.push_back(b64_alphabet[(n >> 18) & 63]);
        out.push_back(b64_alphabet[(n >> 12) & 63]);
    } else if (rest == 2) {
        const std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
        out.push_back(b64_alphabet[(n >> 18) & 63]);
        out.push_back(b64_alphabet[(n >> 12) & 63]);
        out.push_back(b64_alphabet[(n >> 6) & 63]);
    }
    return out;
}

std::string base64url_encode(std::string_view data) {
    return base64url_encode(as_bytes(data));
}

std::optional<bytes> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    bytes out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = b64_table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
        }
    }
    // Leftover bits must be zero, so every byte string has exactly one encoding; otherwise a
    // token could be altered in its last character and still decode to the same bytes.
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string hex_encode(std::span<const std::uint8_t> data) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (const auto b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0F]);
    }
    return out;
}

std::optional<bytes> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    bytes out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = hex_value(text[i]);
        const int lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
    return out;
}

bytes sha256(std::string_view data) {
    bytes digest(32);
    unsigned int size = 0;
    const int ok =
        EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
    // SHA-256 with the built-in provider cannot fail short of memory exhaustion.
    TKT_ASSERT(ok == 1 && size == 32);
    return digest;
}

std::string sha256_hex(std::string_view data) {
    return hex_encode(sha256(data));
}

void ensure_sodium() {
    // sodium_init is thread-safe and idempotent, but a static keeps the check to one call.
    static const int rc = sodium_init();
    if (rc < 0) throw std::runtime_error("libsodium could not be initialised");
}

bytes random_bytes(std::size_t count) {
    ensure_sodium();
    bytes out(count);
    // An empty vector's data() may be null, which randombytes_buf must not be given.
    if (count > 0) randombytes_buf(out.data(), out.size());
    return out;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return constant_time_equal(as_bytes(a), as_bytes(b));
}

std::string escape_markup(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace tkt
