#include "auth/validation.hpp"

#include <algorithm>
#include <cctype>

namespace tkt::auth {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Characters allowed in the local part and the domain. Deliberately narrower than RFC 5322
// (no quoted strings, no comments): what people type, and nothing that needs escaping later.
bool local_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view{".!#$%&'*+/=?^_`{|}~-"}.find(c) != std::string_view::npos;
}
bool domain_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
}

bool valid_domain(std::string_view domain) {
    if (domain.empty() || !std::all_of(domain.begin(), domain.end(), domain_char)) return false;
    const auto last_dot = domain.rfind('.');
    if (last_dot == std::string_view::npos || last_dot + 1 >= domain.size() - 1) {
        // No dot, or a top-level label shorter than two characters.
        return false;
    }
    // No empty labels and no label starting or ending with '-'.
    std::size_t start = 0;
    while (start <= domain.size()) {
        const auto end = std::min(domain.find('.', start), domain.size());
        const auto label = domain.substr(start, end - start);
        if (label.empty() || label.front() == '-' || label.back() == '-') return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t len = c < 0x80           ? 1
                                : (c >> 5) == 0x6  ? 2
                                : (c >> 4) == 0xE  ? 3
                                : (c >> 3) == 0x1E ? 4
                                                   : 0;
        if (len == 0 || i + len > text.size()) return std::string_view::npos;
        for (std::size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2)
                return std::string_view::npos;
        }
        i += len;
        ++count;
    }
    return count;
}

result<std::string> normalize_email(std::string_view email) {
    const auto trimmed = trim(email);
    if (trimmed.empty()) return std::unexpected(validation_error("email", "is required"));
    if (trimmed.size() > email_chars_max) {
        return std::unexpected(validation_error("email", "must be at most 254 characters"));
    }
    std::string lower(trimmed);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    const auto at = lower.find('@');
    const bool shaped = at != std::string::npos && lower.find('@', at + 1) == std::string::npos &&
                        at > 0 && at <= 64;
    const std::string_view local =
        shaped ? std::string_view{lower}.substr(0, at) : std::string_view{};
    const std::string_view domain =
        shaped ? std::string_view{lower}.substr(at + 1) : std::string_view{};
    if (!shaped || !std::all_of(local.begin(), local.end(), local_char) || local.front() == '.' ||
        local.back() == '.' || local.find("..") != std::string_view::npos ||
        !valid_domain(domain)) {
        return std::unexpected(
            validation_error("email", "must be an email address like name@example.com"));
    }
    return lower;
}

result<void> check_password(std::string_view password, std::string_view field) {
    const auto length = utf8_length(password);
    if (length == std::string_view::npos) {
        return std::unexpected(validation_error(std::string{field}, "must be valid UTF-8"));
    }
    if (length < password_chars_min || length > password_chars_max) {
        return std::unexpected(validation_error(std::string{field}, "must be 8 to 128 characters"));
    }
    return {};
}

result<std::string> normalize_name(std::string_view name) {
    const auto trimmed = trim(name);
    const auto length = utf8_length(trimmed);
    if (length == std::string_view::npos)
        return std::unexpected(validation_error("name", "must be valid UTF-8"));
    if (length < 1 || length > name_chars_max) {
        return std::unexpected(validation_error("name", "must be 1 to 50 characters"));
    }
    if (std::any_of(trimmed.begin(), trimmed.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
        return std::unexpected(validation_error("name", "must not contain control characters"));
    }
    return std::string{trimmed};
}

}  // namespace tkt::auth
