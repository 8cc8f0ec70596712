#include "common/json_text.hpp"

#include <charconv>

namespace tkt {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain = 0;  // start of the run of bytes copied as they are
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.substr(plain, i - plain));
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
        plain = i + 1;
    }
    out.append(s.substr(plain));
    out += '"';
}

void append_json_int(std::string& out, std::int64_t n) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    static_cast<void>(ec);  // 24 characters hold any 64-bit integer
    out.append(digits, end);
}

}  // namespace tkt
