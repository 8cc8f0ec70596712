#pragma once
// The SQL of the catalog: the `events` table over one borrowed db::connection. Every call
// blocks, so an `event_store` lives only inside a function handed to database::run() or
// transact(), on a DB thread. It enforces no business rule: the service decides, the store reads
// and writes. Statements use `?` placeholders and plain SQL that suits SQLite and MySQL.
#include <cstdint>
#include <optional>
#include <vector>

#include "catalog/event.hpp"
#include "db/database.hpp"

namespace tkt::catalog {

inline constexpr std::int64_t page_size_max = 100;

// GET /events filters (DESIGN.md §7). Empty strings and nullopt mean "any".
struct list_query {
    std::string q;  // substring of title, venue or description
    std::optional<catalog::category> category;
    std::optional<event_status> status;
    std::optional<time_point> from;         // startsAt ≥ from
    std::optional<time_point> to_before;    // startsAt < to_before
    std::optional<std::int64_t> min_price;  // the event's price range overlaps [min, max]
    std::optional<std::int64_t> max_price;
    std::string location;  // substring
    std::int64_t page = 0;
    std::int64_t size = 20;
};

// Which DRAFT events a listing may show.
enum class draft_visibility { hidden, own, all };

struct event_filter {
    list_query query;
    draft_visibility drafts = draft_visibility::hidden;
    std::int64_t viewer_id = 0;              // for draft_visibility::own
    std::optional<std::int64_t> manager_id;  // only this manager's events
};

struct event_rows {
    std::vector<event> items;
    std::int64_t total = 0;
};

class event_store {
public:
    explicit event_store(db::connection& c) : c_(c) {}

    // Inserts `e` (its id is ignored) and returns the new id.
    db::expected<std::int64_t> insert(const event& e);
    // Writes every column of `next` when the row still has `expected_revision`; false when
    // someone else changed it first.
    db::expected<bool> update(const event& next, std::int64_t expected_revision);
    db::expected<std::optional<event>> find(std::int64_t id);
    // Every event, by id. Rows that no longer decode are logged and skipped.
    db::expected<std::vector<event>> all();
    // One page, ordered by startsAt then id, and the number of matches.
    db::expected<event_rows> list(const event_filter& filter);

private:
    db::connection& c_;
};

}  // namespace tkt::catalog
