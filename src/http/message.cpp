#include "http/message.hpp"

#include <string>

#include <boost/json/serialize.hpp>

namespace tkt::http {

std::string_view to_string(verb v) {
    switch (v) {
        case verb::get:
            return "GET";
        case verb::head:
            return "HEAD";
        case verb::post:
            return "POST";
        case verb::put:
            return "PUT";
        case verb::patch:
            return "PATCH";
        case verb::delete_:
            return "DELETE";
        case verb::options:
            return "OPTIONS";
        case verb::other:
            break;
    }
    return "OTHER";
}

std::string_view request::param(std::string_view name) const {
    for (const auto& [key, value] : params) {
        if (key == name) return value;
    }
    return {};
}

std::string percent_decode(std::string_view s, plus_handling plus) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else if (s[i] == '+' && plus == plus_handling::space) {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::optional<std::string> form_field(std::string_view encoded, std::string_view name) {
    std::string_view rest = encoded;
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        auto eq = pair.find('=');
        std::string key = percent_decode(pair.substr(0, eq), plus_handling::space);
        if (key != name) continue;
        if (eq == std::string_view::npos) return std::string();
        return percent_decode(pair.substr(eq + 1), plus_handling::space);
    }
    return std::nullopt;
}

std::optional<std::string> request::query_param(std::string_view name) const {
    return form_field(query, name);
}

std::string_view request::bearer_token() const {
    std::string_view auth = header("Authorization");
    constexpr std::string_view scheme = "Bearer ";
    if (auth.size() <= scheme.size()) return {};
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        // The scheme name is case-insensitive (RFC 7235).
        if (std::tolower(static_cast<unsigned char>(auth[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i]))) {
            return {};
        }
    }
    auth.remove_prefix(scheme.size());
    while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
    return auth;
}

response json_response(int status, const boost::json::value& body) {
    response r;
    r.status = status;
    r.body = boost::json::serialize(body);
    return r;
}

response json_text_response(int status, std::string body) {
    response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

response problem_response(const problem& p) {
    response r;
    r.status = p.status();
    r.content_type = "application/problem+json";
    r.body = p.to_json();
    if (p.retry_after_seconds > 0)
        r.with_header("Retry-After", std::to_string(p.retry_after_seconds));
    return r;
}

stream_body::~stream_body() = default;
stream_sink::~stream_sink() = default;

response stream_response(std::shared_ptr<stream_body> body) {
    response r;
    r.content_type = "text/event-stream";
    r.stream = std::move(body);
    return r;
}

response no_content() {
    response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

}  // namespace tkt::http
