#pragma once
// Who the client is when the server sits behind proxies (server.trusted_proxies). Sans-io:
// plain functions of the peer's address and the header's text; safe from any thread.
//
// Each proxy appends the address it took the connection from to X-Forwarded-For, so the list
// reads "client, proxy1, proxy2" and the TCP peer is the last proxy. Only what trusted proxies
// appended can be believed: anything further left came from the client, who may have written
// whatever it liked there. So the walk starts at the right end, steps over addresses of trusted
// proxies, and takes the first one that is not: the client, as far as the proxies we trust can
// tell. A peer that is not trusted is the client itself and its header is ignored, so a client
// cannot choose its own address (for the per-IP rate limits, for the logs).
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.hpp"

namespace tkt::http {

// Whether `address` is in one of the `trusted` blocks.
bool is_trusted_proxy(const ip_address& address, std::span<const cidr> trusted);

// The client's address, as text, for a request that came from `peer` with `forwarded_for`
// (every X-Forwarded-For field value of the request, joined by commas in the order they came).
// `peer` itself when it is not a trusted proxy or the header names nobody. Otherwise the
// right-most entry that is not a trusted proxy; the left-most when every entry is one; and when
// the walk meets an entry that is not an address, the nearest trusted hop to its right (that
// proxy could not name its client, and nothing further left can be checked). Entries may carry
// a port ("192.0.2.1:4711", "[2001:db8::1]:4711"), which is dropped; blank entries are skipped.
// The header is bounded by server.max_header_bytes, and so is the walk.
std::string client_address(const ip_address& peer, std::string_view forwarded_for,
                           std::span<const cidr> trusted);

}  // namespace tkt::http
