#pragma once
// IP addresses and CIDR blocks as values: parsed from text, compared, printed. Sans-io: no
// sockets and no resolver (a host name is not an address); plain functions, safe from any
// thread.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d), which a dual-stack socket reports for an IPv4
// peer, is read as the IPv4 address it carries, so that one client has one form whichever way
// it arrived.
#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace tkt {

struct ip_address {
    enum class family { v4, v6 };

    family kind = family::v4;
    // Network order; an IPv4 address uses the first 4 bytes, the rest stay 0.
    std::array<std::uint8_t, 16> bytes{};

    // 4 or 16.
    std::size_t size() const { return kind == family::v4 ? 4 : 16; }
    // Dotted quad, or RFC 5952 text for IPv6 ("2001:db8::1").
    std::string to_string() const;

    friend bool operator==(const ip_address&, const ip_address&) = default;
};

// A literal IPv4 ("192.0.2.1", four decimal octets without leading zeros) or IPv6 address
// (without brackets or zone); nullopt for anything else.
std::optional<ip_address> parse_ip_address(std::string_view text);

// 127.0.0.0/8 and ::1.
bool is_loopback(const ip_address& address);

// Whether a listen host only ever reaches this machine: "localhost" or a loopback literal.
// Any other name, and the wildcard addresses 0.0.0.0 and ::, are not.
bool is_loopback_host(std::string_view host);
// Whether an absolute URL may carry a secret: https to any host, or plain http to a loopback
// host (is_loopback_host; an IPv6 literal in brackets). False for anything else, malformed
// URLs and URLs without a host included.
bool is_https_or_loopback_url(std::string_view url);

// A block of addresses: those whose first `prefix_bits` bits are `base`'s.
struct cidr {
    ip_address base;
    // 0..32 for IPv4, 0..128 for IPv6.
    int prefix_bits = 0;

    // "10.0.0.0/8", "2001:db8::/32".
    std::string to_string() const;

    friend bool operator==(const cidr&, const cidr&) = default;
};

// "ADDRESS/PREFIX" ("10.0.0.0/8", "fd00::/8", "0.0.0.0/0"), or an address alone for just that
// one (/32, /128). Bits set after the prefix ("10.0.0.1/8") are refused rather than dropped: they
// are almost always a typo for a narrower block. The error is a short reason without the text
// (the caller quotes it).
std::expected<cidr, std::string> parse_cidr(std::string_view text);

// Whether `address` is in `block`. An IPv4 address is never in an IPv6 block, nor the reverse
// (an IPv4-mapped address was already read as IPv4).
bool contains(const cidr& block, const ip_address& address);

}  // namespace tkt
