#pragma once
// Byte encodings and small cryptographic primitives shared by auth (JWT, refresh tokens),
// booking (ticket codes) and the waiting room (entry tokens). Pure functions, no state beyond
// libsodium's one-time initialisation; safe from any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tkt {

using bytes = std::vector<std::uint8_t>;

// RFC 4648 §5 base64url without '=' padding, as JWT uses it.
std::string base64url_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::string_view data);
// Rejects characters outside the alphabet, padding, and lengths that cannot come from encoding
// (length % 4 == 1) or that carry non-zero leftover bits.
std::optional<bytes> base64url_decode(std::string_view text);

// Text made safe inside HTML or XML, in element content and quoted attributes alike
// (& < > " ' escaped).
std::string escape_markup(std::string_view text);

// Lower-case hex.
std::string hex_encode(std::span<const std::uint8_t> data);
std::optional<bytes> hex_decode(std::string_view text);

// SHA-256 of the input (32 bytes), and its lower-case hex form.
bytes sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// Cryptographically secure random bytes (libsodium).
bytes random_bytes(std::size_t count);

// Compares in time that depends only on the lengths, so a secret is not revealed byte by byte.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
bool constant_time_equal(std::string_view a, std::string_view b);

// Calls sodium_init() once per process; every libsodium user calls this before its first use.
void ensure_sodium();

inline std::string_view as_chars(std::span<const std::uint8_t> data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}
inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace tkt
