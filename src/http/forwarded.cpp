#include "http/forwarded.hpp"

#include <algorithm>
#include <optional>

namespace tkt::http {
namespace {

std::string_view trim(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// An entry's address: "ADDRESS", "IPV4:PORT", "[IPV6]" or "[IPV6]:PORT".
std::optional<ip_address> entry_address(std::string_view entry) {
    if (auto plain = parse_ip_address(entry)) return plain;
    if (entry.starts_with('[')) {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
        auto v6 = parse_ip_address(entry.substr(1, close - 1));
        if (!v6 || v6->kind != ip_address::family::v6) return std::nullopt;
        return v6;
    }
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos || entry.find(':', colon + 1) != std::string_view::npos)
        return std::nullopt;
    auto v4 = parse_ip_address(entry.substr(0, colon));
    if (!v4 || v4->kind != ip_address::family::v4) return std::nullopt;
    return v4;
}

}  // namespace

bool is_trusted_proxy(const ip_address& address, std::span<const cidr> trusted) {
    return std::ranges::any_of(trusted,
                               [&](const cidr& block) { return contains(block, address); });
}

std::string client_address(const ip_address& peer, std::string_view forwarded_for,
                           std::span<const cidr> trusted) {
    // The nearest hop known so far: each step left trusts the one before it to have named it.
    ip_address hop = peer;
    if (!is_trusted_proxy(hop, trusted)) return hop.to_string();
    while (!forwarded_for.empty()) {
        const auto comma = forwarded_for.rfind(',');
        const auto entry =
            trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
        forwarded_for =
            comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
        if (entry.empty()) continue;
        const auto address = entry_address(entry);
        if (!address) break;
        hop = *address;
        if (!is_trusted_proxy(hop, trusted)) break;
    }
    return hop.to_string();
}

}  // namespace tkt::http
