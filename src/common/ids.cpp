#include "common/ids.hpp"

#include "common/encoding.hpp"

namespace tkt {

std::string random_id(std::string_view prefix) {
    static constexpr std::string_view alphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    constexpr std::size_t length = 20;
    // Rejection sampling keeps every character uniform: bytes ≥ 248 (= 4 × 62) are redrawn.
    std::string id(prefix);
    id.reserve(prefix.size() + length);
    while (id.size() < prefix.size() + length) {
        for (auto b : random_bytes(length)) {
            if (b >= 248) continue;
            id.push_back(alphabet[b % alphabet.size()]);
            if (id.size() == prefix.size() + length) break;
        }
    }
    return id;
}

}  // namespace tkt
