#include "common/ids.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>

#include "common/assert.hpp"
#include "common/encoding.hpp"

namespace tkt {
namespace {

constexpr std::string_view alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Random bytes for ids, drawn from libsodium 512 at a time per thread: one system call per ~20
// ids instead of one per id. Each byte is handed out once.
std::uint8_t next_random_byte() {
    thread_local std::array<std::uint8_t, 512> pool{};
    thread_local std::size_t used = pool.size();
    if (used == pool.size()) {
        auto fresh = random_bytes(pool.size());
        std::copy(fresh.begin(), fresh.end(), pool.begin());
        used = 0;
    }
    return pool[used++];
}

// Appends `length` uniform random base62 characters. Rejection sampling keeps every character
// uniform: bytes ≥ 248 (= 4 × 62) are redrawn.
void append_random(std::string& id, std::size_t length) {
    const auto target = id.size() + length;
    while (id.size() < target) {
        const auto b = next_random_byte();
        if (b >= 248) continue;
        id.push_back(alphabet[b % alphabet.size()]);
    }
}

}  // namespace

std::string random_id(std::string_view prefix) {
    std::string id(prefix);
    id.reserve(prefix.size() + 20);
    append_random(id, 20);
    return id;
}

std::string sortable_id(std::string_view prefix, time_point now) {
    constexpr std::size_t time_chars = 8;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    TKT_ASSERT(ms >= 0);
    std::string id(prefix);
    id.reserve(prefix.size() + time_chars + 14);
    id.resize(prefix.size() + time_chars);
    for (std::size_t i = id.size(); i-- > prefix.size();) {
        id[i] = alphabet[static_cast<std::size_t>(ms % 62)];
        ms /= 62;
    }
    append_random(id, 14);
    return id;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || v <= 0)
        return std::nullopt;
    return v;
}

}  // namespace tkt
