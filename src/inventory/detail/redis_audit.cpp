#include "inventory/detail/redis_audit.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace tkt::inventory::detail {
namespace {

constexpr char separator = '\x1f';

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = s.find(separator);
        parts.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return parts;
        s.remove_prefix(at + 1);
    }
}

// A seat's value: <status><version>[:<payload>].
struct seat_value {
    char status = 'a';
    std::uint64_t version = 0;
    std::string_view payload;
};

seat_value parse_seat(std::string_view v) {
    seat_value out;
    if (v.empty()) throw unavailable("inventory: an empty seat value in Redis");
    out.status = v[0];
    const auto colon = v.find(':');
    const auto digits = v.substr(1, colon == std::string_view::npos ? v.npos : colon - 1);
    out.version = static_cast<std::uint64_t>(integer_of(digits));
    if (colon != std::string_view::npos) out.payload = v.substr(colon + 1);
    return out;
}

seat_status status_of(char c) {
    if (c == 'h') return seat_status::held;
    if (c == 's') return seat_status::sold;
    return seat_status::available;
}

// A flat HGETALL reply as a map.
std::map<std::string, std::string, std::less<>> fields_of(const redis::reply& r) {
    std::map<std::string, std::string, std::less<>> out;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        out.emplace(r.elements[i].text, r.elements[i + 1].text);
    }
    return out;
}

std::int64_t field(const std::map<std::string, std::string, std::less<>>& m, std::string_view k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : integer_of(it->second);
}

struct tally {
    std::map<std::string, std::int64_t, std::less<>> zone_held;
    std::map<std::string, std::int64_t, std::less<>> zone_sold;  // from the users' z: fields
    std::map<std::string, std::int64_t> user_held;               // user id as text
    std::map<std::string, std::int64_t> user_sold;
    std::int64_t held = 0;
    std::int64_t sold = 0;
};

struct dump_view {
    std::map<std::string, std::string, std::less<>> meta, seats, zones, holds, users;
    std::vector<std::string> order;
    std::map<std::string, std::string, std::less<>> exp;  // id → score
};

void audit_holds(const dump_view& d, tally& t, std::vector<std::string>& out) {
    for (const auto& [id, record] : d.holds) {
        const auto h = hold_of_record(0, id, record);
        const auto n = h.items.count();
        if (n < 1 || n > seats_per_hold_max) {
            out.push_back(
                fmt::format("hold {}: {} items, outside 1..{}", id, n, seats_per_hold_max));
        }
        t.user_held[std::to_string(h.user)] += n;
        t.held += n;
        const bool queued = d.exp.contains(id);
        if (h.state == hold_state::held && !queued) {
            out.push_back(fmt::format("hold {}: unpinned but has no expiry entry", id));
        }
        if (h.state == hold_state::pinned && queued) {
            out.push_back(fmt::format("hold {}: pinned but still in the expiry zset", id));
        }
        if (queued) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                h.expires_at.time_since_epoch());
            if (d.exp.at(id) != std::to_string(ms.count())) {
                out.push_back(fmt::format("hold {}: expiry score {} is not its expires_at {}", id,
                                          d.exp.at(id), ms.count()));
            }
        }
        if (h.items.seats.empty()) {
            if (!d.zones.contains("c:" + h.items.zone)) {
                out.push_back(fmt::format("hold {}: unknown zone {}", id, h.items.zone));
            }
            t.zone_held[h.items.zone] += h.items.quantity;
            continue;
        }
        for (const auto& seat : h.items.seats) {
            auto it = d.seats.find(seat);
            if (it == d.seats.end() || parse_seat(it->second).status != 'h' ||
                parse_seat(it->second).payload != id) {
                out.push_back(
                    fmt::format("hold {}: lists seat {} which it does not hold", id, seat));
            }
        }
    }
    for (const auto& [id, score] : d.exp) {
        if (!d.holds.contains(id)) out.push_back(fmt::format("expiry entry {}: no such hold", id));
    }
}

void audit_seats(const dump_view& d, std::uint64_t version, tally& t,
                 std::vector<std::string>& out) {
    if (d.seats.size() != d.order.size()) {
        out.push_back(fmt::format("{} seats in the layout, {} in the seat hash", d.order.size(),
                                  d.seats.size()));
    }
    for (const auto& id : d.order) {
        if (!d.seats.contains(id)) out.push_back(fmt::format("seat {}: no status", id));
    }
    for (const auto& [id, value] : d.seats) {
        const auto v = parse_seat(value);
        if (v.version > version) {
            out.push_back(
                fmt::format("seat {}: version {} after the event's {}", id, v.version, version));
        }
        if (v.status == 's') {
            t.user_sold[std::string(v.payload)] += 1;
            t.sold += 1;
        } else if (v.status == 'h') {
            auto h = d.holds.find(v.payload);
            const bool listed =
                h != d.holds.end() &&
                std::ranges::count(hold_of_record(0, h->first, h->second).items.seats, id) == 1;
            if (!listed) out.push_back(fmt::format("seat {}: HELD but no live hold lists it", id));
        } else if (v.status != 'a') {
            out.push_back(fmt::format("seat {}: unknown status {}", id, value));
        }
    }
}

void audit_zones(const dump_view& d, tally& t, std::vector<std::string>& out) {
    for (const auto& [f, value] : d.users) {
        if (!f.starts_with("z:")) continue;
        const auto colon = f.find(':', 2);
        if (colon == std::string::npos) continue;
        const auto n = integer_of(value);
        t.zone_sold[f.substr(colon + 1)] += n;
        t.user_sold[f.substr(2, colon - 2)] += n;
        t.sold += n;
    }
    if (d.meta.at("kind") != "g") return;
    for (const auto& z : d.order) {
        const auto cap = field(d.zones, "c:" + z);
        const auto held = field(d.zones, "h:" + z);
        const auto sold = field(d.zones, "s:" + z);
        if (held != t.zone_held[z]) {
            out.push_back(
                fmt::format("zone {}: held {} but holds add up to {}", z, held, t.zone_held[z]));
        }
        if (sold != t.zone_sold[z]) {
            out.push_back(
                fmt::format("zone {}: sold {} but buyers add up to {}", z, sold, t.zone_sold[z]));
        }
        if (held < 0 || sold < 0 || held + sold > cap) {
            out.push_back(
                fmt::format("zone {}: held {} + sold {} outside capacity {}", z, held, sold, cap));
        }
    }
}

void audit_users(const dump_view& d, tally& t, std::vector<std::string>& out) {
    const auto max = field(d.meta, "max");
    std::set<std::string> users;
    for (const auto& [u, n] : t.user_held) users.insert(u);
    for (const auto& [u, n] : t.user_sold) users.insert(u);
    for (const auto& [f, value] : d.users) {
        if (f.starts_with("h:") || f.starts_with("s:")) users.insert(f.substr(2));
    }
    for (const auto& u : users) {
        const auto held = field(d.users, "h:" + u);
        const auto sold = field(d.users, "s:" + u);
        if (held != t.user_held[u]) {
            out.push_back(
                fmt::format("user {}: held {} but holds add up to {}", u, held, t.user_held[u]));
        }
        if (sold != t.user_sold[u]) {
            out.push_back(fmt::format("user {}: sold {} but seats and zones add up to {}", u, sold,
                                      t.user_sold[u]));
        }
        if (held + sold > max) {
            out.push_back(
                fmt::format("user {}: holds {} + owns {}, over the cap of {}", u, held, sold, max));
        }
    }
}

void audit_counts(const dump_view& d, const tally& t, std::vector<std::string>& out) {
    std::int64_t cap = 0;
    if (d.meta.at("kind") == "r") {
        cap = static_cast<std::int64_t>(d.order.size());
    } else {
        for (const auto& z : d.order) cap += field(d.zones, "c:" + z);
    }
    const auto held = field(d.meta, "held");
    const auto sold = field(d.meta, "sold");
    if (field(d.meta, "cap") != cap) {
        out.push_back(
            fmt::format("capacity {} but the layout adds up to {}", field(d.meta, "cap"), cap));
    }
    if (held != t.held) out.push_back(fmt::format("held {} but holds add up to {}", held, t.held));
    if (sold != t.sold) out.push_back(fmt::format("sold {} but sales add up to {}", sold, t.sold));
    if (held < 0 || sold < 0 || held + sold > cap) {
        out.push_back(fmt::format("held {} + sold {} outside capacity {}", held, sold, cap));
    }
}

}  // namespace

std::int64_t integer_of(std::string_view text) {
    std::int64_t n = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || ptr != end || text.empty()) {
        throw unavailable(fmt::format("inventory: '{}' in Redis is not an integer", text));
    }
    return n;
}

hold_info hold_of_record(event_id e, std::string hold, std::string_view record) {
    const auto f = split(record);
    if (f.size() < 5) throw unavailable(fmt::format("inventory: hold {}: bad record", hold));
    hold_info h;
    h.event = e;
    h.user = integer_of(f[0]);
    h.hold = std::move(hold);
    h.expires_at = time_point{std::chrono::milliseconds{integer_of(f[1])}};
    h.state = f[2] == "p" ? hold_state::pinned : hold_state::held;
    h.items.zone = std::string(f[3]);
    h.items.quantity = static_cast<std::int32_t>(integer_of(f[4]));
    for (std::size_t i = 5; i < f.size(); ++i) h.items.seats.emplace_back(f[i]);
    return h;
}

snapshot snapshot_of_reply(event_id e, const redis::reply& r) {
    if (!r.is_array() || r.elements.size() != 4) {
        throw unavailable("inventory snapshot_of: unexpected reply " + redis::to_debug_string(r));
    }
    snapshot s;
    s.event = e;
    s.version = static_cast<std::uint64_t>(integer_of(r.elements[0].text));
    const auto& names = r.elements[2].elements;
    const auto& values = r.elements[3].elements;
    if (r.elements[1].text == "r") {
        if (values.size() != names.size()) throw unavailable("inventory snapshot_of: seats differ");
        s.seats.reserve(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            const auto v = parse_seat(values[i].text);
            s.seats.push_back(seat_state{names[i].text, status_of(v.status), v.version});
        }
        return s;
    }
    if (values.size() != 4 * names.size()) throw unavailable("inventory snapshot_of: zones differ");
    for (std::size_t i = 0; i < names.size(); ++i) {
        zone_state z;
        z.name = names[i].text;
        z.capacity = static_cast<std::int32_t>(integer_of(values[4 * i].text));
        z.held = static_cast<std::int32_t>(integer_of(values[4 * i + 1].text));
        z.sold = static_cast<std::int32_t>(integer_of(values[4 * i + 2].text));
        z.version = static_cast<std::uint64_t>(integer_of(values[4 * i + 3].text));
        z.available = z.capacity - z.held - z.sold;
        s.zones.push_back(std::move(z));
    }
    return s;
}

std::vector<std::string> audit_dump(const redis::reply& dump) {
    if (!dump.is_array() || dump.elements.size() != 7) {
        throw unavailable("inventory audit: unexpected reply " + redis::to_debug_string(dump));
    }
    dump_view d;
    d.meta = fields_of(dump.elements[0]);
    if (d.meta.empty()) return {};
    for (const auto& name : dump.elements[1].elements) d.order.push_back(name.text);
    d.seats = fields_of(dump.elements[2]);
    d.zones = fields_of(dump.elements[3]);
    d.holds = fields_of(dump.elements[4]);
    d.exp = fields_of(dump.elements[5]);
    d.users = fields_of(dump.elements[6]);
    for (const char* k : {"ver", "kind", "max", "cap", "held", "sold"}) {
        if (!d.meta.contains(k)) return {fmt::format("meta has no {}", k)};
    }
    std::vector<std::string> out;
    tally t;
    audit_holds(d, t, out);
    if (d.meta.at("kind") == "r") {
        audit_seats(d, static_cast<std::uint64_t>(field(d.meta, "ver")), t, out);
    }
    audit_zones(d, t, out);
    audit_users(d, t, out);
    audit_counts(d, t, out);
    return out;
}

}  // namespace tkt::inventory::detail
