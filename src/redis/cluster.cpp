#include "redis/cluster.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace tkt::redis {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned i = 0; i < 256; ++i) {
        auto crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                 : static_cast<std::uint16_t>(crc << 1);
        }
        table[i] = crc;
    }
    return table;
}

constexpr auto crc16_table = make_crc16_table();

std::optional<std::int64_t> to_number(std::string_view s) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return value;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::toupper(static_cast<unsigned char>(x)) ==
               std::toupper(static_cast<unsigned char>(y));
    });
}

}  // namespace

std::uint16_t crc16(std::string_view bytes) {
    std::uint16_t crc = 0;
    for (unsigned char b : bytes) {
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[((crc >> 8) ^ b) & 0xff]);
    }
    return crc;
}

std::string_view hash_tag(std::string_view key) {
    const auto open = key.find('{');
    if (open == std::string_view::npos) return key;
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) return key;
    return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) {
    return static_cast<std::uint16_t>(crc16(hash_tag(key)) % slot_count);
}

std::string node_address::to_string() const {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

std::optional<node_address> parse_node_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto port = to_number(text.substr(colon + 1));
    if (!port || *port <= 0 || *port > 65535) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return node_address{std::string(host), static_cast<std::uint16_t>(*port)};
}

std::expected<slot_map, std::string> slot_map::from_cluster_slots(const reply& r,
                                                                  std::string_view default_host) {
    if (!r.is_array()) return std::unexpected("CLUSTER SLOTS did not answer an array");
    slot_map map;
    for (const reply& range : r.elements) {
        if (!range.is_array() || range.elements.size() < 3) {
            return std::unexpected("a slot range without first, last and master");
        }
        const reply& first = range.elements[0];
        const reply& last = range.elements[1];
        const reply& master = range.elements[2];
        if (first.kind != reply_kind::integer || last.kind != reply_kind::integer ||
            first.integer < 0 || last.integer < first.integer || last.integer >= slot_count) {
            return std::unexpected("a slot range out of 0..16383");
        }
        if (!master.is_array() || master.elements.size() < 2 || !master.elements[0].is_string() ||
            master.elements[1].kind != reply_kind::integer || master.elements[1].integer <= 0 ||
            master.elements[1].integer > 65535) {
            return std::unexpected("a master without host and port");
        }
        node_address node{master.elements[0].text,
                          static_cast<std::uint16_t>(master.elements[1].integer)};
        if (node.host.empty() || node.host == "?") node.host = std::string(default_host);
        auto it = std::ranges::find(map.masters_, node);
        if (it == map.masters_.end()) {
            map.masters_.push_back(std::move(node));
            it = std::prev(map.masters_.end());
        }
        const auto index = static_cast<std::uint16_t>(it - map.masters_.begin());
        for (auto slot = first.integer; slot <= last.integer; ++slot) {
            map.owner_[static_cast<std::size_t>(slot)] = index;
        }
    }
    return map;
}

const node_address* slot_map::master_of(std::uint16_t slot) const {
    if (slot >= slot_count || owner_[slot] == unassigned) return nullptr;
    return &masters_[owner_[slot]];
}

std::size_t slot_map::covered_slots() const {
    return static_cast<std::size_t>(
        std::ranges::count_if(owner_, [](std::uint16_t o) { return o != unassigned; }));
}

void slot_map::assign(std::uint16_t slot, const node_address& node) {
    if (slot >= slot_count) return;
    auto it = std::ranges::find(masters_, node);
    if (it == masters_.end()) {
        masters_.push_back(node);
        it = std::prev(masters_.end());
    }
    owner_[slot] = static_cast<std::uint16_t>(it - masters_.begin());
}

std::optional<redirect> parse_redirect(std::string_view text) {
    redirect out;
    if (text.starts_with("MOVED ")) {
        out.type = redirect::kind::moved;
        text.remove_prefix(6);
    } else if (text.starts_with("ASK ")) {
        out.type = redirect::kind::ask;
        text.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto slot = to_number(text.substr(0, space));
    if (!slot || *slot < 0 || *slot >= slot_count) return std::nullopt;
    out.slot = static_cast<std::uint16_t>(*slot);
    auto node = parse_node_address(text.substr(space + 1));
    if (!node) return std::nullopt;
    out.node = std::move(*node);
    return out;
}

std::optional<std::string_view> routing_key(const command& c) {
    const auto& parts = c.parts();
    if (parts.size() < 2) return std::nullopt;
    const std::string_view name = parts[0];
    if (iequals(name, "EVAL") || iequals(name, "EVALSHA") || iequals(name, "EVAL_RO") ||
        iequals(name, "EVALSHA_RO")) {
        if (parts.size() < 4) return std::nullopt;
        auto keys = to_number(parts[2]);
        if (!keys || *keys < 1) return std::nullopt;
        return std::string_view(parts[3]);
    }
    static constexpr std::array<std::string_view, 12> keyless{
        "PING",   "ECHO",    "SCRIPT", "INFO",   "CLUSTER",  "CLIENT",
        "CONFIG", "PUBLISH", "AUTH",   "SELECT", "FLUSHALL", "DBSIZE"};
    if (std::ranges::any_of(keyless, [&](std::string_view k) { return iequals(name, k); })) {
        return std::nullopt;
    }
    return std::string_view(parts[1]);
}

}  // namespace tkt::redis
