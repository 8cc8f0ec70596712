#include "http/forwarded.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace tkt::http {
namespace {

ip_address address(std::string_view text) {
    const auto a = parse_ip_address(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(ip_address{});
}

std::vector<cidr> blocks(std::initializer_list<std::string_view> texts) {
    std::vector<cidr> out;
    for (const auto text : texts) {
        const auto block = parse_cidr(text);
        EXPECT_TRUE(block) << text;
        if (block) out.push_back(*block);
    }
    return out;
}

TEST(forwarded, a_peer_that_is_not_trusted_is_the_client_whatever_it_says) {
    const auto trusted = blocks({"10.0.0.0/8"});
    EXPECT_EQ(client_address(address("203.0.113.9"), "198.51.100.1", trusted), "203.0.113.9");
    EXPECT_EQ(client_address(address("203.0.113.9"), "10.0.0.1, 198.51.100.1", trusted),
              "203.0.113.9");
    // No proxies configured: nobody is trusted.
    EXPECT_EQ(client_address(address("127.0.0.1"), "198.51.100.1", {}), "127.0.0.1");
}

TEST(forwarded, one_trusted_proxy_names_the_client) {
    const auto trusted = blocks({"10.0.0.5/32"});
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.1", trusted), "198.51.100.1");
    EXPECT_EQ(client_address(address("10.0.0.6"), "198.51.100.1", trusted), "10.0.0.6");
    // A trusted peer that sent no header, or only blanks, is its own client.
    EXPECT_EQ(client_address(address("10.0.0.5"), "", trusted), "10.0.0.5");
    EXPECT_EQ(client_address(address("10.0.0.5"), " , ", trusted), "10.0.0.5");
}

TEST(forwarded, spoofed_left_most_entries_are_never_believed) {
    const auto trusted = blocks({"10.0.0.0/8"});
    // The client wrote "1.1.1.1, 10.9.9.9" itself; the proxy appended what it saw.
    EXPECT_EQ(client_address(address("10.0.0.5"), "1.1.1.1, 10.9.9.9, 198.51.100.7", trusted),
              "198.51.100.7");
    EXPECT_EQ(client_address(address("10.0.0.5"), "127.0.0.1,198.51.100.7", trusted),
              "198.51.100.7");
}

TEST(forwarded, several_trusted_hops_are_walked_from_the_right) {
    const auto trusted = blocks({"10.0.0.0/8", "192.168.0.0/16"});
    // client → 192.168.1.1 → 10.1.1.1 → peer 10.0.0.5
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.7, 192.168.1.1, 10.1.1.1", trusted),
              "198.51.100.7");
    // Every entry trusted: the left-most is the client as far as anyone can tell.
    EXPECT_EQ(client_address(address("10.0.0.5"), "192.168.1.1, 10.1.1.1", trusted), "192.168.1.1");
    // Several header lines arrive joined by commas in order.
    EXPECT_EQ(client_address(address("10.0.0.5"), "1.1.1.1, 198.51.100.7,10.1.1.1", trusted),
              "198.51.100.7");
}

TEST(forwarded, a_malformed_entry_stops_the_walk_at_the_hop_before_it) {
    const auto trusted = blocks({"10.0.0.0/8"});
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.7, unknown", trusted), "10.0.0.5");
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.7, garbage, 10.2.2.2", trusted),
              "10.2.2.2");
    EXPECT_EQ(client_address(address("10.0.0.5"), "1.2.3.4:5:6", trusted), "10.0.0.5");
    EXPECT_EQ(client_address(address("10.0.0.5"), "[1.2.3.4]:80", trusted), "10.0.0.5");
    EXPECT_EQ(client_address(address("10.0.0.5"), "::1]:80", trusted), "10.0.0.5");
    // Left of the malformed entry there is nothing to trust, however plausible it looks.
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.7, _hidden", trusted), "10.0.0.5");
}

TEST(forwarded, ipv6_addresses_blocks_and_ports) {
    const auto trusted = blocks({"2001:db8:aa::/48", "10.0.0.0/8"});
    EXPECT_EQ(client_address(address("2001:db8:aa::1"), "2001:db8:ff::9", trusted),
              "2001:db8:ff::9");
    EXPECT_EQ(client_address(address("2001:db8:ab::1"), "2001:db8:ff::9", trusted),
              "2001:db8:ab::1");
    EXPECT_EQ(client_address(address("2001:db8:aa::1"), "[2001:DB8:FF::9]:4711", trusted),
              "2001:db8:ff::9");
    EXPECT_EQ(client_address(address("10.0.0.5"), "198.51.100.7:4711", trusted), "198.51.100.7");
    EXPECT_EQ(client_address(address("10.0.0.5"), "[2001:db8:ff::9]", trusted), "2001:db8:ff::9");
    // A dual-stack listener reports IPv4 peers mapped into IPv6; they are the same address.
    EXPECT_EQ(client_address(address("::ffff:10.0.0.5"), "::ffff:198.51.100.7", trusted),
              "198.51.100.7");
    // An IPv6 proxy in front of an IPv4 client, and the reverse.
    EXPECT_EQ(client_address(address("10.0.0.5"), "2001:db8:ff::9, 2001:db8:aa::2", trusted),
              "2001:db8:ff::9");
}

TEST(forwarded, a_slash_0_trusts_every_address_of_its_family) {
    const auto everyone_v4 = blocks({"0.0.0.0/0"});
    EXPECT_EQ(client_address(address("203.0.113.9"), "198.51.100.1, 192.0.2.1", everyone_v4),
              "198.51.100.1");
    EXPECT_EQ(client_address(address("2001:db8::1"), "198.51.100.1", everyone_v4), "2001:db8::1");
    const auto everyone_v6 = blocks({"::/0"});
    EXPECT_EQ(client_address(address("2001:db8::1"), "2001:db8::2, 198.51.100.1", everyone_v6),
              "198.51.100.1");
}

TEST(forwarded, is_trusted_proxy_checks_every_block) {
    const auto trusted = blocks({"10.0.0.0/8", "::1"});
    EXPECT_TRUE(is_trusted_proxy(address("10.200.0.1"), trusted));
    EXPECT_TRUE(is_trusted_proxy(address("::1"), trusted));
    EXPECT_FALSE(is_trusted_proxy(address("11.0.0.1"), trusted));
    EXPECT_FALSE(is_trusted_proxy(address("::2"), trusted));
    EXPECT_FALSE(is_trusted_proxy(address("10.0.0.1"), {}));
}

}  // namespace
}  // namespace tkt::http
