#include "http/sse.hpp"

#include <charconv>

namespace tkt::http {
namespace {

// `name: value` with the value's line breaks left out.
void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    for (char c : value) {
        if (c != '\r' && c != '\n') out += c;
    }
    out += '\n';
}

bool has_line_break(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

void append_sse_event(std::string& out, const sse_event& e) {
    if (!e.id.empty()) append_field(out, "id", e.id);
    if (!e.type.empty()) append_field(out, "event", e.type);
    std::string_view rest = e.data;
    for (;;) {
        const auto end = rest.find_first_of("\r\n");
        out += "data: ";
        out += rest.substr(0, end);
        out += '\n';
        if (end == std::string_view::npos) break;
        // CRLF is one line break, as is a lone CR or a lone LF.
        const auto skip =
            rest[end] == '\r' && end + 1 < rest.size() && rest[end + 1] == '\n' ? 2 : 1;
        rest.remove_prefix(end + skip);
    }
    out += '\n';
}

void append_sse_retry(std::string& out, std::chrono::milliseconds delay) {
    char digits[24];
    const auto count = delay.count() < 0 ? 0 : delay.count();
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, count);
    out += "retry: ";
    out.append(digits, end);
    out += "\n\n";
}

void append_sse_comment(std::string& out, std::string_view text) {
    append_field(out, "", text);
    out += '\n';
}

std::optional<std::string> sse_last_event_id(std::string_view header,
                                             std::optional<std::string_view> query) {
    std::string_view v = !header.empty() ? header : query.value_or(std::string_view{});
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty() || v.size() > sse_last_event_id_max || has_line_break(v)) return std::nullopt;
    return std::string(v);
}

sse_queue::outcome sse_queue::push(std::string frame, time_point now) {
    if (bytes_ + frame.size() > options_.bytes_max) return outcome::overflow;
    bytes_ += frame.size();
    frames_.push_back({std::string{}, std::move(frame), now});
    return outcome::queued;
}

sse_queue::outcome sse_queue::push_latest(std::string_view kind, std::string frame,
                                          time_point now) {
    for (auto& f : frames_) {
        if (f.kind != kind) continue;
        if (bytes_ - f.text.size() + frame.size() > options_.bytes_max) return outcome::overflow;
        bytes_ = bytes_ - f.text.size() + frame.size();
        // The frame keeps its place and its age: a client that reads nothing still goes stale.
        f.text = std::move(frame);
        return outcome::queued;
    }
    if (bytes_ + frame.size() > options_.bytes_max) return outcome::overflow;
    bytes_ += frame.size();
    frames_.push_back({std::string(kind), std::move(frame), now});
    return outcome::queued;
}

bool sse_queue::stale(time_point now) const {
    return !frames_.empty() && now - frames_.front().queued > options_.age_max;
}

std::string sse_queue::take() {
    std::string out;
    out.reserve(bytes_);
    for (auto& f : frames_) out += f.text;
    frames_.clear();
    bytes_ = 0;
    return out;
}

}  // namespace tkt::http
