#pragma once
// The event model (DESIGN.md §7 "Event body"): what is sold, when, at what price, under which
// rules. Plain data plus pure helpers; no I/O. Events are immutable once loaded: a change makes a
// new `event` and the catalog swaps the shared pointer, so readers on other threads keep a
// consistent copy.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.hpp"
#include "common/problem.hpp"
#include "inventory/inventory.hpp"

namespace tkt::catalog {

enum class seating { reserved, general };
enum class event_status { draft, scheduled, on_sale, sold_out, closed, cancelled };
enum class category { concert, musical, exhibition, sports, fan_meeting, etc };

struct grade {
    std::string name;
    std::int64_t price = 0;  // KRW
};

struct row_spec {
    std::string row;
    std::int32_t seats = 0;  // seats numbered 1..seats
    std::string grade;       // "" = its section's grade (front rows may be dearer, say)
};

struct section {
    std::string name;
    std::string grade;
    std::vector<row_spec> rows;
};

struct zone {
    std::string name;
    std::string grade;
    std::int32_t capacity = 0;
};

struct waiting_room_settings {
    bool enabled = false;
    std::int32_t admit_per_second = 50;
    std::int32_t max_active = 500;
    std::int32_t entry_ttl_seconds = 600;
};

struct event {
    std::int64_t id = 0;
    std::int64_t manager_id = 0;
    std::string title;
    std::string description;
    std::string venue;
    std::string location;
    std::string thumbnail_url;
    catalog::category category = catalog::category::etc;
    std::int32_t age_limit = 0;
    time_point starts_at;
    time_point sales_open_at;
    std::optional<time_point> sales_close_at;
    catalog::seating seating = catalog::seating::reserved;
    std::vector<grade> grades;
    std::vector<section> sections;  // reserved seating
    std::vector<zone> zones;        // general admission
    std::int32_t max_per_user = 4;
    std::int32_t hold_seconds = 300;
    waiting_room_settings waiting_room;
    event_status status = event_status::draft;
    std::string created_at;
    std::string updated_at;
    // Bumped by every stored change; the row is updated only when it still has the revision
    // the change was based on, so concurrent writers (two PATCHes, the ticker) cannot lose an
    // update, across nodes too.
    std::int64_t revision = 0;
};

// Seat ids are "<section>-<row>-<n>", e.g. "A-3-12".
std::string seat_id(std::string_view section, std::string_view row, std::int32_t n);

// Every seat id in layout order (sections, rows, 1..n).
std::vector<std::string> seat_ids(const event& e);
std::int64_t capacity(const event& e);
// The layout the inventory sells.
inventory::layout to_layout(const event& e);

// Price of one seat / one ticket of a zone, from the grades; nullopt when unknown.
std::optional<std::int64_t> seat_price(const event& e, std::string_view seat);
std::optional<std::int64_t> zone_price(const event& e, std::string_view zone);
// The grade name of a seat (its row's, else its section's); empty when unknown.
std::string_view seat_grade(const event& e, std::string_view seat);

// Whether holds may be taken at `now`: ON_SALE and inside [sales_open_at, sales_close_at).
bool on_sale(const event& e, time_point now);

std::string_view to_string(event_status s);
std::string_view to_string(category c);
std::string_view to_string(catalog::seating s);
std::optional<event_status> parse_event_status(std::string_view s);
std::optional<catalog::category> parse_category(std::string_view s);
std::optional<catalog::seating> parse_seating(std::string_view s);

// Cheapest and dearest price among the grades the layout uses (0 when there is none).
std::int64_t min_price(const event& e);
std::int64_t max_price(const event& e);

// RFC 3339 with `Z` or a numeric offset, converted to UTC and truncated to whole seconds (what
// the database keeps); nullopt when malformed or out of range.
std::optional<time_point> parse_rfc3339(std::string_view text);
// "2027-01-15T08:00:00Z".
std::string format_time(time_point t);

// The status the clock moves an event to at `now`, if any: SCHEDULED opens at salesOpenAt
// (or closes at once when its window has already passed), ON_SALE and SOLD_OUT close at
// salesCloseAt. Manual transitions are `transition_allowed`.
std::optional<event_status> due_status(const event& e, time_point now);
// The transitions a manager may ask for with PATCH {status}: DRAFT → SCHEDULED, DRAFT and
// SCHEDULED → ON_SALE, ON_SALE and SOLD_OUT → CLOSED, anything but CANCELLED → CANCELLED.
bool transition_allowed(event_status from, event_status to);

// The event as the API shows it (DESIGN.md §7), camelCase, with derived minPrice, maxPrice and
// capacity. `to_summary_json` leaves out sections and zones, for lists.
boost::json::object to_json(const event& e);
boost::json::object to_summary_json(const event& e);

// Reads and validates a create body (DESIGN.md §7 "Event body"). Every failure is a 400
// VALIDATION_FAILED naming the field, e.g. "grades[1].price". The result is a DRAFT owned by
// `manager_id`, without id or timestamps.
result<event> event_from_json(const boost::json::object& body, std::int64_t manager_id);

// The editable fields of a PATCH body; status is not one of them.
bool has_editable_fields(const boost::json::object& patch);
// `base` with the editable fields of `patch` applied and the whole validated again. A patch
// that names seating, sections or zones replaces the layout as a whole. Identity, owner, status
// and timestamps are kept from `base`.
result<event> apply_patch(const event& base, const boost::json::object& patch);

// What the database keeps as `layout_json`: grades, sections or zones, waitingRoom.
boost::json::object layout_to_json(const event& e);
// Reads `layout_json` back into `e` (its seating must already be set); validated like a body.
result<void> layout_from_json(const boost::json::object& layout, event& e);

}  // namespace tkt::catalog
