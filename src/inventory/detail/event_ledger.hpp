#pragma once
// event_ledger: one event's seat inventory as a plain single-threaded state machine (sans-io).
// It owns which seat (or how much of each general-admission zone) is AVAILABLE, HELD by which
// hold, or SOLD to which user; the holds by id; the per-user held and sold counts; and a min-heap
// of hold expiries. It takes no lock and reads no clock: memory_inventory serialises the calls
// under the event's mutex and passes time in.
//
// Hot-path layout: seats are dense indexes (the id → index map is built once at load), a hold
// keeps at most `seats_per_hold_max` seat indexes in a fixed array, holds live in a slab of
// reusable slots, and the hold-id index recycles its nodes, so a hold + release pair does not
// allocate once the ledger is warm. Released, committed and pinned holds leave their heap entry
// behind (lazy deletion); `expire` skips such stale entries and the heap is rebuilt when they
// outnumber the live ones, so it never grows past about twice the live holds.
#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inventory/inventory.hpp"

namespace tkt::inventory::detail {

// Heterogeneous lookup: a std::string_view finds a std::string key without a temporary.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <class Value>
using string_map = std::unordered_map<std::string, Value, string_hash, std::equal_to<>>;

// Whether audit() also reports users over max_per_user. Seats recorded by mark_sold (facts from
// the database) may legitimately put a user over a cap lowered later, so the ledger's own debug
// checks skip the cap while the public audit includes it.
enum class cap_check { skip, include };

class event_ledger {
public:
    explicit event_ledger(layout l);

    event_id event() const { return event_; }
    std::uint64_t version() const { return version_; }
    // A reloaded event continues from its predecessor's version, so a cached seat map of the
    // old layout is never mistaken for the new one.
    void continue_after(std::uint64_t previous_version);

    std::expected<void, hold_failure> hold(const hold_request& r);
    bool release(std::string_view hold_id);
    std::optional<hold_info> pin(std::string_view hold_id);
    bool commit(std::string_view hold_id);
    std::expected<void, hold_failure> mark_sold(user_id user, const hold_items& items);
    bool unsell(user_id user, const hold_items& items);
    // Ends every unpinned hold due at `now` and appends it to `out`.
    void expire(time_point now, std::vector<hold_info>& out);

    std::optional<hold_info> find(std::string_view hold_id) const;
    snapshot snapshot_of() const;
    counts counts_of() const;
    std::vector<std::string> audit(cap_check cap) const;

private:
    static constexpr std::uint32_t no_slot = UINT32_MAX;

    struct hold_rec {
        std::string id;
        user_id user = 0;
        time_point expires_at;
        std::uint32_t generation = 0;
        hold_state state = hold_state::held;
        bool live = false;
        std::int32_t seat_count = 0;
        std::array<std::int32_t, seats_per_hold_max> seats{};
        std::int32_t zone = -1;  // general admission when ≥ 0
        std::int32_t quantity = 0;

        std::int32_t count() const { return zone >= 0 ? quantity : seat_count; }
    };
    struct expiry {
        time_point expires_at;
        std::uint32_t slot = 0;
        std::uint32_t generation = 0;
    };
    struct zone_rec {
        std::string name;
        std::int32_t capacity = 0;
        std::int32_t held = 0;
        std::int32_t sold = 0;
        std::uint64_t changed_at = 0;  // the version whose change last moved its counts (or load)
    };
    struct user_rec {
        std::int32_t held = 0;
        std::int32_t sold = 0;                // seats and zone quantity together
        std::vector<std::int32_t> zone_sold;  // per zone index; empty until a zone sale
    };
    // Whether a hold's heap entry is still in the heap when the hold ends.
    enum class expiry_entry { in_heap, popped };
    // What happens to a hold's seats when it ends.
    enum class hold_end { release, sell };
    enum class limits { enforce, skip };
    struct audit_tally;

    std::optional<hold_failure> check_shape(const hold_items& items, limits lim) const;
    std::optional<hold_failure> resolve(const hold_items& items, std::int32_t& zone);
    std::optional<hold_failure> check_available(const hold_items& items, std::int32_t zone) const;
    bool has_duplicate_seat() const;
    std::uint32_t take_slot();
    void index_hold(std::string_view hold_id, std::uint32_t slot);
    void end_hold(string_map<std::uint32_t>::iterator it, hold_end end, expiry_entry entry);
    void sell_zone(user_rec& u, std::int32_t zone, std::int32_t quantity);
    hold_info info_of(const hold_rec& h) const;
    void push_expiry(const hold_rec& h, std::uint32_t slot);
    void compact_expiries();
    bool ledger_clean() const { return audit(cap_check::skip).empty(); }

    void audit_holds(audit_tally& t, std::vector<std::string>& out) const;
    void audit_seats(audit_tally& t, std::vector<std::string>& out) const;
    void audit_zones(const audit_tally& t, std::vector<std::string>& out) const;
    void audit_users(const audit_tally& t, cap_check cap, std::vector<std::string>& out) const;
    void audit_expiries(const audit_tally& t, std::vector<std::string>& out) const;

    event_id event_ = 0;
    std::int32_t max_per_user_ = 0;
    std::uint64_t version_ = 1;

    std::vector<std::string> seat_ids_;  // layout order; a seat's index is its position
    string_map<std::int32_t> seat_index_;
    std::vector<seat_status> status_;
    std::vector<std::uint64_t> changed_at_;  // the version whose change last set the status
    std::vector<std::uint32_t> holder_;      // the holding slot while HELD
    std::vector<user_id> sold_to_;           // the buyer while SOLD

    std::vector<zone_rec> zones_;
    string_map<std::int32_t> zone_index_;

    std::vector<hold_rec> holds_;  // slab; a slot is reused after its hold ends
    std::vector<std::uint32_t> free_slots_;
    string_map<std::uint32_t> hold_index_;
    std::vector<string_map<std::uint32_t>::node_type> spare_nodes_;

    std::vector<expiry> expiries_;  // min-heap on expires_at
    std::size_t stale_expiries_ = 0;

    std::unordered_map<user_id, user_rec> users_;
    std::vector<std::int32_t> scratch_;  // seat indexes of the request being checked
};

}  // namespace tkt::inventory::detail
