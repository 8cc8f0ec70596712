#include "redis/resp.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/assert.hpp"

namespace tkt::redis {
namespace {

// A whole line's digits as a signed 64-bit number: no sign but '-', no spaces, no overflow.
std::optional<std::int64_t> parse_integer(std::string_view s) {
    std::int64_t value = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return value;
}

void append_debug(std::string& out, const reply& r) {
    switch (r.kind) {
        case reply_kind::simple_string:
        case reply_kind::bulk_string:
            out += fmt::format("\"{}\"", r.text);
            return;
        case reply_kind::error:
            out += "(error) " + r.text;
            return;
        case reply_kind::integer:
            out += fmt::format("(integer) {}", r.integer);
            return;
        case reply_kind::null:
            out += "(nil)";
            return;
        case reply_kind::array:
            out += '[';
            for (std::size_t i = 0; i < r.elements.size(); ++i) {
                if (i > 0) out += ", ";
                append_debug(out, r.elements[i]);
            }
            out += ']';
            return;
    }
}

}  // namespace

std::string to_debug_string(const reply& r) {
    std::string out;
    append_debug(out, r);
    return out;
}

command::command(std::initializer_list<std::string_view> args) {
    parts_.reserve(args.size());
    for (auto a : args) parts_.emplace_back(a);
}

command& command::arg(std::string_view a) {
    parts_.emplace_back(a);
    return *this;
}

void command::encode_to(std::string& out) const {
    std::size_t size = 16;
    for (const auto& p : parts_) size += p.size() + 16;
    out.reserve(out.size() + size);
    fmt::format_to(std::back_inserter(out), "*{}\r\n", parts_.size());
    for (const auto& p : parts_) {
        fmt::format_to(std::back_inserter(out), "${}\r\n", p.size());
        out += p;
        out += "\r\n";
    }
}

std::string command::encode() const {
    std::string out;
    encode_to(out);
    return out;
}

void parser::feed(std::string_view bytes) {
    if (failure_) return;
    buffer_.append(bytes);
}

std::expected<std::optional<reply>, error> parser::next() {
    if (failure_) return std::unexpected(*failure_);
    for (;;) {
        reply value;
        switch (read_element(value)) {
            case step::need_more:
                compact();
                return std::optional<reply>{};
            case step::failed:
                TKT_ASSERT(failure_.has_value());
                return std::unexpected(*failure_);
            case step::pushed:
                continue;
            case step::value:
                break;
        }
        // A finished value fills its parent array; a filled array is itself finished.
        for (;;) {
            if (stack_.empty()) {
                elements_ = 0;
                return std::optional<reply>{std::move(value)};
            }
            frame& top = stack_.back();
            top.value.elements.push_back(std::move(value));
            if (--top.remaining > 0) break;
            value = std::move(top.value);
            stack_.pop_back();
        }
    }
}

parser::step parser::read_element(reply& out) {
    if (pending_bulk_bytes_) return read_bulk(*pending_bulk_bytes_, out);
    std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
    const std::size_t from = std::max(scan_from_, pos_) - pos_;
    const std::size_t lf = rest.find('\n', from);
    if (lf == std::string_view::npos) {
        if (rest.size() > limits_.line_bytes_max + 1) {
            return fail(fmt::format("a line longer than {} bytes", limits_.line_bytes_max));
        }
        scan_from_ = buffer_.size();
        return step::need_more;
    }
    if (lf > limits_.line_bytes_max + 1) {
        return fail(fmt::format("a line longer than {} bytes", limits_.line_bytes_max));
    }
    if (lf == 0 || rest[lf - 1] != '\r') return fail("a line not ended by CRLF");
    if (lf == 1) return fail("an empty line");
    std::string_view line = rest.substr(0, lf - 1);
    if (line.find('\r') != std::string_view::npos) return fail("a CR inside a line");
    pos_ += lf + 1;
    scan_from_ = pos_;
    return header(line[0], line.substr(1), out);
}

parser::step parser::header(char type, std::string_view body, reply& out) {
    switch (type) {
        case '+':
            out = reply::simple(std::string(body));
            return step::value;
        case '-':
            out = reply::error_text(std::string(body));
            return step::value;
        case ':': {
            auto n = parse_integer(body);
            if (!n) return fail("a malformed integer");
            out = reply::number(*n);
            return step::value;
        }
        case '$': {
            auto n = parse_integer(body);
            if (!n || *n < -1) return fail("a malformed bulk string length");
            if (*n == -1) {
                out = reply::nil();
                return step::value;
            }
            if (static_cast<std::uint64_t>(*n) > limits_.bulk_bytes_max) {
                return fail(fmt::format("a bulk string of {} bytes (at most {})", *n,
                                        limits_.bulk_bytes_max));
            }
            pending_bulk_bytes_ = static_cast<std::size_t>(*n);
            return read_bulk(static_cast<std::size_t>(*n), out);
        }
        case '*': {
            auto n = parse_integer(body);
            if (!n || *n < -1) return fail("a malformed array length");
            if (*n == -1) {
                out = reply::nil();
                return step::value;
            }
            if (static_cast<std::uint64_t>(*n) > limits_.elements_max - elements_) {
                return fail(fmt::format("a reply of more than {} elements", limits_.elements_max));
            }
            if (*n == 0) {
                out = reply::array({});
                return step::value;
            }
            if (stack_.size() >= limits_.depth_max) {
                return fail(fmt::format("arrays nested deeper than {}", limits_.depth_max));
            }
            elements_ += static_cast<std::size_t>(*n);
            frame f{reply::array({}), static_cast<std::size_t>(*n)};
            // Reserve for what the bytes already buffered could hold, not for what the header
            // claims: a hostile count must not allocate before its elements arrive.
            f.value.elements.reserve(std::min<std::size_t>(f.remaining, 64));
            stack_.push_back(std::move(f));
            return step::pushed;
        }
        default:
            return fail(
                fmt::format("an unknown type byte 0x{:02x}", static_cast<unsigned char>(type)));
    }
}

parser::step parser::read_bulk(std::size_t n, reply& out) {
    if (buffer_.size() - pos_ < n + 2) return step::need_more;
    if (buffer_[pos_ + n] != '\r' || buffer_[pos_ + n + 1] != '\n') {
        return fail("a bulk string not ended by CRLF");
    }
    out = reply::bulk(buffer_.substr(pos_, n));
    pos_ += n + 2;
    scan_from_ = pos_;
    pending_bulk_bytes_.reset();
    return step::value;
}

parser::step parser::fail(std::string message) {
    failure_ = error{errc::protocol, std::move(message)};
    buffer_.clear();
    buffer_.shrink_to_fit();
    pos_ = scan_from_ = 0;
    stack_.clear();
    return step::failed;
}

// Drops consumed bytes once they are most of the buffer, so a long-lived connection's buffer
// stays the size of its largest reply instead of growing with everything ever read.
void parser::compact() {
    if (pos_ == 0) return;
    if (pos_ == buffer_.size()) {
        buffer_.clear();
    } else if (pos_ >= 4096 && pos_ * 2 >= buffer_.size()) {
        buffer_.erase(0, pos_);
    } else {
        return;
    }
    scan_from_ -= std::min(scan_from_, pos_);
    pos_ = 0;
}

}  // namespace tkt::redis
