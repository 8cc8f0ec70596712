#include "common/ip_address.hpp"

#include <gtest/gtest.h>

namespace tkt {
namespace {

TEST(IpAddress, ParsesIpv4AndIpv6Literals) {
    const auto v4 = parse_ip_address("192.0.2.10");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->kind, ip_address::family::v4);
    EXPECT_EQ(v4->size(), 4u);
    EXPECT_EQ(v4->bytes[0], 192);
    EXPECT_EQ(v4->bytes[3], 10);
    EXPECT_EQ(v4->to_string(), "192.0.2.10");

    const auto v6 = parse_ip_address("2001:DB8:0:0::1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->kind, ip_address::family::v6);
    EXPECT_EQ(v6->size(), 16u);
    EXPECT_EQ(v6->bytes[0], 0x20);
    EXPECT_EQ(v6->bytes[15], 1);
    EXPECT_EQ(v6->to_string(), "2001:db8::1");
    EXPECT_EQ(parse_ip_address("::")->to_string(), "::");
}

TEST(IpAddress, AnIpv4MappedAddressIsItsIpv4Address) {
    const auto mapped = parse_ip_address("::ffff:203.0.113.7");
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, *parse_ip_address("203.0.113.7"));
    EXPECT_EQ(mapped->to_string(), "203.0.113.7");
}

TEST(IpAddress, RefusesWhatIsNotALiteralAddress) {
    for (const auto* text : {"", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1",
                             "01.2.3.4", "1.2.3.4:80", "[::1]", "::1%eth0", "1::2::3",
                             "12345::", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "-1.0.0.0"}) {
        EXPECT_FALSE(parse_ip_address(text)) << text;
    }
}

TEST(IpAddress, LoopbackIs127Slash8AndColonColon1) {
    for (const auto* text :
         {"127.0.0.1", "127.255.255.254", "127.0.0.0", "::1", "::ffff:127.0.0.2"})
        EXPECT_TRUE(is_loopback(*parse_ip_address(text))) << text;
    for (const auto* text : {"0.0.0.0", "::", "128.0.0.1", "126.255.255.255", "10.0.0.1", "::2",
                             "fe80::1", "1::1", "::ffff:10.0.0.1"})
        EXPECT_FALSE(is_loopback(*parse_ip_address(text))) << text;
}

TEST(IpAddress, SecretsGoOverHttpsOrToLoopbackOnly) {
    for (const char* url : {"https://api.tosspayments.com", "https://10.0.0.5:8443/x",
                            "http://127.0.0.1:8080/sandbox/toss", "http://localhost/v1",
                            "http://[::1]:9000/", "http://127.9.9.9"}) {
        EXPECT_TRUE(is_https_or_loopback_url(url)) << url;
    }
    for (const char* url :
         {"http://example.com", "http://10.0.0.5", "http://[2001:db8::1]/", "http://0.0.0.0:80",
          "ftp://127.0.0.1", "https://", "127.0.0.1:80", "not a url", ""}) {
        EXPECT_FALSE(is_https_or_loopback_url(url)) << url;
    }
}

TEST(IpAddress, LoopbackHostsAreLocalhostAndLoopbackLiterals) {
    for (const auto* host : {"localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1"})
        EXPECT_TRUE(is_loopback_host(host)) << host;
    for (const auto* host : {"0.0.0.0", "::", "10.1.2.3", "example.com", "localhost.example.com",
                             "mylocalhost", "", "127.0.0.1.nip.io"})
        EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(Cidr, ParsesIpv4AndIpv6Blocks) {
    const auto v4 = parse_cidr("10.0.0.0/8");
    ASSERT_TRUE(v4) << v4.error();
    EXPECT_EQ(v4->prefix_bits, 8);
    EXPECT_EQ(v4->to_string(), "10.0.0.0/8");
    const auto v6 = parse_cidr("2001:DB8::/32");
    ASSERT_TRUE(v6) << v6.error();
    EXPECT_EQ(v6->prefix_bits, 32);
    EXPECT_EQ(v6->to_string(), "2001:db8::/32");
    // An address alone is a block of one.
    EXPECT_EQ(parse_cidr("192.0.2.7")->to_string(), "192.0.2.7/32");
    EXPECT_EQ(parse_cidr("::1")->to_string(), "::1/128");
    EXPECT_EQ(parse_cidr("0.0.0.0/0")->to_string(), "0.0.0.0/0");
    EXPECT_EQ(parse_cidr("::/0")->to_string(), "::/0");
}

TEST(Cidr, ContainsByPrefix) {
    const auto in = [](std::string_view block, std::string_view address) {
        return contains(*parse_cidr(block), *parse_ip_address(address));
    };
    EXPECT_TRUE(in("10.0.0.0/8", "10.255.1.2"));
    EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.0"));
    EXPECT_TRUE(in("192.168.4.0/22", "192.168.7.255"));
    EXPECT_FALSE(in("192.168.4.0/22", "192.168.8.0"));
    EXPECT_FALSE(in("192.168.4.0/22", "192.168.3.255"));
    EXPECT_TRUE(in("127.0.0.1/32", "127.0.0.1"));
    EXPECT_FALSE(in("127.0.0.1/32", "127.0.0.2"));
    EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
    EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
    EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
    EXPECT_TRUE(in("fe80::/10", "febf::1"));
    EXPECT_FALSE(in("fe80::/10", "fec0::1"));
    EXPECT_TRUE(in("::1/128", "::1"));
    EXPECT_TRUE(in("::/0", "2001:db8::1"));
    // Families never mix, /0 included; a mapped address is IPv4.
    EXPECT_FALSE(in("::/0", "203.0.113.9"));
    EXPECT_FALSE(in("0.0.0.0/0", "2001:db8::1"));
    EXPECT_TRUE(in("10.0.0.0/8", "::ffff:10.1.2.3"));
}

TEST(Cidr, RefusesMalformedBlocks) {
    for (const auto* text :
         {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
          "10.0.0.0/8/8", "10.0.0.0/8 ", "10.0.0/8", "10.0.0.0/a", "::/129", "::/1000",
          "example.com/24", "10.0.0.0-10.0.0.255", "10.0.0.0/8,10.1.0.0/16"})
        EXPECT_FALSE(parse_cidr(text)) << text;
    // Bits after the prefix are a typo, not a block.
    const auto stray = parse_cidr("10.0.0.1/8");
    ASSERT_FALSE(stray);
    EXPECT_EQ(stray.error(), "bits set after the prefix (did you mean 10.0.0.0/8?)");
    EXPECT_FALSE(parse_cidr("2001:db8::1/32"));
    EXPECT_FALSE(parse_cidr("192.168.5.0/22"));
}

}  // namespace
}  // namespace tkt
