#pragma once
// RESP2, the Redis wire protocol, without any I/O (STYLE.md: sans-io).
//
// `command` is what a client sends: an array of bulk strings, encoded by `encode_to`. `parser`
// turns the bytes a server sends, fed in pieces of any size, into complete `reply` values. It
// holds the bytes of at most one unfinished reply and never allocates more than its limits allow
// for a hostile or broken peer: a bulk string longer than `bulk_bytes_max`, an array nested
// deeper than `depth_max`, a reply declaring more than `elements_max` elements in all, or a
// header line longer than `line_bytes_max` is a protocol error, after which the parser refuses
// everything (the connection is to be closed; its byte stream can no longer be trusted).
//
// RESP3 types are not understood: the client never sends HELLO 3.
//
// Thread-safety: none; a parser belongs to one connection's reader.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/error.hpp"

namespace tkt::redis {

enum class reply_kind { simple_string, error, integer, bulk_string, array, null };

// One reply. RESP2's null bulk string and null array are both `null`: no command this client
// sends tells them apart.
struct reply {
    reply_kind kind = reply_kind::null;
    std::string text;             // simple_string, error, bulk_string
    std::int64_t integer = 0;     // integer
    std::vector<reply> elements;  // array

    static reply simple(std::string s) { return {reply_kind::simple_string, std::move(s), 0, {}}; }
    static reply error_text(std::string s) { return {reply_kind::error, std::move(s), 0, {}}; }
    static reply bulk(std::string s) { return {reply_kind::bulk_string, std::move(s), 0, {}}; }
    static reply number(std::int64_t n) { return {reply_kind::integer, {}, n, {}}; }
    static reply array(std::vector<reply> e) { return {reply_kind::array, {}, 0, std::move(e)}; }
    static reply nil() { return {}; }

    bool is_null() const { return kind == reply_kind::null; }
    bool is_error() const { return kind == reply_kind::error; }
    bool is_array() const { return kind == reply_kind::array; }
    // A simple or bulk string.
    bool is_string() const {
        return kind == reply_kind::simple_string || kind == reply_kind::bulk_string;
    }

    friend bool operator==(const reply&, const reply&) = default;
};

// For test failures and logs: `"OK"`, `(error) ERR x`, `(integer) 3`, `(nil)`, `[a, b]`.
std::string to_debug_string(const reply& r);

// A command: its name and arguments, each sent as a bulk string (binary-safe).
class command {
public:
    command() = default;
    command(std::initializer_list<std::string_view> args);

    // The same from separate arguments, each a string or an integer. Use it inside coroutines:
    // g++ 12 cannot keep a braced list's array in a coroutine frame ("array used as
    // initializer"), so `command{"GET", key}` does not compile there.
    template <class... Args>
    static command of(const Args&... args) {
        command c;
        c.parts_.reserve(sizeof...(args));
        (c.arg(args), ...);
        return c;
    }

    command& arg(std::string_view a);
    template <std::integral I>
    command& arg(I n)
        requires(!std::same_as<I, char>)
    {
        return arg(std::string_view(std::to_string(n)));
    }
    template <class Range>
    command& args(const Range& range) {
        for (const auto& a : range) arg(a);
        return *this;
    }

    const std::vector<std::string>& parts() const { return parts_; }
    bool empty() const { return parts_.empty(); }
    // The name as sent, e.g. "GET"; "" for an empty command.
    std::string_view name() const { return parts_.empty() ? std::string_view{} : parts_[0]; }

    // Appends the RESP2 encoding: *<n>\r\n then $<len>\r\n<bytes>\r\n per part.
    void encode_to(std::string& out) const;
    std::string encode() const;

private:
    std::vector<std::string> parts_;
};

struct parser_limits {
    std::size_t bulk_bytes_max = 64u << 20;  // Redis's own default is 512 MiB; we store less
    std::size_t line_bytes_max = 64u << 10;  // a simple string, an error, a header
    std::size_t depth_max = 16;              // arrays within arrays
    std::size_t elements_max = 1u << 20;     // array elements in one reply, all levels
};

class parser {
public:
    explicit parser(parser_limits limits = {}) : limits_(limits) {}

    // Hands the parser more bytes. Cheap to call with small pieces: a header line is scanned
    // once, a bulk string's bytes are not scanned at all.
    void feed(std::string_view bytes);

    // The next complete reply; std::nullopt when it needs more bytes; an error (errc::protocol)
    // when the bytes are not RESP2 or break a limit, and from then on for every call.
    std::expected<std::optional<reply>, error> next();

    // Bytes fed but not yet returned as part of a reply.
    std::size_t buffered() const { return buffer_.size() - pos_; }
    bool failed() const { return failure_.has_value(); }

private:
    enum class step { need_more, value, pushed, failed };

    step read_element(reply& out);
    step read_bulk(std::size_t n, reply& out);  // the payload of a bulk of n bytes
    step header(char type, std::string_view body, reply& out);
    step fail(std::string message);
    void compact();

    struct frame {
        reply value;
        std::size_t remaining = 0;
    };

    parser_limits limits_;
    std::string buffer_;
    std::size_t pos_ = 0;        // first byte not yet consumed
    std::size_t scan_from_ = 0;  // where the search for the current line's LF resumes
    std::optional<std::size_t> pending_bulk_bytes_;  // header read, payload awaited
    std::vector<frame> stack_;                       // arrays being filled, outermost first
    std::size_t elements_ = 0;                       // declared so far in the current reply
    std::optional<error> failure_;
};

}  // namespace tkt::redis
