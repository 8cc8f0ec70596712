#pragma once
// What GET /events/{id}/seats/stream sends (DESIGN.md §7, issue 11), sans-io: the seats (or
// zones) that changed after a version, as of a snapshot.
//
// Every seat in an inventory snapshot carries the version that last changed it, so "the
// changes after v" is exactly the seats whose version is above v — whatever happened in
// between (held, released, held again) comes out as the seat's state now. A delta
// {from: F, version: V, changes} therefore brings a client holding a snapshot at any version v
// with F ≤ v < V to the state at V; deltas may overlap and be applied in order. A client whose
// version is below F missed something and re-reads the snapshot (or reconnects with
// Last-Event-ID = its version, and gets a catch-up delta).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace tkt::catalog {

struct seat_delta {
    std::uint64_t from = 0;
    std::uint64_t version = 0;
    std::vector<inventory::seat_state> seats;  // reserved seating: the seats that changed
    std::vector<inventory::zone_state> zones;  // general admission: the zones that changed
    std::size_t size() const { return seats.size() + zones.size(); }
};

// The changes after `since` as of `snap`; nullopt when `since` is ahead of the snapshot (a
// version from before a restart: the client must re-read the snapshot).
std::optional<seat_delta> delta_since(const inventory::snapshot& snap, std::uint64_t since);

// The `seats` event's data:
//   {"version":V,"from":F,"changes":[{"id":"A-1-1","status":"HELD"},…]}
// or for general admission
//   {"version":V,"from":F,"zones":[{"zone":"Floor","available":120},…]}
std::string seats_event_data(const seat_delta& d);

}  // namespace tkt::catalog
