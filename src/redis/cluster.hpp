#pragma once
// Redis Cluster routing without any I/O: which of the 16384 hash slots a key belongs to, which
// node serves a slot (from a `CLUSTER SLOTS` reply), and what a `MOVED` or `ASK` redirection
// says. The cluster client carries these decisions out; everything here is a plain function of
// its arguments and safe to call from any thread.
//
// Key slots follow the Redis Cluster specification: CRC16 (XMODEM: polynomial 0x1021, initial
// value 0) of the key modulo 16384, where a key with a non-empty `{hash tag}` hashes only the
// tag — the bytes between its first `{` and the first `}` after it — so that keys sharing a
// tag ("{e:42}:seats", "{e:42}:holds") live on one node and one Lua script may touch them all.
#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/resp.hpp"

namespace tkt::redis {

inline constexpr std::uint16_t slot_count = 16384;

std::uint16_t crc16(std::string_view bytes);
// The part of `key` that is hashed: its hash tag when it has a non-empty one, else all of it.
std::string_view hash_tag(std::string_view key);
std::uint16_t key_slot(std::string_view key);

struct node_address {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const;  // host:port, [v6]:port
    friend bool operator==(const node_address&, const node_address&) = default;
};

// "host:port", the host possibly an IPv6 address ("::1:7000"); the port is after the last ':'.
std::optional<node_address> parse_node_address(std::string_view text);

// Which master serves each slot.
class slot_map {
public:
    // From a `CLUSTER SLOTS` reply: [[first, last, [host, port, id...], replicas...], ...].
    // A master announced with an empty host (Redis 7 when it does not know its own address) is
    // taken to be on `default_host`, the host the reply came from.
    static std::expected<slot_map, std::string> from_cluster_slots(const reply& r,
                                                                   std::string_view default_host);

    // The master of `slot`, or nullptr when no node serves it.
    const node_address* master_of(std::uint16_t slot) const;
    const std::vector<node_address>& masters() const { return masters_; }
    // Slots that some node serves (16384 in a healthy cluster).
    std::size_t covered_slots() const;
    // Points one slot at `node` (what a MOVED says), adding the node if it is new.
    void assign(std::uint16_t slot, const node_address& node);

private:
    static constexpr std::uint16_t unassigned = 0xffff;
    std::vector<node_address> masters_;
    std::vector<std::uint16_t> owner_ = std::vector<std::uint16_t>(slot_count, unassigned);
};

// A cluster's "try elsewhere" error: `MOVED <slot> <host:port>` (the slot lives there now: send
// this and later commands there) or `ASK <slot> <host:port>` (for this command only, send
// `ASKING` and then it to that node).
struct redirect {
    enum class kind { moved, ask };
    kind type = kind::moved;
    std::uint16_t slot = 0;
    node_address node;  // an empty host means "the node that answered"
};

// The redirection an error reply's text names, or std::nullopt for any other error.
std::optional<redirect> parse_redirect(std::string_view error_text);

// The key a command is routed by: its first key, for the commands this project sends (most
// take it first; EVAL and EVALSHA after the script and the key count); std::nullopt for a
// command without keys (PING, SCRIPT LOAD), which any node may answer.
std::optional<std::string_view> routing_key(const command& c);

}  // namespace tkt::redis
