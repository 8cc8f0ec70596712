#include "inventory/detail/event_ledger.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "common/assert.hpp"

namespace tkt::inventory::detail {
namespace {

// Spare hold-index nodes kept for reuse; enough for bursts, bounded so a spike of holds does not
// pin memory for ever.
constexpr std::size_t spare_nodes_max = 1024;
// The expiry heap is rebuilt once stale entries pass this many and half of the heap.
constexpr std::size_t stale_expiries_min = 64;

hold_failure failure(hold_error code, std::vector<std::string> seats = {}) {
    return hold_failure{code, std::move(seats)};
}

// Orders the expiry heap so that its front is the earliest expires_at.
struct later {
    template <class Expiry>
    bool operator()(const Expiry& a, const Expiry& b) const {
        return a.expires_at > b.expires_at;
    }
};

}  // namespace

event_ledger::event_ledger(layout l)
    : event_(l.event), max_per_user_(l.max_per_user), seat_ids_(std::move(l.seats)) {
    const auto seat_count = seat_ids_.size();
    seat_index_.reserve(seat_count);
    for (std::size_t i = 0; i < seat_count; ++i) {
        const bool fresh = seat_index_.emplace(seat_ids_[i], static_cast<std::int32_t>(i)).second;
        TKT_ASSERT(fresh);  // a layout lists each seat once
    }
    status_.assign(seat_count, seat_status::available);
    changed_at_.assign(seat_count, version_);
    holder_.assign(seat_count, no_slot);
    sold_to_.assign(seat_count, 0);
    zones_.reserve(l.zones.size());
    for (auto& z : l.zones) {
        TKT_ASSERT(z.capacity >= 0);
        const auto index = static_cast<std::int32_t>(zones_.size());
        const bool fresh = zone_index_.emplace(z.name, index).second;
        TKT_ASSERT(fresh);  // a layout lists each zone once
        zones_.push_back(zone_rec{std::move(z.name), z.capacity, 0, 0, version_});
    }
    scratch_.reserve(seats_per_hold_max);
}

void event_ledger::continue_after(std::uint64_t previous_version) {
    version_ = std::max(version_, previous_version + 1);
    // A fresh layout: every seat is new as of this version, so a client holding an older map
    // (of the layout before, or of a process before) gets all of it in its next delta.
    std::fill(changed_at_.begin(), changed_at_.end(), version_);
    for (auto& z : zones_) z.changed_at = version_;
}

std::expected<void, hold_failure> event_ledger::hold(const hold_request& r) {
    TKT_DEBUG_ASSERT(ledger_clean());
    if (r.hold.empty()) return std::unexpected(failure(hold_error::invalid));
    if (auto f = check_shape(r.items, limits::enforce)) return std::unexpected(std::move(*f));
    if (hold_index_.contains(std::string_view{r.hold})) {
        return std::unexpected(failure(hold_error::duplicate_hold));
    }
    std::int32_t zone = -1;
    if (auto f = resolve(r.items, zone)) return std::unexpected(std::move(*f));
    const std::int32_t count = r.items.count();
    auto user = users_.find(r.user);  // one lookup serves the check and the update below
    const std::int32_t owned = user == users_.end() ? 0 : user->second.held + user->second.sold;
    if (owned + count > max_per_user_) {
        return std::unexpected(failure(hold_error::per_user_limit));
    }
    if (auto f = check_available(r.items, zone)) return std::unexpected(std::move(*f));

    // Every check passed: from here on nothing can fail, so the hold is all or nothing.
    const std::uint32_t slot = take_slot();
    hold_rec& h = holds_[slot];
    h.id.assign(r.hold);
    h.user = r.user;
    h.expires_at = r.expires_at;
    h.state = hold_state::held;
    h.live = true;
    h.zone = zone;
    h.quantity = zone >= 0 ? count : 0;
    h.seat_count = zone >= 0 ? 0 : count;
    if (zone >= 0) {
        zones_[zone].held += count;
        zones_[zone].changed_at = version_ + 1;
    } else {
        for (std::int32_t i = 0; i < count; ++i) {
            const std::int32_t seat = scratch_[i];
            h.seats[i] = seat;
            status_[seat] = seat_status::held;
            changed_at_[seat] = version_ + 1;
            holder_[seat] = slot;
        }
    }
    if (user == users_.end()) user = users_.try_emplace(r.user).first;
    user->second.held += count;
    index_hold(r.hold, slot);
    push_expiry(h, slot);
    ++version_;
    TKT_ASSERT(user->second.held + user->second.sold <= max_per_user_);
    TKT_DEBUG_ASSERT(ledger_clean());
    return {};
}

bool event_ledger::release(std::string_view hold_id) {
    auto it = hold_index_.find(hold_id);
    if (it == hold_index_.end()) return false;
    TKT_DEBUG_ASSERT(ledger_clean());
    end_hold(it, hold_end::release, expiry_entry::in_heap);
    TKT_DEBUG_ASSERT(ledger_clean());
    return true;
}

bool event_ledger::commit(std::string_view hold_id) {
    auto it = hold_index_.find(hold_id);
    if (it == hold_index_.end()) return false;
    TKT_DEBUG_ASSERT(ledger_clean());
    end_hold(it, hold_end::sell, expiry_entry::in_heap);
    TKT_DEBUG_ASSERT(ledger_clean());
    return true;
}

std::optional<hold_info> event_ledger::pin(std::string_view hold_id) {
    auto it = hold_index_.find(hold_id);
    if (it == hold_index_.end()) return std::nullopt;
    TKT_DEBUG_ASSERT(ledger_clean());
    hold_rec& h = holds_[it->second];
    if (h.state == hold_state::held) {
        // Its heap entry stays behind; expire() skips it because the hold is pinned now.
        h.state = hold_state::pinned;
        ++stale_expiries_;
        ++version_;
        compact_expiries();
    }
    TKT_DEBUG_ASSERT(ledger_clean());
    return info_of(h);
}

std::expected<void, hold_failure> event_ledger::mark_sold(user_id user, const hold_items& items) {
    TKT_DEBUG_ASSERT(ledger_clean());
    // Facts from the database are recorded even past the per-hold and per-user limits: refusing
    // them would show a sold seat as available. audit() reports a user over the cap instead.
    if (auto f = check_shape(items, limits::skip)) return std::unexpected(std::move(*f));
    std::int32_t zone = -1;
    if (auto f = resolve(items, zone)) return std::unexpected(std::move(*f));
    if (auto f = check_available(items, zone)) return std::unexpected(std::move(*f));

    user_rec& u = users_[user];
    if (zone >= 0) {
        sell_zone(u, zone, items.quantity);
    } else {
        for (const std::int32_t seat : scratch_) {
            status_[seat] = seat_status::sold;
            changed_at_[seat] = version_ + 1;
            sold_to_[seat] = user;
        }
    }
    u.sold += items.count();
    ++version_;
    TKT_DEBUG_ASSERT(ledger_clean());
    return {};
}

bool event_ledger::unsell(user_id user, const hold_items& items) {
    if (check_shape(items, limits::skip)) return false;
    std::int32_t zone = -1;
    if (resolve(items, zone)) return false;
    auto uit = users_.find(user);
    if (uit == users_.end()) return false;
    user_rec& u = uit->second;
    if (zone >= 0) {
        const auto z = static_cast<std::size_t>(zone);
        if (u.zone_sold.size() <= z || u.zone_sold[z] < items.quantity) return false;
    } else {
        for (const std::int32_t seat : scratch_) {
            if (status_[seat] != seat_status::sold || sold_to_[seat] != user) return false;
        }
    }

    TKT_DEBUG_ASSERT(ledger_clean());
    if (zone >= 0) {
        zones_[zone].sold -= items.quantity;
        zones_[zone].changed_at = version_ + 1;
        u.zone_sold[zone] -= items.quantity;
    } else {
        for (const std::int32_t seat : scratch_) {
            status_[seat] = seat_status::available;
            changed_at_[seat] = version_ + 1;
            sold_to_[seat] = 0;
        }
    }
    u.sold -= items.count();
    ++version_;
    TKT_DEBUG_ASSERT(ledger_clean());
    return true;
}

void event_ledger::expire(time_point now, std::vector<hold_info>& out) {
    if (expiries_.empty() || expiries_.front().expires_at > now) return;
    TKT_DEBUG_ASSERT(ledger_clean());
    while (!expiries_.empty() && expiries_.front().expires_at <= now) {
        std::pop_heap(expiries_.begin(), expiries_.end(), later{});
        const expiry e = expiries_.back();
        expiries_.pop_back();
        const hold_rec& h = holds_[e.slot];
        if (!h.live || h.generation != e.generation || h.state != hold_state::held) {
            --stale_expiries_;  // the hold ended or was pinned after this entry was pushed
            continue;
        }
        out.push_back(info_of(h));
        auto it = hold_index_.find(std::string_view{h.id});
        TKT_ASSERT(it != hold_index_.end());
        end_hold(it, hold_end::release, expiry_entry::popped);
    }
    TKT_DEBUG_ASSERT(ledger_clean());
}

std::optional<hold_info> event_ledger::find(std::string_view hold_id) const {
    auto it = hold_index_.find(hold_id);
    if (it == hold_index_.end()) return std::nullopt;
    return info_of(holds_[it->second]);
}

snapshot event_ledger::snapshot_of() const {
    snapshot s{event_, version_, {}, {}};
    s.seats.reserve(seat_ids_.size());
    for (std::size_t i = 0; i < seat_ids_.size(); ++i) {
        s.seats.push_back(seat_state{seat_ids_[i], status_[i], changed_at_[i]});
    }
    s.zones.reserve(zones_.size());
    for (const auto& z : zones_) {
        s.zones.push_back(zone_state{z.name, z.capacity, z.capacity - z.held - z.sold, z.held,
                                     z.sold, z.changed_at});
    }
    return s;
}

counts event_ledger::counts_of() const {
    counts c;
    c.capacity = static_cast<std::int64_t>(seat_ids_.size());
    for (const seat_status s : status_) {
        if (s == seat_status::available) ++c.available;
        if (s == seat_status::held) ++c.held;
        if (s == seat_status::sold) ++c.sold;
    }
    for (const auto& z : zones_) {
        c.capacity += z.capacity;
        c.available += z.capacity - z.held - z.sold;
        c.held += z.held;
        c.sold += z.sold;
    }
    return c;
}

// --- checks ---------------------------------------------------------------------------------

std::optional<hold_failure> event_ledger::check_shape(const hold_items& items, limits lim) const {
    const bool by_seat = !items.seats.empty();
    if (by_seat && (!items.zone.empty() || items.quantity != 0))
        return failure(hold_error::invalid);
    if (!by_seat && (items.zone.empty() || items.quantity <= 0))
        return failure(hold_error::invalid);
    if (lim == limits::enforce && items.count() > seats_per_hold_max) {
        return failure(hold_error::per_hold_limit);
    }
    return std::nullopt;
}

// Looks the seats (into scratch_) or the zone up; unknown ids and a seat named twice fail.
std::optional<hold_failure> event_ledger::resolve(const hold_items& items, std::int32_t& zone) {
    if (items.seats.empty()) {
        auto it = zone_index_.find(std::string_view{items.zone});
        if (it == zone_index_.end()) return failure(hold_error::unknown_seat, {items.zone});
        zone = it->second;
        return std::nullopt;
    }
    scratch_.clear();
    std::vector<std::string> unknown;
    for (const auto& id : items.seats) {
        auto it = seat_index_.find(std::string_view{id});
        if (it == seat_index_.end()) {
            unknown.push_back(id);
        } else {
            scratch_.push_back(it->second);
        }
    }
    if (!unknown.empty()) return failure(hold_error::unknown_seat, std::move(unknown));
    if (has_duplicate_seat()) return failure(hold_error::invalid);
    return std::nullopt;
}

bool event_ledger::has_duplicate_seat() const {
    if (scratch_.size() <= seats_per_hold_max) {
        for (std::size_t i = 0; i < scratch_.size(); ++i) {
            for (std::size_t j = i + 1; j < scratch_.size(); ++j) {
                if (scratch_[i] == scratch_[j]) return true;
            }
        }
        return false;
    }
    // Only mark_sold and unsell get here (the hold limit stops larger holds), off the hot path.
    std::vector<std::int32_t> sorted = scratch_;
    std::sort(sorted.begin(), sorted.end());
    return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}

std::optional<hold_failure> event_ledger::check_available(const hold_items& items,
                                                          std::int32_t zone) const {
    if (zone >= 0) {
        const zone_rec& z = zones_[zone];
        if (z.capacity - z.held - z.sold < items.quantity) return failure(hold_error::sold_out);
        return std::nullopt;
    }
    std::vector<std::string> taken;
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
        if (status_[scratch_[i]] != seat_status::available) taken.push_back(items.seats[i]);
    }
    if (!taken.empty()) return failure(hold_error::seat_unavailable, std::move(taken));
    return std::nullopt;
}

// --- bookkeeping ----------------------------------------------------------------------------

std::uint32_t event_ledger::take_slot() {
    if (!free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    TKT_ASSERT(holds_.size() < no_slot);
    holds_.emplace_back();
    return static_cast<std::uint32_t>(holds_.size() - 1);
}

void event_ledger::index_hold(std::string_view hold_id, std::uint32_t slot) {
    if (spare_nodes_.empty()) {
        hold_index_.emplace(std::string{hold_id}, slot);
        return;
    }
    // A recycled node keeps its key's buffer, so a short or repeated-length id costs nothing.
    auto node = std::move(spare_nodes_.back());
    spare_nodes_.pop_back();
    node.key().assign(hold_id);
    node.mapped() = slot;
    hold_index_.insert(std::move(node));
}

void event_ledger::end_hold(string_map<std::uint32_t>::iterator it, hold_end end,
                            expiry_entry entry) {
    const std::uint32_t slot = it->second;
    hold_rec& h = holds_[slot];
    auto uit = users_.find(h.user);
    TKT_ASSERT(uit != users_.end());
    user_rec& u = uit->second;
    const std::int32_t count = h.count();
    if (h.zone >= 0) {
        zones_[h.zone].held -= h.quantity;
        zones_[h.zone].changed_at = version_ + 1;
        if (end == hold_end::sell) sell_zone(u, h.zone, h.quantity);
    } else {
        const auto status = end == hold_end::sell ? seat_status::sold : seat_status::available;
        for (std::int32_t i = 0; i < h.seat_count; ++i) {
            const std::int32_t seat = h.seats[i];
            status_[seat] = status;
            changed_at_[seat] = version_ + 1;
            holder_[seat] = no_slot;
            sold_to_[seat] = end == hold_end::sell ? h.user : 0;
        }
    }
    u.held -= count;
    if (end == hold_end::sell) u.sold += count;
    if (h.state == hold_state::held && entry == expiry_entry::in_heap) ++stale_expiries_;
    h.live = false;
    ++h.generation;
    free_slots_.push_back(slot);
    auto node = hold_index_.extract(it);
    if (spare_nodes_.size() < spare_nodes_max) spare_nodes_.push_back(std::move(node));
    ++version_;
    compact_expiries();
}

void event_ledger::sell_zone(user_rec& u, std::int32_t zone, std::int32_t quantity) {
    if (u.zone_sold.empty()) u.zone_sold.assign(zones_.size(), 0);
    u.zone_sold[zone] += quantity;
    zones_[zone].sold += quantity;
    zones_[zone].changed_at = version_ + 1;
}

hold_info event_ledger::info_of(const hold_rec& h) const {
    hold_info info{event_, h.user, h.id, {}, h.expires_at, h.state};
    if (h.zone >= 0) {
        info.items.zone = zones_[h.zone].name;
        info.items.quantity = h.quantity;
    } else {
        info.items.seats.reserve(h.seat_count);
        for (std::int32_t i = 0; i < h.seat_count; ++i)
            info.items.seats.push_back(seat_ids_[h.seats[i]]);
    }
    return info;
}

void event_ledger::push_expiry(const hold_rec& h, std::uint32_t slot) {
    expiries_.push_back(expiry{h.expires_at, slot, h.generation});
    std::push_heap(expiries_.begin(), expiries_.end(), later{});
}

// Drops the stale entries once they pass half of the heap: O(live holds), and it takes at least
// as many ended holds to get here again, so the cost per hold stays constant.
void event_ledger::compact_expiries() {
    if (stale_expiries_ < stale_expiries_min || stale_expiries_ * 2 < expiries_.size()) return;
    expiries_.clear();
    for (std::size_t slot = 0; slot < holds_.size(); ++slot) {
        const hold_rec& h = holds_[slot];
        if (h.live && h.state == hold_state::held) {
            expiries_.push_back(
                expiry{h.expires_at, static_cast<std::uint32_t>(slot), h.generation});
        }
    }
    std::make_heap(expiries_.begin(), expiries_.end(), later{});
    stale_expiries_ = 0;
}

// --- audit: everything recomputed from scratch and compared with the running counters ---------

struct event_ledger::audit_tally {
    std::size_t live = 0;
    std::size_t live_held = 0;  // live and unpinned: each must have a heap entry
    std::vector<std::int32_t> zone_held;
    std::unordered_map<user_id, std::int32_t> user_held;
    std::unordered_map<user_id, std::int32_t> user_sold_seats;
};

std::vector<std::string> event_ledger::audit(cap_check cap) const {
    std::vector<std::string> out;
    audit_tally t;
    t.zone_held.assign(zones_.size(), 0);
    audit_holds(t, out);
    audit_seats(t, out);
    audit_zones(t, out);
    audit_users(t, cap, out);
    audit_expiries(t, out);
    return out;
}

void event_ledger::audit_holds(audit_tally& t, std::vector<std::string>& out) const {
    for (std::size_t slot = 0; slot < holds_.size(); ++slot) {
        const hold_rec& h = holds_[slot];
        if (!h.live) continue;
        ++t.live;
        if (h.state == hold_state::held) ++t.live_held;
        const std::int32_t count = h.count();
        if (count < 1 || count > seats_per_hold_max) {
            out.push_back(
                fmt::format("hold {}: {} items, outside 1..{}", h.id, count, seats_per_hold_max));
        }
        t.user_held[h.user] += count;
        auto it = hold_index_.find(std::string_view{h.id});
        if (it == hold_index_.end() || it->second != slot) {
            out.push_back(fmt::format("hold {}: missing from the hold index", h.id));
        }
        if (h.zone >= 0) {
            if (static_cast<std::size_t>(h.zone) >= zones_.size()) {
                out.push_back(fmt::format("hold {}: zone {} out of range", h.id, h.zone));
            } else {
                t.zone_held[h.zone] += h.quantity;
            }
            continue;
        }
        for (std::int32_t i = 0; i < h.seat_count; ++i) {
            const std::int32_t seat = h.seats[i];
            if (seat < 0 || static_cast<std::size_t>(seat) >= status_.size()) {
                out.push_back(fmt::format("hold {}: seat index {} out of range", h.id, seat));
            } else if (status_[seat] != seat_status::held || holder_[seat] != slot) {
                out.push_back(fmt::format("hold {}: lists seat {} which it does not hold", h.id,
                                          seat_ids_[seat]));
            }
        }
    }
    if (hold_index_.size() != t.live) {
        out.push_back(
            fmt::format("hold index has {} entries for {} live holds", hold_index_.size(), t.live));
    }
}

void event_ledger::audit_seats(audit_tally& t, std::vector<std::string>& out) const {
    for (std::size_t seat = 0; seat < status_.size(); ++seat) {
        if (status_[seat] == seat_status::sold) ++t.user_sold_seats[sold_to_[seat]];
        if (status_[seat] != seat_status::held) continue;
        const std::uint32_t slot = holder_[seat];
        bool listed = false;
        if (slot < holds_.size() && holds_[slot].live) {
            const hold_rec& h = holds_[slot];
            listed = std::find(h.seats.begin(), h.seats.begin() + h.seat_count,
                               static_cast<std::int32_t>(seat)) != h.seats.begin() + h.seat_count;
        }
        if (!listed)
            out.push_back(fmt::format("seat {}: HELD but no live hold lists it", seat_ids_[seat]));
    }
}

void event_ledger::audit_zones(const audit_tally& t, std::vector<std::string>& out) const {
    for (std::size_t z = 0; z < zones_.size(); ++z) {
        const zone_rec& zone = zones_[z];
        std::int32_t sold = 0;
        for (const auto& [user, u] : users_) {
            if (z < u.zone_sold.size()) sold += u.zone_sold[z];
        }
        if (zone.held != t.zone_held[z]) {
            out.push_back(fmt::format("zone {}: held {} but holds add up to {}", zone.name,
                                      zone.held, t.zone_held[z]));
        }
        if (zone.sold != sold) {
            out.push_back(fmt::format("zone {}: sold {} but buyers add up to {}", zone.name,
                                      zone.sold, sold));
        }
        if (zone.held < 0 || zone.sold < 0 || zone.held + zone.sold > zone.capacity) {
            out.push_back(fmt::format("zone {}: held {} + sold {} outside capacity {}", zone.name,
                                      zone.held, zone.sold, zone.capacity));
        }
    }
}

void event_ledger::audit_users(const audit_tally& t, cap_check cap,
                               std::vector<std::string>& out) const {
    const auto tally_of = [](const std::unordered_map<user_id, std::int32_t>& m, user_id u) {
        auto it = m.find(u);
        return it == m.end() ? 0 : it->second;
    };
    for (const auto& [user, u] : users_) {
        std::int32_t sold = tally_of(t.user_sold_seats, user);
        for (const std::int32_t q : u.zone_sold) sold += q;
        if (u.held != tally_of(t.user_held, user)) {
            out.push_back(fmt::format("user {}: held {} but holds add up to {}", user, u.held,
                                      tally_of(t.user_held, user)));
        }
        if (u.sold != sold) {
            out.push_back(fmt::format("user {}: sold {} but seats and zones add up to {}", user,
                                      u.sold, sold));
        }
        if (cap == cap_check::include && u.held + u.sold > max_per_user_) {
            out.push_back(fmt::format("user {}: holds {} + owns {}, over the cap of {}", user,
                                      u.held, u.sold, max_per_user_));
        }
    }
    for (const auto* m : {&t.user_held, &t.user_sold_seats}) {
        for (const auto& [user, n] : *m) {
            if (n != 0 && !users_.contains(user)) {
                out.push_back(fmt::format("user {}: has {} items but no per-user record", user, n));
            }
        }
    }
}

void event_ledger::audit_expiries(const audit_tally& t, std::vector<std::string>& out) const {
    if (expiries_.size() != t.live_held + stale_expiries_) {
        out.push_back(fmt::format("expiry heap has {} entries for {} unpinned holds + {} stale",
                                  expiries_.size(), t.live_held, stale_expiries_));
    }
    if (!std::is_heap(expiries_.begin(), expiries_.end(), later{})) {
        out.push_back("expiry heap is not a heap");
    }
    std::unordered_set<std::uint64_t> entries;
    for (const expiry& e : expiries_) {
        entries.insert(std::uint64_t{e.slot} << 32 | e.generation);
    }
    for (std::size_t slot = 0; slot < holds_.size(); ++slot) {
        const hold_rec& h = holds_[slot];
        if (!h.live || h.state != hold_state::held) continue;
        if (!entries.contains(std::uint64_t{slot} << 32 | h.generation)) {
            out.push_back(fmt::format("hold {}: unpinned but has no expiry entry", h.id));
        }
    }
}

}  // namespace tkt::inventory::detail
