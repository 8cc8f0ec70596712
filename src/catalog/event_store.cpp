#include "catalog/event_store.hpp"

#include <string>
#include <utility>

#include <fmt/core.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/assert.hpp"
#include "common/log.hpp"
#include "common/paging.hpp"

namespace tkt::catalog {
namespace {

constexpr std::string_view event_columns =
    "id, manager_id, title, description, venue, location, thumbnail_url, category, age_limit, "
    "starts_at, sales_open_at, sales_close_at, seating, status, max_per_user, hold_seconds, "
    "layout_json, revision, created_at, updated_at";

// LIKE pattern for a substring search. '!' escapes the wildcards a user might type; unlike '\'
// it means the same in SQLite and in MySQL string literals.
std::string like_pattern(std::string_view q) {
    std::string out = "%";
    for (const char c : q) {
        if (c == '%' || c == '_' || c == '!') out += '!';
        out += c;
    }
    out += '%';
    return out;
}

db::value opt_time(const std::optional<time_point>& t) {
    return t ? db::value{format_time(*t)} : db::value{nullptr};
}

// The columns after `id` in event_columns order, minus id, for INSERT and UPDATE alike.
std::vector<db::value> column_values(const event& e) {
    return {e.manager_id,
            e.title,
            e.description,
            e.venue,
            e.location,
            e.thumbnail_url,
            std::string{to_string(e.category)},
            std::int64_t{e.age_limit},
            format_time(e.starts_at),
            format_time(e.sales_open_at),
            opt_time(e.sales_close_at),
            std::string{to_string(e.seating)},
            std::string{to_string(e.status)},
            std::int64_t{e.max_per_user},
            std::int64_t{e.hold_seconds},
            boost::json::serialize(layout_to_json(e)),
            e.revision,
            e.created_at,
            e.updated_at,
            min_price(e),
            max_price(e),
            capacity(e)};
}

std::optional<time_point> time_of(const std::string& text) {
    return parse_rfc3339(text);
}

// A row back into an event; nullopt (logged) when a column no longer decodes.
std::optional<event> decode(const db::row& r) {
    event e;
    e.id = r.int64(0);
    e.manager_id = r.int64(1);
    e.title = r.text(2);
    e.description = r.text(3);
    e.venue = r.text(4);
    e.location = r.text(5);
    e.thumbnail_url = r.text(6);
    const auto cat = parse_category(r.text(7));
    e.age_limit = static_cast<std::int32_t>(r.int64(8));
    const auto starts = time_of(r.text(9));
    const auto opens = time_of(r.text(10));
    const auto seat_kind = parse_seating(r.text(12));
    const auto status = parse_event_status(r.text(13));
    boost::system::error_code ec;
    auto layout = boost::json::parse(r.text(16), ec);
    if (!cat || !starts || !opens || !seat_kind || !status || ec || !layout.is_object()) {
        log::error("catalog.bad_row", {{"eventId", e.id}});
        return std::nullopt;
    }
    e.category = *cat;
    e.starts_at = *starts;
    e.sales_open_at = *opens;
    if (!r.is_null(11)) e.sales_close_at = time_of(r.text(11));
    e.seating = *seat_kind;
    e.status = *status;
    e.max_per_user = static_cast<std::int32_t>(r.int64(14));
    e.hold_seconds = static_cast<std::int32_t>(r.int64(15));
    if (auto ok = layout_from_json(layout.as_object(), e); !ok) {
        log::error("catalog.bad_layout", {{"eventId", e.id}, {"detail", ok.error().detail}});
        return std::nullopt;
    }
    e.revision = r.int64(17);
    e.created_at = r.text(18);
    e.updated_at = r.text(19);
    return e;
}

std::vector<event> decode_all(const std::vector<db::row>& rows) {
    std::vector<event> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        if (auto e = decode(r)) out.push_back(std::move(*e));
    }
    return out;
}

// The WHERE clause of a listing and its parameters, in order.
std::string where_clause(const event_filter& f, std::vector<db::value>& params) {
    std::string sql = " WHERE 1 = 1";
    const auto& q = f.query;
    if (f.drafts == draft_visibility::hidden) sql += " AND status <> 'DRAFT'";
    if (f.drafts == draft_visibility::own) {
        sql += " AND (status <> 'DRAFT' OR manager_id = ?)";
        params.emplace_back(f.viewer_id);
    }
    if (f.manager_id) {
        sql += " AND manager_id = ?";
        params.emplace_back(*f.manager_id);
    }
    if (!q.q.empty()) {
        sql +=
            " AND (title LIKE ? ESCAPE '!' OR venue LIKE ? ESCAPE '!'"
            " OR description LIKE ? ESCAPE '!')";
        const auto pattern = like_pattern(q.q);
        params.insert(params.end(), {pattern, pattern, pattern});
    }
    if (!q.location.empty()) {
        sql += " AND location LIKE ? ESCAPE '!'";
        params.emplace_back(like_pattern(q.location));
    }
    if (q.category) {
        sql += " AND category = ?";
        params.emplace_back(std::string{to_string(*q.category)});
    }
    if (q.status) {
        sql += " AND status = ?";
        params.emplace_back(std::string{to_string(*q.status)});
    }
    if (q.from) {
        sql += " AND starts_at >= ?";
        params.emplace_back(format_time(*q.from));
    }
    if (q.to_before) {
        sql += " AND starts_at < ?";
        params.emplace_back(format_time(*q.to_before));
    }
    if (q.min_price) {
        sql += " AND max_price >= ?";
        params.emplace_back(*q.min_price);
    }
    if (q.max_price) {
        sql += " AND min_price <= ?";
        params.emplace_back(*q.max_price);
    }
    return sql;
}

}  // namespace

db::expected<std::int64_t> event_store::insert(const event& e) {
    const auto values = column_values(e);
    auto r = c_.exec(
        "INSERT INTO events (manager_id, title, description, venue, location, thumbnail_url, "
        "category, age_limit, starts_at, sales_open_at, sales_close_at, seating, status, "
        "max_per_user, hold_seconds, layout_json, revision, created_at, updated_at, min_price, "
        "max_price, capacity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        values);
    if (!r) return std::unexpected(std::move(r.error()));
    return r->last_insert_id;
}

db::expected<bool> event_store::update(const event& next, std::int64_t expected_revision) {
    auto values = column_values(next);
    values.emplace_back(next.id);
    values.emplace_back(expected_revision);
    auto r = c_.exec(
        "UPDATE events SET manager_id = ?, title = ?, description = ?, venue = ?, location = ?, "
        "thumbnail_url = ?, category = ?, age_limit = ?, starts_at = ?, sales_open_at = ?, "
        "sales_close_at = ?, seating = ?, status = ?, max_per_user = ?, hold_seconds = ?, "
        "layout_json = ?, revision = ?, created_at = ?, updated_at = ?, min_price = ?, "
        "max_price = ?, capacity = ? WHERE id = ? AND revision = ?",
        values);
    if (!r) return std::unexpected(std::move(r.error()));
    return r->affected_rows == 1;
}

db::expected<std::optional<event>> event_store::find(std::int64_t id) {
    auto r = c_.exec(fmt::format("SELECT {} FROM events WHERE id = ?", event_columns), {id});
    if (!r) return std::unexpected(std::move(r.error()));
    if (r->rows.empty()) return std::optional<event>{};
    return decode(r->rows.front());
}

db::expected<std::vector<event>> event_store::all() {
    auto r = c_.exec(fmt::format("SELECT {} FROM events ORDER BY id", event_columns));
    if (!r) return std::unexpected(std::move(r.error()));
    return decode_all(r->rows);
}

db::expected<event_rows> event_store::list(const event_filter& filter) {
    std::vector<db::value> params;
    const auto where = where_clause(filter, params);
    auto count = c_.exec("SELECT COUNT(*) FROM events" + where, params);
    if (!count) return std::unexpected(std::move(count.error()));
    params.emplace_back(filter.query.size);
    // The service checked the page (common/paging.hpp): the product cannot overflow.
    TKT_ASSERT(page_in_bounds(filter.query.page, filter.query.size));
    params.emplace_back(filter.query.page * filter.query.size);
    auto rows =
        c_.exec(fmt::format("SELECT {} FROM events{} ORDER BY starts_at, id LIMIT ? OFFSET ?",
                            event_columns, where),
                params);
    if (!rows) return std::unexpected(std::move(rows.error()));
    return event_rows{decode_all(rows->rows), count->rows.front().int64(0)};
}

}  // namespace tkt::catalog
