#include "common/ip_address.hpp"

#include <algorithm>
#include <cctype>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>

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

}  // namespace tkt
