#include "inventory/memory_inventory.hpp"

#include <algorithm>
#include <utility>

#include "common/assert.hpp"

namespace tkt::inventory {

using detail::event_ledger;

memory_inventory::memory_inventory(std::uint64_t version_base) : version_base_(version_base) {}
memory_inventory::~memory_inventory() = default;

void memory_inventory::load_now(layout l) {
    // The new ledger is built outside the lock; only the swap is exclusive, and the old one is
    // destroyed after the lock is gone.
    const event_id e = l.event;
    auto fresh = std::make_unique<event_slot>(std::move(l));
    std::unique_ptr<event_slot> old;
    {
        std::unique_lock map_lock(events_mutex_);
        auto& current = events_[e];
        const std::uint64_t after =
            std::max(current ? current->ledger.version() : 0, version_base_);
        if (after > 0) fresh->ledger.continue_after(after);
        old = std::exchange(current, std::move(fresh));
    }
}

namespace {

// Records one sold entry of a restoration seat by seat (a zone: as much as is left), so that one
// conflicting seat does not hide the others; returns how many seats or zone units it refused.
std::int32_t restore_sold(event_ledger& ledger, user_id user, const hold_items& items) {
    if (items.seats.empty()) {
        if (ledger.mark_sold(user, items)) return 0;
        const auto s = ledger.snapshot_of();
        const auto z = std::find_if(s.zones.begin(), s.zones.end(),
                                    [&](const zone_state& x) { return x.name == items.zone; });
        const std::int32_t fits = z == s.zones.end() ? 0 : std::min(z->available, items.quantity);
        if (fits > 0) {
            hold_items part = items;
            part.quantity = fits;
            const bool sold = ledger.mark_sold(user, part).has_value();
            TKT_ASSERT(sold);  // it fits: the zone has that many available
        }
        return std::max(items.quantity - fits, 0);
    }
    std::int32_t refused = 0;
    hold_items one;
    one.seats.resize(1);
    for (const auto& seat : items.seats) {
        one.seats[0] = seat;
        if (!ledger.mark_sold(user, one)) ++refused;
    }
    return refused;
}

}  // namespace

restore_outcome memory_inventory::restore_now(restoration r, restore_mode mode) {
    // The event is rebuilt in a ledger nobody else can see yet and swapped in under the map's
    // exclusive lock, so no call sees it half restored.
    restore_outcome out;
    const event_id e = r.l.event;
    auto fresh = std::make_unique<event_slot>(std::move(r.l));
    for (const auto& [user, items] : r.sold) {
        out.sold_refused += restore_sold(fresh->ledger, user, items);
    }
    for (auto& h : r.holds) {
        const hold_request request{e, h.user, h.hold, h.items, h.expires_at};
        if (!fresh->ledger.hold(request)) {
            out.holds_refused.push_back(std::move(h.hold));
            continue;
        }
        if (h.state == hold_state::pinned) fresh->ledger.pin(h.hold);
    }
    std::unique_ptr<event_slot> old;
    {
        std::unique_lock map_lock(events_mutex_);
        auto& current = events_[e];
        if (current && mode == restore_mode::only_if_absent) return restore_outcome{};
        const std::uint64_t previous = current ? current->ledger.version() : 0;
        fresh->ledger.continue_after(std::max({previous, version_base_, r.version_floor}));
        old = std::exchange(current, std::move(fresh));
    }
    out.restored = true;
    return out;
}

bool memory_inventory::has_event_now(event_id e) const {
    std::shared_lock map_lock(events_mutex_);
    return events_.contains(e);
}

std::expected<void, hold_failure> memory_inventory::hold_now(const hold_request& r) {
    return with_ledger(r.event,
                       std::expected<void, hold_failure>{
                           std::unexpected(hold_failure{hold_error::unknown_event, {}})},
                       [&](event_ledger& l) { return l.hold(r); });
}

bool memory_inventory::release_now(event_id e, std::string_view hold) {
    return with_ledger(e, false, [&](event_ledger& l) { return l.release(hold); });
}

std::optional<hold_info> memory_inventory::pin_now(event_id e, std::string_view hold) {
    return with_ledger(e, std::optional<hold_info>{}, [&](event_ledger& l) { return l.pin(hold); });
}

bool memory_inventory::commit_now(event_id e, std::string_view hold) {
    return with_ledger(e, false, [&](event_ledger& l) { return l.commit(hold); });
}

std::expected<void, hold_failure> memory_inventory::mark_sold_now(event_id e, user_id user,
                                                                  const hold_items& items) {
    return with_ledger(e,
                       std::expected<void, hold_failure>{
                           std::unexpected(hold_failure{hold_error::unknown_event, {}})},
                       [&](event_ledger& l) { return l.mark_sold(user, items); });
}

bool memory_inventory::unsell_now(event_id e, user_id user, const hold_items& items) {
    return with_ledger(e, false, [&](event_ledger& l) { return l.unsell(user, items); });
}

std::vector<hold_info> memory_inventory::expire_now(time_point now) {
    // One event lock at a time, so the sweeper never stalls more than one event.
    std::vector<hold_info> out;
    std::shared_lock map_lock(events_mutex_);
    for (auto& [e, slot] : events_) {
        std::lock_guard lock(slot->mutex);
        slot->ledger.expire(now, out);
    }
    return out;
}

std::optional<hold_info> memory_inventory::find_now(event_id e, std::string_view hold) const {
    return with_ledger(e, std::optional<hold_info>{},
                       [&](event_ledger& l) { return l.find(hold); });
}

std::optional<snapshot> memory_inventory::snapshot_now(event_id e) const {
    return with_ledger(e, std::optional<snapshot>{},
                       [](event_ledger& l) { return std::optional<snapshot>{l.snapshot_of()}; });
}

std::optional<counts> memory_inventory::counts_now(event_id e) const {
    return with_ledger(e, std::optional<counts>{},
                       [](event_ledger& l) { return std::optional<counts>{l.counts_of()}; });
}

std::uint64_t memory_inventory::version_now(event_id e) const {
    return with_ledger(e, std::uint64_t{0}, [](event_ledger& l) { return l.version(); });
}

std::vector<std::string> memory_inventory::audit_now(event_id e) const {
    return with_ledger(e, std::vector<std::string>{},
                       [](event_ledger& l) { return l.audit(detail::cap_check::include); });
}

// --- the port: each call completes at once, without suspending ------------------------------

boost::asio::awaitable<void> memory_inventory::load(layout l) {
    load_now(std::move(l));
    co_return;
}

boost::asio::awaitable<restore_outcome> memory_inventory::restore(restoration r,
                                                                  restore_mode mode) {
    co_return restore_now(std::move(r), mode);
}

boost::asio::awaitable<bool> memory_inventory::has_event(event_id e) {
    co_return has_event_now(e);
}

boost::asio::awaitable<std::expected<hold_info, hold_failure>> memory_inventory::hold(
    hold_request r) {
    auto held = hold_now(r);
    if (!held) co_return std::unexpected(std::move(held.error()));
    co_return hold_info{r.event,      r.user,          std::move(r.hold), std::move(r.items),
                        r.expires_at, hold_state::held};
}

boost::asio::awaitable<bool> memory_inventory::release(event_id e, std::string hold) {
    co_return release_now(e, hold);
}

boost::asio::awaitable<std::optional<hold_info>> memory_inventory::pin(event_id e,
                                                                       std::string hold) {
    co_return pin_now(e, hold);
}

boost::asio::awaitable<bool> memory_inventory::commit(event_id e, std::string hold) {
    co_return commit_now(e, hold);
}

boost::asio::awaitable<std::expected<void, hold_failure>> memory_inventory::mark_sold(
    event_id e, user_id user, hold_items items) {
    co_return mark_sold_now(e, user, items);
}

boost::asio::awaitable<bool> memory_inventory::unsell(event_id e, user_id user, hold_items items) {
    co_return unsell_now(e, user, items);
}

boost::asio::awaitable<std::vector<hold_info>> memory_inventory::expire(time_point now) {
    co_return expire_now(now);
}

boost::asio::awaitable<std::optional<hold_info>> memory_inventory::find(event_id e,
                                                                        std::string hold) {
    co_return find_now(e, hold);
}

boost::asio::awaitable<std::optional<snapshot>> memory_inventory::snapshot_of(event_id e) {
    co_return snapshot_now(e);
}

boost::asio::awaitable<std::optional<counts>> memory_inventory::counts_of(event_id e) {
    co_return counts_now(e);
}

boost::asio::awaitable<std::uint64_t> memory_inventory::version_of(event_id e) {
    co_return version_now(e);
}

boost::asio::awaitable<std::vector<std::string>> memory_inventory::audit(event_id e) {
    co_return audit_now(e);
}

}  // namespace tkt::inventory
