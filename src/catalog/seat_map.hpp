#pragma once
// The seat map cache behind GET /events/{id}/seats (DESIGN.md §1 "Real-time seat status").
// An on-sale spike reads the same map thousands of times a second while it changes far less
// often, so each event keeps its last serialized JSON body keyed by the inventory's version:
// a read asks the inventory for the version (cheap), and when the cached body has it, hands
// out the same immutable string; only a new version takes a snapshot and serializes once.
//
// One builder per event at a time. While one request rebuilds, others for the same event serve
// the previous body: it is at most one change behind, carries its own version and ETag (so the
// client is never told a stale map is current), and the seat stream brings the client up to
// date. Only when there is no body yet (the first reads after start) do concurrent readers
// build one each. Waiting for the builder instead would park a flood of coroutines behind one
// snapshot for no gain in freshness a client could notice.
//
// Thread-safe: the entry map under a shared_mutex, each entry under its own mutex, neither held
// across a co_await.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "catalog/event.hpp"
#include "inventory/inventory.hpp"

namespace tkt::catalog {

struct seat_map_body {
    std::int64_t event = 0;
    std::uint64_t version = 0;
    std::shared_ptr<const std::string> json;

    // `"<eventId>-<version>"`, quotes included.
    std::string etag() const;
};

// "AVAILABLE", "HELD" or "SOLD", as the seat map and the seat stream show a seat.
std::string_view seat_status_name(inventory::seat_status s);

// The seat map document of `e` at `snap` (pure; exposed for tests).
std::string serialize_seat_map(const event& e, const inventory::snapshot& snap);

class seat_map {
public:
    explicit seat_map(inventory::inventory& inv) : inventory_(inv) {}

    // The map of `e` now; nullopt when the inventory has no layout for it.
    boost::asio::awaitable<std::optional<seat_map_body>> get(std::shared_ptr<const event> e);

    // How many bodies were serialized since start (for tests and metrics).
    std::uint64_t serializations() const { return serializations_.load(std::memory_order_relaxed); }

private:
    struct entry {
        std::mutex mutex;
        std::uint64_t version = 0;
        std::int64_t revision = 0;  // of the event the body describes (grades, prices)
        std::shared_ptr<const std::string> json;
        bool building = false;
    };

    // The one reader that set `building` owns the rebuild; others build only when there is no
    // body at all yet.
    enum class builder { owner, extra };

    std::shared_ptr<entry> entry_of(std::int64_t event_id);
    boost::asio::awaitable<std::optional<seat_map_body>> build(std::shared_ptr<const event> e,
                                                               std::shared_ptr<entry> slot,
                                                               builder role);

    inventory::inventory& inventory_;
    std::atomic<std::uint64_t> serializations_{0};
    std::shared_mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<entry>> entries_;
};

}  // namespace tkt::catalog
