#include "catalog/seat_delta.hpp"

#include "catalog/seat_map.hpp"
#include "common/json_text.hpp"

namespace tkt::catalog {

std::optional<seat_delta> delta_since(const inventory::snapshot& snap, std::uint64_t since) {
    if (since > snap.version) return std::nullopt;
    seat_delta d{.from = since, .version = snap.version, .seats = {}, .zones = {}};
    for (const auto& s : snap.seats) {
        if (s.version > since) d.seats.push_back(s);
    }
    for (const auto& z : snap.zones) {
        if (z.version > since) d.zones.push_back(z);
    }
    return d;
}

std::string seats_event_data(const seat_delta& d) {
    std::string out;
    out.reserve(48 + d.seats.size() * 36 + d.zones.size() * 40);
    out += "{\"version\":";
    append_json_int(out, static_cast<std::int64_t>(d.version));
    out += ",\"from\":";
    append_json_int(out, static_cast<std::int64_t>(d.from));
    if (!d.zones.empty()) {
        out += ",\"zones\":[";
        for (std::size_t i = 0; i < d.zones.size(); ++i) {
            if (i > 0) out += ',';
            out += "{\"zone\":";
            append_json_string(out, d.zones[i].name);
            out += ",\"available\":";
            append_json_int(out, d.zones[i].available);
            out += '}';
        }
        out += ']';
    } else {
        out += ",\"changes\":[";
        for (std::size_t i = 0; i < d.seats.size(); ++i) {
            if (i > 0) out += ',';
            out += "{\"id\":";
            append_json_string(out, d.seats[i].id);
            out += ",\"status\":\"";
            out += seat_status_name(d.seats[i].status);
            out += "\"}";
        }
        out += ']';
    }
    out += '}';
    return out;
}

}  // namespace tkt::catalog
