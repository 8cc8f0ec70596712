#pragma once
// The event catalog (DESIGN.md §1 Events and Roles, §7 event rows): managers create events as
// DRAFT, edit them while DRAFT, publish, open, close and cancel them; the clock opens and closes
// sales (`tick`); booking marks them sold out and back on sale.
//
// Every event lives in memory as an immutable `shared_ptr<const event>` in a map under a
// shared_mutex, loaded from the database at start (`load_all`). `find` is synchronous and cheap
// (one shared lock, one atomic increment) because booking calls it on every hold; readers keep
// the copy they got even when a change swaps in a new one. Writes go to the database first, with
// optimistic locking on the row's revision, and only then replace the pointer, so memory never
// shows what the database does not hold. No lock is held across a co_await. Every layout that
// can still sell (all but CANCELLED) is loaded into the inventory before its event becomes
// visible to `find`. All methods may be called from any thread.
//
// Several nodes (issue 13): each keeps its own copy. A node that stores a change announces the
// event's id on the bus topic `catalog` (`share()`), and every node re-reads that event from the
// database; an announcement lost (a bus outage) is made good by `refresh_all`, which the caller
// runs every few seconds. An event newly created elsewhere appears at the first announcement.
//
// g++ 12: start calls that take owning arguments in one statement and co_await them in the next.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "auth/user.hpp"
#include "bus/bus.hpp"
#include "catalog/event.hpp"
#include "catalog/event_store.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"
#include "inventory/inventory.hpp"

namespace tkt::catalog {

using event_ptr = std::shared_ptr<const event>;

struct event_page {
    std::vector<event_ptr> items;
    std::int64_t page = 0;
    std::int64_t size = 0;
    std::int64_t total = 0;
};

struct status_change {
    std::int64_t event = 0;
    event_status from = event_status::draft;
    event_status to = event_status::draft;
};

// Whether `viewer` may see `e`: everyone sees all but DRAFT; a DRAFT only its manager and ADMIN.
bool visible_to(const event& e, const std::optional<auth::principal>& viewer);

class service {
public:
    service(db::database& db, inventory::inventory& inv, const clock& clk);

    // Replaces the in-memory catalog with the database's and loads every layout that can still
    // sell into the inventory. Run it before serving and before booking rebuilds holds and
    // sales on top (a load resets an event's seats to AVAILABLE). Returns the number loaded.
    boost::asio::awaitable<result<std::size_t>> load_all();

    // Announces this node's changes on `bus` and re-reads every event another node announces,
    // on `executor`. Once, before serving; `bus` must outlive the service.
    void share(bus::bus& bus, boost::asio::any_io_executor executor);
    // Re-reads every event from the database (the copies of a node that missed news). No
    // inventory change.
    boost::asio::awaitable<result<std::size_t>> refresh_all();

    // The event, whatever its status; nullptr when unknown.
    event_ptr find(std::int64_t id) const;
    // Every event in memory, in no particular order.
    std::vector<event_ptr> all() const;

    // POST /events: MANAGER or ADMIN; the new event is a DRAFT owned by `who`.
    boost::asio::awaitable<result<event_ptr>> create(boost::json::object body, auth::principal who);
    // PATCH /events/{id}: fields while DRAFT (409 otherwise) and/or {status}. A manager
    // reaches only their own events (404 for another's); ADMIN reaches every event.
    boost::asio::awaitable<result<event_ptr>> update(std::int64_t id, boost::json::object body,
                                                     auth::principal who);
    // GET /events: DRAFTs appear only to their manager and to ADMIN.
    boost::asio::awaitable<result<event_page>> list(list_query query,
                                                    std::optional<auth::principal> viewer);
    // GET /manager/events: the manager's own events (every event for ADMIN).
    boost::asio::awaitable<result<event_page>> list_managed(auth::principal who, std::int64_t page,
                                                            std::int64_t size);

    // Applies `due_status` to every event at `now` and persists each change; returns them.
    boost::asio::awaitable<std::vector<status_change>> tick(time_point now);
    // ON_SALE → SOLD_OUT and back, for booking when availability reaches 0 or returns. False
    // when the event is not in the expected status.
    boost::asio::awaitable<bool> mark_sold_out(std::int64_t id);
    boost::asio::awaitable<bool> mark_back_on_sale(std::int64_t id);

    time_point now() const { return clock_.now(); }

    // Called (and awaited) after an event has been stored CANCELLED, before the PATCH answers:
    // booking refunds its paid orders and releases its holds. Set once, before serving.
    using cancellation_hook = std::function<boost::asio::awaitable<void>(std::int64_t)>;
    void on_cancelled(cancellation_hook hook) { on_cancelled_ = std::move(hook); }

private:
    enum class store_outcome { stored, stale, failed };
    enum class layout_change { none, reload };

    // Writes `next` (whose revision is one above the stored one), reloads its layout into the
    // inventory when asked, and swaps it in. `stale`: someone else wrote first; memory now holds
    // their version.
    boost::asio::awaitable<store_outcome> store(event next, layout_change layout);
    // Re-reads one event after losing a revision race.
    boost::asio::awaitable<void> refresh(std::int64_t id);
    boost::asio::awaitable<bool> move_status(std::int64_t id, event_status from, event_status to);
    boost::asio::awaitable<result<event_page>> page_of(event_filter filter);
    void publish(event_ptr e);
    // Tells the other nodes that `id` changed (when shared).
    void announce(std::int64_t id);

    db::database& db_;
    inventory::inventory& inventory_;
    const clock& clock_;
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::int64_t, event_ptr> events_;
    cancellation_hook on_cancelled_;
    bus::bus* bus_ = nullptr;
    bus::subscription news_;
};

}  // namespace tkt::catalog
