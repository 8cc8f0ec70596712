#pragma once
// The input rules for accounts, shared by the HTTP handlers and the `ticketon user create` CLI so
// both refuse the same things. Pure functions; each failure is a VALIDATION_FAILED problem that
// names its field.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/problem.hpp"

namespace tkt::auth {

inline constexpr std::size_t email_chars_max = 254;  // RFC 5321 path limit
inline constexpr std::size_t password_chars_min = 8;
inline constexpr std::size_t password_chars_max = 128;
inline constexpr std::size_t name_chars_max = 50;

// Trimmed and lower-cased, in the shape local@domain.tld; the form stored and compared.
result<std::string> normalize_email(std::string_view email);
// 8 to 128 characters (code points), kept exactly as given: spaces count.
result<void> check_password(std::string_view password, std::string_view field = "password");
// Trimmed, 1 to 50 characters, no control characters.
result<std::string> normalize_name(std::string_view name);

// The number of code points in UTF-8 text; refuses (returns npos for) invalid UTF-8.
std::size_t utf8_length(std::string_view text);

}  // namespace tkt::auth
