#pragma once
// memory_inventory: the embedded `inventory` engine (DESIGN.md §4), for one process.
//
// Each event's state is a detail::event_ledger (plain, single-threaded) under the event's own
// std::mutex; the map event → ledger sits under a shared_mutex that only load() takes
// exclusively. A call holds the map lock shared and one event lock for a few hundred
// nanoseconds, never across a suspension: the awaitable methods of the port call the
// synchronous core (`*_now`) and co_return, so they complete without suspending.
//
// The synchronous core is public for the micro-benchmark, the race test and callers that are
// not coroutines. It is safe from any thread. Time is passed in, never read.
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "inventory/detail/event_ledger.hpp"
#include "inventory/inventory.hpp"

namespace tkt::inventory {

class memory_inventory final : public inventory {
public:
    // `version_base`: every event's versions start above it. The server passes the time of its
    // start in microseconds, so versions keep growing across restarts and a version a client
    // kept from before one is recognisably old (its next delta carries the whole map).
    explicit memory_inventory(std::uint64_t version_base = 0);
    ~memory_inventory() override;
    memory_inventory(const memory_inventory&) = delete;
    memory_inventory& operator=(const memory_inventory&) = delete;

    // --- synchronous core ---
    void load_now(layout l);
    restore_outcome restore_now(restoration r, restore_mode mode);
    bool has_event_now(event_id e) const;
    // On success the hold is exactly the request, in state `held` (the port's hold() returns
    // it as a hold_info); nothing is copied on this path.
    std::expected<void, hold_failure> hold_now(const hold_request& r);
    bool release_now(event_id e, std::string_view hold);
    std::optional<hold_info> pin_now(event_id e, std::string_view hold);
    bool commit_now(event_id e, std::string_view hold);
    // Unlike hold(), mark_sold records seats past the per-hold and per-user limits (they are
    // facts from the database); audit() then reports the user over the cap.
    std::expected<void, hold_failure> mark_sold_now(event_id e, user_id user,
                                                    const hold_items& items);
    bool unsell_now(event_id e, user_id user, const hold_items& items);
    std::vector<hold_info> expire_now(time_point now);
    std::optional<hold_info> find_now(event_id e, std::string_view hold) const;
    std::optional<snapshot> snapshot_now(event_id e) const;
    std::optional<counts> counts_now(event_id e) const;
    std::uint64_t version_now(event_id e) const;
    // Empty for an unknown event: nothing there can be broken.
    std::vector<std::string> audit_now(event_id e) const;

    // --- the port ---
    boost::asio::awaitable<void> load(layout l) override;
    boost::asio::awaitable<restore_outcome> restore(restoration r, restore_mode mode) override;
    boost::asio::awaitable<bool> has_event(event_id e) override;
    boost::asio::awaitable<std::expected<hold_info, hold_failure>> hold(hold_request r) override;
    boost::asio::awaitable<bool> release(event_id e, std::string hold) override;
    boost::asio::awaitable<std::optional<hold_info>> pin(event_id e, std::string hold) override;
    boost::asio::awaitable<bool> commit(event_id e, std::string hold) override;
    boost::asio::awaitable<std::expected<void, hold_failure>> mark_sold(event_id e, user_id user,
                                                                        hold_items items) override;
    boost::asio::awaitable<bool> unsell(event_id e, user_id user, hold_items items) override;
    boost::asio::awaitable<std::vector<hold_info>> expire(time_point now) override;
    boost::asio::awaitable<std::optional<hold_info>> find(event_id e, std::string hold) override;
    boost::asio::awaitable<std::optional<snapshot>> snapshot_of(event_id e) override;
    boost::asio::awaitable<std::optional<counts>> counts_of(event_id e) override;
    boost::asio::awaitable<std::uint64_t> version_of(event_id e) override;
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e) override;

private:
    struct event_slot {
        explicit event_slot(layout l) : ledger(std::move(l)) {}
        std::mutex mutex;
        detail::event_ledger ledger;
    };

    // Runs `f(ledger)` under the event's lock, or returns `fallback` when the event is unknown.
    template <class R, class F>
    R with_ledger(event_id e, R fallback, F&& f) const {
        std::shared_lock map_lock(events_mutex_);
        auto it = events_.find(e);
        if (it == events_.end()) return fallback;
        std::lock_guard lock(it->second->mutex);
        return std::forward<F>(f)(it->second->ledger);
    }

    mutable std::shared_mutex events_mutex_;
    std::uint64_t version_base_ = 0;
    std::unordered_map<event_id, std::unique_ptr<event_slot>> events_;
};

}  // namespace tkt::inventory
