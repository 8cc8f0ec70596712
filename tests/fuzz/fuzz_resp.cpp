// Fuzzes the RESP2 reply parser (src/redis/resp): the bytes are what a hostile or broken server
// sends. Small limits, so that the fuzzer reaches every limit quickly.
//
// Properties checked besides "no crash, no sanitizer report":
// - feeding the bytes in pieces (sized from the bytes themselves) gives the same replies and the
//   same final state (waiting for more, or the same protocol error) as feeding them at once;
// - every reply re-encoded as RESP2 parses back to itself;
// - no reply exceeds the limits (depth, elements, bulk size) and the parser keeps no more
//   bytes than it was fed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/assert.hpp"
#include "redis/resp.hpp"

namespace {

using tkt::redis::parser;
using tkt::redis::parser_limits;
using tkt::redis::reply;
using tkt::redis::reply_kind;

constexpr parser_limits limits{
    .bulk_bytes_max = 256, .line_bytes_max = 64, .depth_max = 4, .elements_max = 64};

struct outcome {
    std::vector<reply> replies;
    bool failed = false;
    std::string failure;
};

void drain(parser& p, outcome& out) {
    while (!out.failed) {
        auto r = p.next();
        if (!r) {
            out.failed = true;
            out.failure = r.error().message;
            TKT_ASSERT(p.failed());
            TKT_ASSERT(p.buffered() == 0);
            return;
        }
        if (!*r) return;
        out.replies.push_back(std::move(**r));
    }
}

void encode(const reply& r, std::string& out) {
    switch (r.kind) {
        case reply_kind::simple_string:
            out += fmt::format("+{}\r\n", r.text);
            return;
        case reply_kind::error:
            out += fmt::format("-{}\r\n", r.text);
            return;
        case reply_kind::integer:
            out += fmt::format(":{}\r\n", r.integer);
            return;
        case reply_kind::bulk_string:
            out += fmt::format("${}\r\n{}\r\n", r.text.size(), r.text);
            return;
        case reply_kind::null:
            out += "$-1\r\n";
            return;
        case reply_kind::array:
            out += fmt::format("*{}\r\n", r.elements.size());
            for (const auto& e : r.elements) encode(e, out);
            return;
    }
}

// Elements below `r` (not counting itself), checking depth and sizes on the way.
std::size_t check_limits(const reply& r, std::size_t depth) {
    if (r.kind == reply_kind::bulk_string) TKT_ASSERT(r.text.size() <= limits.bulk_bytes_max);
    if (r.kind == reply_kind::simple_string || r.kind == reply_kind::error) {
        TKT_ASSERT(r.text.size() < limits.line_bytes_max);
        TKT_ASSERT(r.text.find_first_of("\r\n") == std::string::npos);
    }
    if (r.kind != reply_kind::array) return 0;
    if (!r.elements.empty()) TKT_ASSERT(depth < limits.depth_max);
    std::size_t count = r.elements.size();
    for (const auto& e : r.elements) count += check_limits(e, depth + 1);
    return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    parser whole(limits);
    whole.feed(bytes);
    outcome at_once;
    drain(whole, at_once);
    TKT_ASSERT(whole.buffered() <= bytes.size());

    parser pieces(limits);
    outcome in_pieces;
    for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t n = 1 + static_cast<unsigned char>(bytes[i]) % 7;
        pieces.feed(bytes.substr(i, n));
        drain(pieces, in_pieces);
        i += n;
    }
    TKT_ASSERT(in_pieces.replies == at_once.replies);
    TKT_ASSERT(in_pieces.failed == at_once.failed);
    TKT_ASSERT(in_pieces.failure == at_once.failure);
    if (!at_once.failed) TKT_ASSERT(pieces.buffered() == whole.buffered());

    for (const auto& r : at_once.replies) {
        TKT_ASSERT(check_limits(r, 0) <= limits.elements_max);
        std::string wire;
        encode(r, wire);
        parser again(limits);
        again.feed(wire);
        auto back = again.next();
        TKT_ASSERT(back.has_value() && back->has_value());
        TKT_ASSERT(**back == r);
        TKT_ASSERT(again.buffered() == 0);
    }
    return 0;
}
