#include "notifications/notification.hpp"

#include <charconv>

#include <fmt/format.h>

#include "auth/validation.hpp"
#include "common/ids.hpp"
#include "common/json_text.hpp"

namespace tkt::notifications {
namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

// Control characters other than those `allowed` (the body keeps its line breaks and tabs).
bool has_control(std::string_view s, std::string_view allowed) {
    for (const unsigned char ch : s) {
        if ((ch < 0x20 || ch == 0x7f) &&
            allowed.find(static_cast<char>(ch)) == std::string_view::npos)
            return true;
    }
    return false;
}

result<std::string> text(std::string_view field, std::string_view raw, std::size_t max,
                         std::string_view allowed_controls) {
    const auto t = trim(raw);
    if (t.empty())
        return std::unexpected(validation_error(std::string(field), "must not be empty"));
    const auto length = auth::utf8_length(t);
    if (length == std::string_view::npos)
        return std::unexpected(validation_error(std::string(field), "must be UTF-8 text"));
    if (length > max)
        return std::unexpected(validation_error(std::string(field),
                                                fmt::format("must be at most {} characters", max)));
    if (has_control(t, allowed_controls))
        return std::unexpected(
            validation_error(std::string(field), "must not contain control characters"));
    return std::string(t);
}

}  // namespace

std::string to_json(const notification& n) {
    std::string out;
    out.reserve(128 + n.title.size() + n.body.size() + n.data_json.size());
    out += "{\"id\":";
    append_json_int(out, n.id);
    out += ",\"type\":";
    append_json_string(out, n.type);
    out += ",\"title\":";
    append_json_string(out, n.title);
    out += ",\"body\":";
    append_json_string(out, n.body);
    out += ",\"data\":";
    // Written by this process as a JSON object; anything else would break the answer.
    out += n.data_json.empty() ? std::string_view("{}") : std::string_view(n.data_json);
    out += ",\"createdAt\":";
    append_json_string(out, n.created_at);
    out += ",\"readAt\":";
    if (n.read_at) {
        append_json_string(out, *n.read_at);
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

std::optional<std::int64_t> id_of(std::string_view json) {
    constexpr std::string_view prefix = "{\"id\":";
    if (!json.starts_with(prefix)) return std::nullopt;
    std::int64_t id = 0;
    const char* begin = json.data() + prefix.size();
    const char* end = json.data() + json.size();
    auto [p, ec] = std::from_chars(begin, end, id);
    if (ec != std::errc{} || p == begin || p == end || *p != ',' || id <= 0) return std::nullopt;
    return id;
}

std::string user_topic(std::int64_t user_id) {
    return fmt::format("notify.{}", user_id);
}

result<notice_request> check_notice(std::optional<std::int64_t> user_id,
                                    std::optional<std::int64_t> event_id, std::string title,
                                    std::string body) {
    if (user_id.has_value() == event_id.has_value())
        return std::unexpected(validation_error(user_id ? "eventId" : "userId",
                                                "give exactly one of userId and eventId"));
    if (user_id && *user_id <= 0)
        return std::unexpected(validation_error("userId", "must be a positive id"));
    if (event_id && *event_id <= 0)
        return std::unexpected(validation_error("eventId", "must be a positive id"));
    auto t = text("title", title, notice_title_max, "");
    if (!t) return std::unexpected(t.error());
    auto b = text("body", body, notice_body_max, "\n\t\r");
    if (!b) return std::unexpected(b.error());
    return notice_request{user_id, event_id, std::move(*t), std::move(*b)};
}

result<list_request> check_list(std::optional<std::string_view> unread,
                                std::optional<std::string_view> limit,
                                std::optional<std::string_view> before) {
    list_request out;
    if (unread) {
        if (*unread == "true") {
            out.unread_only = true;
        } else if (*unread != "false") {
            return std::unexpected(validation_error("unread", "must be true or false"));
        }
    }
    if (limit) {
        const auto n = parse_id(*limit);
        if (!n || *n > list_limit_max)
            return std::unexpected(validation_error(
                "limit", fmt::format("must be a whole number from 1 to {}", list_limit_max)));
        out.limit = *n;
    }
    if (before) {
        const auto n = parse_id(*before);
        if (!n) return std::unexpected(validation_error("before", "must be a notification id"));
        out.before = *n;
    }
    return out;
}

}  // namespace tkt::notifications
