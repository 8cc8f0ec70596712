#include "common/ip_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

namespace tkt {

std::string ip_address::to_string() const {
    if (kind == family::v4) {
        boost::urls::ipv4_address::bytes_type b{};
        std::copy_n(bytes.begin(), 4, b.begin());
        return boost::urls::ipv4_address(b).to_string();
    }
    boost::urls::ipv6_address::bytes_type b{};
    std::copy_n(bytes.begin(), 16, b.begin());
    return boost::urls::ipv6_address(b).to_string();
}

std::optional<ip_address> parse_ip_address(std::string_view text) {
    ip_address out;
    if (const auto v4 = boost::urls::parse_ipv4_address(text)) {
        const auto b = v4->to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
        return out;
    }
    const auto v6 = boost::urls::parse_ipv6_address(text);
    if (!v6) return std::nullopt;
    const auto b = v6->to_bytes();
    if (v6->is_v4_mapped()) {
        std::copy(b.begin() + 12, b.end(), out.bytes.begin());
        return out;
    }
    out.kind = ip_address::family::v6;
    std::copy(b.begin(), b.end(), out.bytes.begin());
    return out;
}

bool is_loopback(const ip_address& address) {
    if (address.kind == ip_address::family::v4) return address.bytes[0] == 127;
    static constexpr std::array<std::uint8_t, 16> one = {0, 0, 0, 0, 0, 0, 0, 0,
                                                         0, 0, 0, 0, 0, 0, 0, 1};
    return address.bytes == one;
}

bool is_https_or_loopback_url(std::string_view text) {
    const auto url = boost::urls::parse_absolute_uri(text);
    if (!url || url->host().empty()) return false;
    if (url->scheme() == "https") return true;
    return url->scheme() == "http" && is_loopback_host(url->host_address());
}

bool is_loopback_host(std::string_view host) {
    // Host names are case-insensitive; "localhost" is the one name that is loopback by
    // definition (RFC 6761), whatever a resolver would make of others.
    constexpr std::string_view localhost = "localhost";
    if (std::ranges::equal(host, localhost, [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
        }))
        return true;
    const auto address = parse_ip_address(host);
    return address && is_loopback(*address);
}

std::string cidr::to_string() const {
    return fmt::format("{}/{}", base.to_string(), prefix_bits);
}

namespace {

// `address` with every bit after the first `bits` cleared.
ip_address masked(const ip_address& address, int bits) {
    ip_address out{.kind = address.kind, .bytes = {}};
    for (std::size_t i = 0; i < address.size(); ++i) {
        const int kept = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
        out.bytes[i] = address.bytes[i] & static_cast<std::uint8_t>(0xff00 >> kept);
    }
    return out;
}

std::optional<int> parse_prefix(std::string_view text, int max) {
    // Plain decimal: no sign, no leading zero, at most three digits.
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) return {};
    int bits = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (ec != std::errc{} || end != text.data() + text.size() || bits < 0 || bits > max) return {};
    return bits;
}

}  // namespace

std::expected<cidr, std::string> parse_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const auto base = parse_ip_address(text.substr(0, slash));
    if (!base)
        return std::unexpected(
            std::string{"not a CIDR block (an IPv4 or IPv6 address, then /prefix)"});
    const int max = static_cast<int>(base->size() * 8);
    if (slash == std::string_view::npos) return cidr{*base, max};
    const auto bits = parse_prefix(text.substr(slash + 1), max);
    if (!bits)
        return std::unexpected(
            fmt::format("a bad prefix length (0..{} for {})", max, max == 32 ? "IPv4" : "IPv6"));
    const cidr block{masked(*base, *bits), *bits};
    if (block.base != *base)
        return std::unexpected(
            fmt::format("bits set after the prefix (did you mean {}?)", block.to_string()));
    return block;
}

bool contains(const cidr& block, const ip_address& address) {
    return block.base.kind == address.kind && masked(address, block.prefix_bits) == block.base;
}

}  // namespace tkt
