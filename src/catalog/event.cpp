#include "catalog/event.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <set>
#include <utility>

#include <fmt/core.h>

#include <boost/json/array.hpp>

#include "auth/user.hpp"

// Propagates the error of a result-returning expression, binding its value to `var`.
#define TKT_CATALOG_TRY(var, expr) \
    auto var = (expr);             \
    if (!var) return std::unexpected(std::move(var.error()))

namespace tkt::catalog {
namespace {

constexpr std::size_t title_max = 200;
constexpr std::size_t text_max = 200;  // venue, location
constexpr std::size_t description_max = 10'000;
constexpr std::size_t url_max = 2'048;
constexpr std::size_t label_max = 8;        // section and row names: they form seat ids
constexpr std::size_t grade_name_max = 32;  // grade and zone names
constexpr std::int64_t seats_per_row_max = 500;
constexpr std::int64_t capacity_max = 100'000;
constexpr std::int64_t max_per_user_max = 10;
constexpr std::int64_t hold_seconds_max = 3'600;
constexpr std::int64_t age_limit_max = 19;
constexpr std::int64_t waiting_room_value_max = 1'000'000;
constexpr std::int64_t price_max = 1'000'000'000;  // KRW; far above any ticket, far below overflow

constexpr std::array<std::string_view, 6> status_names{"DRAFT",    "SCHEDULED", "ON_SALE",
                                                       "SOLD_OUT", "CLOSED",    "CANCELLED"};
constexpr std::array<std::string_view, 6> category_names{"CONCERT", "MUSICAL",     "EXHIBITION",
                                                         "SPORTS",  "FAN_MEETING", "ETC"};
constexpr std::array<std::string_view, 2> seating_names{"RESERVED", "GENERAL"};

template <class E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::string_view, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == s) return static_cast<E>(i);
    }
    return std::nullopt;
}

std::size_t code_points(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

bool is_label(std::string_view s) {
    return !s.empty() && s.size() <= label_max && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
}

const section* find_section(const event& e, std::string_view name) {
    const auto it = std::find_if(e.sections.begin(), e.sections.end(),
                                 [&](const section& s) { return s.name == name; });
    return it == e.sections.end() ? nullptr : &*it;
}

const grade* find_grade(const event& e, std::string_view name) {
    const auto it = std::find_if(e.grades.begin(), e.grades.end(),
                                 [&](const grade& g) { return g.name == name; });
    return it == e.grades.end() ? nullptr : &*it;
}

// The section and row of a seat id "<section>-<row>-<n>", or nulls when the layout has no such
// seat (no such section or row, or a number outside the row).
std::pair<const section*, const row_spec*> place_of_seat(const event& e, std::string_view seat) {
    const auto first = seat.find('-');
    const auto second = seat.find('-', first == std::string_view::npos ? first : first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) return {};
    const auto* s = find_section(e, seat.substr(0, first));
    if (s == nullptr) return {};
    const auto row = seat.substr(first + 1, second - first - 1);
    const auto number = seat.substr(second + 1);
    std::int32_t n = 0;
    const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec != std::errc{} || p != number.data() + number.size() || number.starts_with('0'))
        return {};
    for (const auto& r : s->rows) {
        if (r.row != row) continue;
        if (n < 1 || n > r.seats) return {};
        return {s, &r};
    }
    return {};
}

// The grades the layout refers to, or every grade when none is referred to yet.
std::vector<std::int64_t> used_prices(const event& e) {
    std::vector<std::int64_t> prices;
    const auto add = [&](std::string_view name) {
        if (const auto* g = find_grade(e, name)) prices.push_back(g->price);
    };
    for (const auto& s : e.sections) {
        // A section's own grade counts only if some row of it sells in that grade.
        bool own = false;
        for (const auto& r : s.rows) {
            if (r.grade.empty())
                own = true;
            else
                add(r.grade);
        }
        if (own) add(s.grade);
    }
    for (const auto& z : e.zones) add(z.grade);
    if (prices.empty()) {
        for (const auto& g : e.grades) prices.push_back(g.price);
    }
    return prices;
}

// Field access over one JSON object whose errors name the full path ("grades[1].price").
class reader {
public:
    reader(const boost::json::object& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}

    std::string path(std::string_view f) const {
        return prefix_.empty() ? std::string{f} : prefix_ + "." + std::string{f};
    }
    problem error(std::string_view f, std::string_view detail) const {
        return validation_error(path(f), detail);
    }
    const boost::json::value* find(std::string_view f) const {
        const auto* v = o_.if_contains(f);
        return v == nullptr || v->is_null() ? nullptr : v;
    }

    result<std::optional<std::string>> opt_string(std::string_view f) const {
        const auto* v = find(f);
        if (v == nullptr) return std::optional<std::string>{};
        if (!v->is_string()) return std::unexpected(error(f, "must be a string"));
        return std::optional<std::string>{std::string{v->get_string()}};
    }
    result<std::string> req_string(std::string_view f) const {
        TKT_CATALOG_TRY(v, opt_string(f));
        if (!*v) return std::unexpected(error(f, "is required"));
        return std::move(**v);
    }
    result<std::optional<std::int64_t>> opt_int(std::string_view f) const {
        const auto* v = find(f);
        if (v == nullptr) return std::optional<std::int64_t>{};
        if (v->is_int64()) return std::optional<std::int64_t>{v->get_int64()};
        if (v->is_uint64() &&
            v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::optional<std::int64_t>{static_cast<std::int64_t>(v->get_uint64())};
        return std::unexpected(error(f, "must be an integer"));
    }
    // An integer in [lo, hi]; `fallback` when absent, or an error when there is none.
    result<std::int64_t> int_in(std::string_view f, std::int64_t lo, std::int64_t hi,
                                std::optional<std::int64_t> fallback) const {
        TKT_CATALOG_TRY(v, opt_int(f));
        if (!*v && !fallback) return std::unexpected(error(f, "is required"));
        const auto n = v->value_or(fallback.value_or(0));
        if (n < lo || n > hi)
            return std::unexpected(error(f, fmt::format("must be between {} and {}", lo, hi)));
        return n;
    }
    result<std::optional<bool>> opt_bool(std::string_view f) const {
        const auto* v = find(f);
        if (v == nullptr) return std::optional<bool>{};
        if (!v->is_bool()) return std::unexpected(error(f, "must be true or false"));
        return std::optional<bool>{v->get_bool()};
    }
    result<const boost::json::array*> opt_array(std::string_view f) const {
        const auto* v = find(f);
        if (v == nullptr) return nullptr;
        if (!v->is_array()) return std::unexpected(error(f, "must be an array"));
        return &v->get_array();
    }
    result<const boost::json::object*> opt_object(std::string_view f) const {
        const auto* v = find(f);
        if (v == nullptr) return nullptr;
        if (!v->is_object()) return std::unexpected(error(f, "must be an object"));
        return &v->get_object();
    }
    // A reader for element `i` of the array field `f`, which must be an object.
    result<reader> element(std::string_view f, const boost::json::array& a, std::size_t i) const {
        auto where = fmt::format("{}[{}]", path(f), i);
        if (!a[i].is_object()) return std::unexpected(validation_error(where, "must be an object"));
        return reader{a[i].get_object(), std::move(where)};
    }

private:
    const boost::json::object& o_;
    std::string prefix_;
};

// A trimmed string of 1..max code points; `required` decides whether absence is an error.
enum class presence { required, optional };

result<std::string> text_field(const reader& r, std::string_view f, std::size_t max, presence p) {
    TKT_CATALOG_TRY(v, r.opt_string(f));
    if (!*v) {
        if (p == presence::required) return std::unexpected(r.error(f, "is required"));
        return std::string{};
    }
    const auto t = trim(**v);
    if (t.empty() && p == presence::required)
        return std::unexpected(r.error(f, "must not be empty"));
    if (code_points(t) > max)
        return std::unexpected(r.error(f, fmt::format("must be at most {} characters", max)));
    return std::string{t};
}

result<time_point> time_field(const reader& r, std::string_view f) {
    TKT_CATALOG_TRY(v, r.req_string(f));
    const auto t = parse_rfc3339(*v);
    if (!t)
        return std::unexpected(r.error(f, "must be an RFC 3339 time, e.g. 2027-01-15T19:00:00Z"));
    return *t;
}

result<void> read_description(const reader& r, event& e) {
    TKT_CATALOG_TRY(title, text_field(r, "title", title_max, presence::required));
    TKT_CATALOG_TRY(description, text_field(r, "description", description_max, presence::optional));
    TKT_CATALOG_TRY(venue, text_field(r, "venue", text_max, presence::required));
    TKT_CATALOG_TRY(location, text_field(r, "location", text_max, presence::optional));
    TKT_CATALOG_TRY(url, text_field(r, "thumbnailUrl", url_max, presence::optional));
    if (!url->empty() && !url->starts_with("https://") && !url->starts_with("http://"))
        return std::unexpected(r.error("thumbnailUrl", "must be an http or https URL"));
    TKT_CATALOG_TRY(cat, r.opt_string("category"));
    if (*cat) {
        const auto parsed = parse_category(**cat);
        if (!parsed)
            return std::unexpected(r.error(
                "category", "must be CONCERT, MUSICAL, EXHIBITION, SPORTS, FAN_MEETING or ETC"));
        e.category = *parsed;
    }
    TKT_CATALOG_TRY(age, r.int_in("ageLimit", 0, age_limit_max, 0));
    e.title = std::move(*title);
    e.description = std::move(*description);
    e.venue = std::move(*venue);
    e.location = std::move(*location);
    e.thumbnail_url = std::move(*url);
    e.age_limit = static_cast<std::int32_t>(*age);
    return {};
}

result<void> read_times(const reader& r, event& e) {
    TKT_CATALOG_TRY(starts, time_field(r, "startsAt"));
    TKT_CATALOG_TRY(opens, time_field(r, "salesOpenAt"));
    if (*opens >= *starts)
        return std::unexpected(r.error("salesOpenAt", "must be before startsAt"));
    std::optional<time_point> closes;
    if (r.find("salesCloseAt") != nullptr) {
        TKT_CATALOG_TRY(c, time_field(r, "salesCloseAt"));
        if (*c <= *opens)
            return std::unexpected(r.error("salesCloseAt", "must be after salesOpenAt"));
        closes = *c;
    }
    e.starts_at = *starts;
    e.sales_open_at = *opens;
    e.sales_close_at = closes;
    return {};
}

result<void> read_grades(const reader& r, event& e) {
    TKT_CATALOG_TRY(list, r.opt_array("grades"));
    if (*list == nullptr) return std::unexpected(r.error("grades", "is required"));
    if ((*list)->empty()) return std::unexpected(r.error("grades", "must not be empty"));
    std::set<std::string, std::less<>> seen;
    e.grades.clear();
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
        TKT_CATALOG_TRY(g, r.element("grades", **list, i));
        TKT_CATALOG_TRY(name, text_field(*g, "name", grade_name_max, presence::required));
        if (!seen.insert(*name).second)
            return std::unexpected(g->error("name", "is a duplicate grade name"));
        TKT_CATALOG_TRY(price, g->int_in("price", 0, price_max, std::nullopt));
        e.grades.push_back(grade{std::move(*name), *price});
    }
    return {};
}

result<std::string> grade_ref(const reader& r, const event& e) {
    TKT_CATALOG_TRY(name, r.req_string("grade"));
    if (find_grade(e, *name) == nullptr)
        return std::unexpected(r.error("grade", "names no grade of the event"));
    return std::move(*name);
}

result<row_spec> read_row(const reader& r, const event& e,
                          std::set<std::string, std::less<>>& seen) {
    TKT_CATALOG_TRY(name, r.req_string("row"));
    if (!is_label(*name))
        return std::unexpected(r.error("row", "must be 1 to 8 letters or digits"));
    if (!seen.insert(*name).second)
        return std::unexpected(r.error("row", "is a duplicate row name in the section"));
    TKT_CATALOG_TRY(seats, r.int_in("seats", 1, seats_per_row_max, std::nullopt));
    // A row of another grade than its section's: optional, and a grade of the event.
    TKT_CATALOG_TRY(grade, r.opt_string("grade"));
    if (*grade && find_grade(e, **grade) == nullptr)
        return std::unexpected(r.error("grade", "names no grade of the event"));
    return row_spec{std::move(*name), static_cast<std::int32_t>(*seats),
                    grade->value_or(std::string())};
}

result<section> read_section(const reader& r, const event& e) {
    TKT_CATALOG_TRY(name, r.req_string("name"));
    if (!is_label(*name))
        return std::unexpected(r.error("name", "must be 1 to 8 letters or digits"));
    TKT_CATALOG_TRY(grade_name, grade_ref(r, e));
    TKT_CATALOG_TRY(rows, r.opt_array("rows"));
    if (*rows == nullptr) return std::unexpected(r.error("rows", "is required"));
    if ((*rows)->empty()) return std::unexpected(r.error("rows", "must not be empty"));
    section s{std::move(*name), std::move(*grade_name), {}};
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < (*rows)->size(); ++i) {
        TKT_CATALOG_TRY(row_reader, r.element("rows", **rows, i));
        TKT_CATALOG_TRY(row, read_row(*row_reader, e, seen));
        s.rows.push_back(std::move(*row));
    }
    return s;
}

result<void> read_sections(const reader& r, const boost::json::array& list, event& e) {
    std::set<std::string, std::less<>> seen;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        TKT_CATALOG_TRY(sr, r.element("sections", list, i));
        TKT_CATALOG_TRY(s, read_section(*sr, e));
        if (!seen.insert(s->name).second)
            return std::unexpected(sr->error("name", "is a duplicate section name"));
        for (const auto& row : s->rows) total += row.seats;
        if (total > capacity_max)
            return std::unexpected(
                r.error("sections", fmt::format("hold more than {} seats in all", capacity_max)));
        e.sections.push_back(std::move(*s));
    }
    return {};
}

result<void> read_zones(const reader& r, const boost::json::array& list, event& e) {
    std::set<std::string, std::less<>> seen;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        TKT_CATALOG_TRY(zr, r.element("zones", list, i));
        TKT_CATALOG_TRY(name, text_field(*zr, "name", grade_name_max, presence::required));
        if (!seen.insert(*name).second)
            return std::unexpected(zr->error("name", "is a duplicate zone name"));
        TKT_CATALOG_TRY(grade_name, grade_ref(*zr, e));
        TKT_CATALOG_TRY(cap, zr->int_in("capacity", 1, capacity_max, std::nullopt));
        total += *cap;
        if (total > capacity_max)
            return std::unexpected(
                r.error("zones", fmt::format("hold more than {} places in all", capacity_max)));
        e.zones.push_back(
            zone{std::move(*name), std::move(*grade_name), static_cast<std::int32_t>(*cap)});
    }
    return {};
}

// Exactly the kind of layout the seating asks for, present and not empty.
result<void> read_places(const reader& r, event& e) {
    TKT_CATALOG_TRY(sections, r.opt_array("sections"));
    TKT_CATALOG_TRY(zones, r.opt_array("zones"));
    e.sections.clear();
    e.zones.clear();
    const bool reserved = e.seating == seating::reserved;
    const auto* wanted = reserved ? *sections : *zones;
    const std::string_view wanted_name = reserved ? "sections" : "zones";
    const std::string_view other_name = reserved ? "zones" : "sections";
    if ((reserved ? *zones : *sections) != nullptr)
        return std::unexpected(r.error(
            other_name, fmt::format("must be absent when seating is {}", to_string(e.seating))));
    if (wanted == nullptr) return std::unexpected(r.error(wanted_name, "is required"));
    if (wanted->empty()) return std::unexpected(r.error(wanted_name, "must not be empty"));
    return reserved ? read_sections(r, *wanted, e) : read_zones(r, *wanted, e);
}

result<void> read_waiting_room(const reader& r, event& e) {
    TKT_CATALOG_TRY(obj, r.opt_object("waitingRoom"));
    waiting_room_settings w;
    if (*obj != nullptr) {
        const reader wr{**obj, r.path("waitingRoom")};
        TKT_CATALOG_TRY(enabled, wr.opt_bool("enabled"));
        TKT_CATALOG_TRY(rate,
                        wr.int_in("admitPerSecond", 1, waiting_room_value_max, w.admit_per_second));
        TKT_CATALOG_TRY(active, wr.int_in("maxActive", 1, waiting_room_value_max, w.max_active));
        TKT_CATALOG_TRY(
            ttl, wr.int_in("entryTtlSeconds", 1, waiting_room_value_max, w.entry_ttl_seconds));
        w.enabled = enabled->value_or(false);
        w.admit_per_second = static_cast<std::int32_t>(*rate);
        w.max_active = static_cast<std::int32_t>(*active);
        w.entry_ttl_seconds = static_cast<std::int32_t>(*ttl);
    }
    e.waiting_room = w;
    return {};
}

result<void> read_limits(const reader& r, event& e) {
    TKT_CATALOG_TRY(per_user, r.int_in("maxPerUser", 1, max_per_user_max, 4));
    TKT_CATALOG_TRY(hold, r.int_in("holdSeconds", 1, hold_seconds_max, 300));
    e.max_per_user = static_cast<std::int32_t>(*per_user);
    e.hold_seconds = static_cast<std::int32_t>(*hold);
    return {};
}

boost::json::array grades_json(const event& e) {
    boost::json::array out;
    for (const auto& g : e.grades)
        out.push_back(boost::json::object{{"name", g.name}, {"price", g.price}});
    return out;
}

boost::json::array sections_json(const event& e) {
    boost::json::array out;
    for (const auto& s : e.sections) {
        boost::json::array rows;
        for (const auto& r : s.rows) {
            boost::json::object row{{"row", r.row}, {"seats", r.seats}};
            if (!r.grade.empty()) row["grade"] = r.grade;
            rows.push_back(std::move(row));
        }
        out.push_back(
            boost::json::object{{"name", s.name}, {"grade", s.grade}, {"rows", std::move(rows)}});
    }
    return out;
}

boost::json::array zones_json(const event& e) {
    boost::json::array out;
    for (const auto& z : e.zones)
        out.push_back(
            boost::json::object{{"name", z.name}, {"grade", z.grade}, {"capacity", z.capacity}});
    return out;
}

boost::json::object waiting_room_json(const waiting_room_settings& w) {
    return {{"enabled", w.enabled},
            {"admitPerSecond", w.admit_per_second},
            {"maxActive", w.max_active},
            {"entryTtlSeconds", w.entry_ttl_seconds}};
}

// The keys a PATCH may change; everything else in a patch is ignored.
constexpr std::array<std::string_view, 17> editable_keys{
    "title",    "description", "venue",       "location",     "thumbnailUrl", "category",
    "ageLimit", "startsAt",    "salesOpenAt", "salesCloseAt", "seating",      "grades",
    "sections", "zones",       "maxPerUser",  "holdSeconds",  "waitingRoom"};

}  // namespace

std::string seat_id(std::string_view section, std::string_view row, std::int32_t n) {
    return fmt::format("{}-{}-{}", section, row, n);
}

std::vector<std::string> seat_ids(const event& e) {
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(capacity(e)));
    for (const auto& s : e.sections) {
        for (const auto& r : s.rows) {
            for (std::int32_t n = 1; n <= r.seats; ++n) ids.push_back(seat_id(s.name, r.row, n));
        }
    }
    return ids;
}

std::int64_t capacity(const event& e) {
    std::int64_t total = 0;
    for (const auto& s : e.sections) {
        for (const auto& r : s.rows) total += r.seats;
    }
    for (const auto& z : e.zones) total += z.capacity;
    return total;
}

inventory::layout to_layout(const event& e) {
    inventory::layout l;
    l.event = e.id;
    l.max_per_user = e.max_per_user;
    if (e.seating == seating::reserved) {
        l.seats = seat_ids(e);
    } else {
        for (const auto& z : e.zones) l.zones.push_back(inventory::zone_spec{z.name, z.capacity});
    }
    return l;
}

std::optional<std::int64_t> seat_price(const event& e, std::string_view seat) {
    const auto* g = find_grade(e, seat_grade(e, seat));
    return g == nullptr ? std::nullopt : std::optional{g->price};
}

std::optional<std::int64_t> zone_price(const event& e, std::string_view zone_name) {
    for (const auto& z : e.zones) {
        if (z.name != zone_name) continue;
        const auto* g = find_grade(e, z.grade);
        return g == nullptr ? std::nullopt : std::optional{g->price};
    }
    return std::nullopt;
}

std::string_view seat_grade(const event& e, std::string_view seat) {
    // Its row's grade, else its section's.
    const auto [s, r] = place_of_seat(e, seat);
    if (r == nullptr) return {};
    return r->grade.empty() ? std::string_view(s->grade) : std::string_view(r->grade);
}

bool on_sale(const event& e, time_point now) {
    return e.status == event_status::on_sale && now >= e.sales_open_at &&
           (!e.sales_close_at || now < *e.sales_close_at);
}

std::string_view to_string(event_status s) {
    return status_names.at(static_cast<std::size_t>(s));
}
std::string_view to_string(category c) {
    return category_names.at(static_cast<std::size_t>(c));
}
std::string_view to_string(catalog::seating s) {
    return seating_names.at(static_cast<std::size_t>(s));
}
std::optional<event_status> parse_event_status(std::string_view s) {
    return parse_enum<event_status>(status_names, s);
}
std::optional<catalog::category> parse_category(std::string_view s) {
    return parse_enum<category>(category_names, s);
}
std::optional<catalog::seating> parse_seating(std::string_view s) {
    return parse_enum<seating>(seating_names, s);
}

std::int64_t min_price(const event& e) {
    const auto prices = used_prices(e);
    return prices.empty() ? 0 : *std::min_element(prices.begin(), prices.end());
}

std::int64_t max_price(const event& e) {
    const auto prices = used_prices(e);
    return prices.empty() ? 0 : *std::max_element(prices.begin(), prices.end());
}

std::optional<event_status> due_status(const event& e, time_point now) {
    const bool closed_by_now = e.sales_close_at && *e.sales_close_at <= now;
    switch (e.status) {
        case event_status::scheduled:
            if (closed_by_now) return event_status::closed;
            if (e.sales_open_at <= now) return event_status::on_sale;
            return std::nullopt;
        case event_status::on_sale:
        case event_status::sold_out:
            if (closed_by_now) return event_status::closed;
            return std::nullopt;
        case event_status::draft:
        case event_status::closed:
        case event_status::cancelled:
            return std::nullopt;
    }
    return std::nullopt;
}

bool transition_allowed(event_status from, event_status to) {
    using enum event_status;
    switch (to) {
        case scheduled:
            return from == draft;
        case on_sale:
            return from == draft || from == scheduled;
        case closed:
            return from == on_sale || from == sold_out;
        case cancelled:
            return from != cancelled;
        case draft:
        case sold_out:
            return false;
    }
    return false;
}

namespace {

// Reads exactly `n` digits at `pos`.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

// The UTC offset at the end of a time ("Z", "+09:00") in seconds; nullopt when malformed.
std::optional<int> offset_seconds(std::string_view tail) {
    if (tail == "Z" || tail == "z") return 0;
    if (tail.size() != 6 || (tail[0] != '+' && tail[0] != '-') || tail[3] != ':')
        return std::nullopt;
    const auto h = digits(tail, 1, 2);
    const auto m = digits(tail, 4, 2);
    if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
    const int secs = *h * 3600 + *m * 60;
    return tail[0] == '-' ? -secs : secs;
}

}  // namespace

std::optional<time_point> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[13] != ':' ||
        text[16] != ':' || (text[10] != 'T' && text[10] != 't'))
        return std::nullopt;
    const auto y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
    const auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
    std::size_t pos = 19;
    if (text[pos] == '.') {
        ++pos;
        const auto start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
    }
    const auto offset = offset_seconds(text.substr(pos));
    if (!offset) return std::nullopt;
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                             day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    const auto t = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s} - seconds{*offset};
    return time_point{duration_cast<time_point::duration>(t.time_since_epoch())};
}

std::string format_time(time_point t) {
    return auth::format_rfc3339(t);
}

boost::json::object to_summary_json(const event& e) {
    boost::json::object o;
    o["id"] = e.id;
    o["title"] = e.title;
    o["description"] = e.description;
    o["venue"] = e.venue;
    o["location"] = e.location;
    o["thumbnailUrl"] = e.thumbnail_url;
    o["category"] = to_string(e.category);
    o["ageLimit"] = e.age_limit;
    o["startsAt"] = format_time(e.starts_at);
    o["salesOpenAt"] = format_time(e.sales_open_at);
    o["salesCloseAt"] = e.sales_close_at ? boost::json::value(format_time(*e.sales_close_at))
                                         : boost::json::value(nullptr);
    o["seating"] = to_string(e.seating);
    o["grades"] = grades_json(e);
    o["maxPerUser"] = e.max_per_user;
    o["holdSeconds"] = e.hold_seconds;
    o["waitingRoom"] = waiting_room_json(e.waiting_room);
    o["status"] = to_string(e.status);
    o["managerId"] = e.manager_id;
    o["minPrice"] = min_price(e);
    o["maxPrice"] = max_price(e);
    o["capacity"] = capacity(e);
    o["createdAt"] = e.created_at;
    o["updatedAt"] = e.updated_at;
    return o;
}

boost::json::object to_json(const event& e) {
    auto o = to_summary_json(e);
    if (e.seating == seating::reserved) {
        o["sections"] = sections_json(e);
    } else {
        o["zones"] = zones_json(e);
    }
    return o;
}

boost::json::object layout_to_json(const event& e) {
    boost::json::object o{{"grades", grades_json(e)},
                          {"waitingRoom", waiting_room_json(e.waiting_room)}};
    if (e.seating == seating::reserved) {
        o["sections"] = sections_json(e);
    } else {
        o["zones"] = zones_json(e);
    }
    return o;
}

result<void> layout_from_json(const boost::json::object& layout, event& e) {
    const reader r{layout, {}};
    if (auto ok = read_grades(r, e); !ok) return ok;
    if (auto ok = read_places(r, e); !ok) return ok;
    return read_waiting_room(r, e);
}

result<event> event_from_json(const boost::json::object& body, std::int64_t manager_id) {
    const reader r{body, {}};
    event e;
    e.manager_id = manager_id;
    if (auto ok = read_description(r, e); !ok) return std::unexpected(std::move(ok.error()));
    if (auto ok = read_times(r, e); !ok) return std::unexpected(std::move(ok.error()));
    TKT_CATALOG_TRY(seating_text, r.req_string("seating"));
    const auto kind = parse_seating(*seating_text);
    if (!kind) return std::unexpected(r.error("seating", "must be RESERVED or GENERAL"));
    e.seating = *kind;
    if (auto ok = layout_from_json(body, e); !ok) return std::unexpected(std::move(ok.error()));
    if (auto ok = read_limits(r, e); !ok) return std::unexpected(std::move(ok.error()));
    return e;
}

bool has_editable_fields(const boost::json::object& patch) {
    return std::any_of(editable_keys.begin(), editable_keys.end(),
                       [&](std::string_view k) { return patch.contains(k); });
}

result<event> apply_patch(const event& base, const boost::json::object& patch) {
    auto merged = to_json(base);
    const bool new_layout =
        patch.contains("seating") || patch.contains("sections") || patch.contains("zones");
    if (new_layout) {
        merged.erase("sections");
        merged.erase("zones");
    }
    for (const auto key : editable_keys) {
        if (const auto* v = patch.if_contains(key)) merged[key] = *v;
    }
    TKT_CATALOG_TRY(e, event_from_json(merged, base.manager_id));
    e->id = base.id;
    e->status = base.status;
    e->created_at = base.created_at;
    e->updated_at = base.updated_at;
    e->revision = base.revision;
    return std::move(*e);
}

}  // namespace tkt::catalog

#undef TKT_CATALOG_TRY
