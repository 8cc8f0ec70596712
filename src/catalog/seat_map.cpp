#include "catalog/seat_map.hpp"

#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.hpp"

namespace tkt::catalog {
namespace {

using boost::asio::awaitable;

std::string_view status_name(inventory::seat_status s) {
    return seat_status_name(s);
}

std::int64_t grade_price(const event& e, std::string_view grade_name) {
    for (const auto& g : e.grades) {
        if (g.name == grade_name) return g.price;
    }
    return 0;
}

// Seat states by position; the snapshot lists seats in layout order, so a lookup by id is
// needed only when the two disagree (a layout being replaced under the reader).
class seat_lookup {
public:
    explicit seat_lookup(const inventory::snapshot& snap) : snap_(snap) {}

    std::string_view status(std::size_t index, const std::string& id) {
        if (index < snap_.seats.size() && snap_.seats[index].id == id)
            return status_name(snap_.seats[index].status);
        if (by_id_.empty()) {
            for (const auto& s : snap_.seats) by_id_.emplace(s.id, s.status);
        }
        const auto it = by_id_.find(id);
        // A seat the inventory does not know cannot be held: show it as taken.
        return it == by_id_.end() ? "SOLD" : status_name(it->second);
    }

private:
    const inventory::snapshot& snap_;
    std::unordered_map<std::string, inventory::seat_status> by_id_;
};

boost::json::array sections_of(const event& e, const inventory::snapshot& snap) {
    seat_lookup lookup(snap);
    std::size_t index = 0;
    boost::json::array sections;
    for (const auto& s : e.sections) {
        boost::json::array rows;
        for (const auto& r : s.rows) {
            boost::json::array seats;
            seats.reserve(static_cast<std::size_t>(r.seats));
            for (std::int32_t n = 1; n <= r.seats; ++n, ++index) {
                auto id = seat_id(s.name, r.row, n);
                const auto st = lookup.status(index, id);
                seats.push_back(boost::json::object{{"id", std::move(id)}, {"status", st}});
            }
            boost::json::object row{{"row", r.row}};
            // Only a row of another grade than its section's says so (and its price).
            if (!r.grade.empty()) {
                row["grade"] = r.grade;
                row["price"] = grade_price(e, r.grade);
            }
            row["seats"] = std::move(seats);
            rows.push_back(std::move(row));
        }
        sections.push_back(boost::json::object{{"name", s.name},
                                               {"grade", s.grade},
                                               {"price", grade_price(e, s.grade)},
                                               {"rows", std::move(rows)}});
    }
    return sections;
}

boost::json::array zones_of(const event& e, const inventory::snapshot& snap) {
    boost::json::array zones;
    for (const auto& z : e.zones) {
        std::int64_t available = 0;
        for (const auto& st : snap.zones) {
            if (st.name == z.name) available = st.available;
        }
        zones.push_back(boost::json::object{{"name", z.name},
                                            {"grade", z.grade},
                                            {"price", grade_price(e, z.grade)},
                                            {"capacity", z.capacity},
                                            {"available", available}});
    }
    return zones;
}

}  // namespace

std::string_view seat_status_name(inventory::seat_status s) {
    switch (s) {
        case inventory::seat_status::available:
            return "AVAILABLE";
        case inventory::seat_status::held:
            return "HELD";
        case inventory::seat_status::sold:
            return "SOLD";
    }
    return "SOLD";
}

std::string seat_map_body::etag() const {
    // Versions restart with the process (the inventory is rebuilt in memory), so the tag also
    // names this process: a tag a client kept from before a restart never matches by accident.
    static const std::string epoch = random_id("").substr(0, 8);
    return fmt::format("\"{}-{}-{}\"", event, epoch, version);
}

std::string serialize_seat_map(const event& e, const inventory::snapshot& snap) {
    boost::json::object o{
        {"eventId", e.id}, {"version", snap.version}, {"seating", to_string(e.seating)}};
    if (e.seating == seating::reserved) {
        o["sections"] = sections_of(e, snap);
    } else {
        o["zones"] = zones_of(e, snap);
    }
    return boost::json::serialize(o);
}

std::shared_ptr<seat_map::entry> seat_map::entry_of(std::int64_t event_id) {
    {
        std::shared_lock lock(mutex_);
        if (const auto it = entries_.find(event_id); it != entries_.end()) return it->second;
    }
    std::unique_lock lock(mutex_);
    auto& slot = entries_[event_id];
    if (!slot) slot = std::make_shared<entry>();
    return slot;
}

awaitable<std::optional<seat_map_body>> seat_map::get(std::shared_ptr<const event> e) {
    const auto id = e->id;
    const auto version = co_await inventory_.version_of(id);
    auto slot = entry_of(id);
    std::optional<seat_map_body> cached;
    {
        std::lock_guard lock(slot->mutex);
        const bool same_event = slot->json && slot->revision == e->revision;
        // A newer body than the version read is fine too: a builder finished in between.
        if (same_event && (slot->version >= version || slot->building)) {
            cached = seat_map_body{id, slot->version, slot->json};
        } else if (!slot->building) {
            slot->building = true;
            cached = seat_map_body{};  // marks this reader as the builder
        }
    }
    if (cached && cached->json) co_return cached;
    auto op = build(std::move(e), std::move(slot), cached ? builder::owner : builder::extra);
    co_return co_await std::move(op);
}

awaitable<std::optional<seat_map_body>> seat_map::build(std::shared_ptr<const event> e,
                                                        std::shared_ptr<entry> slot, builder role) {
    // The builder flag is cleared however this ends, exceptions included.
    struct release_flag {
        entry* slot;
        ~release_flag() {
            if (slot == nullptr) return;
            std::lock_guard lock(slot->mutex);
            slot->building = false;
        }
    } release{role == builder::owner ? slot.get() : nullptr};

    auto snap = co_await inventory_.snapshot_of(e->id);
    if (!snap) co_return std::nullopt;
    auto json = std::make_shared<const std::string>(serialize_seat_map(*e, *snap));
    serializations_.fetch_add(1, std::memory_order_relaxed);
    {
        std::lock_guard lock(slot->mutex);
        const bool newer = !slot->json || e->revision > slot->revision ||
                           (e->revision == slot->revision && snap->version > slot->version);
        if (newer) {
            slot->json = json;
            slot->version = snap->version;
            slot->revision = e->revision;
        }
    }
    co_return seat_map_body{e->id, snap->version, std::move(json)};
}

}  // namespace tkt::catalog
