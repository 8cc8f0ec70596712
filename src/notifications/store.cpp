#include "notifications/store.hpp"

#include <fmt/format.h>

namespace tkt::notifications::store {
namespace {

constexpr std::string_view columns =
    "id, user_id, type, title, body, data_json, created_at, read_at";

notification from_row(const db::row& r) {
    return notification{r.int64(0), r.int64(1), r.text(2), r.text(3),
                        r.text(4),  r.text(5),  r.text(6), r.opt_text(7)};
}

db::expected<std::vector<notification>> rows_of(db::expected<db::query_result> res) {
    if (!res) return std::unexpected(res.error());
    std::vector<notification> out;
    out.reserve(res->rows.size());
    for (const auto& r : res->rows) out.push_back(from_row(r));
    return out;
}

// "?,?,…" for n parameters.
std::string placeholders(std::size_t n) {
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ",?";
    return out;
}

}  // namespace

db::expected<std::vector<notification>> list(db::connection& c, std::int64_t user_id,
                                             const list_request& q) {
    const std::int64_t before = q.before.value_or(INT64_MAX);
    if (q.unread_only) {
        return rows_of(c.exec(fmt::format("SELECT {} FROM notifications WHERE user_id = ? AND "
                                          "read_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?",
                                          columns),
                              {user_id, before, q.limit}));
    }
    return rows_of(c.exec(fmt::format("SELECT {} FROM notifications WHERE user_id = ? AND id < ? "
                                      "ORDER BY id DESC LIMIT ?",
                                      columns),
                          {user_id, before, q.limit}));
}

db::expected<std::int64_t> unread_count(db::connection& c, std::int64_t user_id) {
    auto res = c.exec("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                      {user_id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<std::vector<notification>> after(db::connection& c, std::int64_t user_id,
                                              std::int64_t after, std::int64_t limit) {
    return rows_of(c.exec(fmt::format("SELECT {} FROM notifications WHERE user_id = ? AND id > ? "
                                      "ORDER BY id LIMIT ?",
                                      columns),
                          {user_id, after, limit}));
}

db::expected<std::int64_t> latest_id(db::connection& c, std::int64_t user_id) {
    auto res = c.exec("SELECT MAX(id) FROM notifications WHERE user_id = ?", {user_id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<std::int64_t> newest_id(db::connection& c) {
    auto res = c.exec("SELECT MAX(id) FROM notifications", {});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<bool> mark_read(db::connection& c, std::int64_t user_id, std::int64_t id,
                             const std::string& now_text) {
    auto res = c.exec(
        "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
        {now_text, id, user_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows > 0;
}

db::expected<std::int64_t> mark_all_read(db::connection& c, std::int64_t user_id,
                                         const std::string& now_text) {
    auto res = c.exec("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
                      {now_text, user_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows;
}

db::expected<bool> remove(db::connection& c, std::int64_t user_id, std::int64_t id) {
    auto res = c.exec("DELETE FROM notifications WHERE id = ? AND user_id = ?", {id, user_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows > 0;
}

db::expected<std::int64_t> remove_all(db::connection& c, std::int64_t user_id) {
    auto res = c.exec("DELETE FROM notifications WHERE user_id = ?", {user_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows;
}

db::expected<std::vector<outbox_row>> pending(db::connection& c, std::int64_t limit) {
    auto res = c.exec(
        "SELECT id, user_id, audience_event_id, type, title, body, data_json, created_at, "
        "materialized FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ?",
        {limit});
    if (!res) return std::unexpected(res.error());
    std::vector<outbox_row> out;
    out.reserve(res->rows.size());
    for (const auto& r : res->rows) {
        out.push_back(outbox_row{r.int64(0), r.int64(1), r.opt_int64(2), r.text(3), r.text(4),
                                 r.text(5), r.text(6), r.text(7), r.int64(8) != 0});
    }
    return out;
}

db::expected<std::int64_t> materialize(db::connection& c, const outbox_row& row) {
    db::expected<db::query_result> made;
    if (row.audience_event_id) {
        // One per holder, in user order, so that their ids follow the users' order.
        made = c.exec(
            "INSERT INTO notifications (user_id, outbox_id, type, title, body, data_json, "
            "created_at) SELECT DISTINCT user_id, ?, ?, ?, ?, ?, ? FROM tickets WHERE event_id = ? "
            "AND status <> 'VOID' ORDER BY user_id",
            {row.id, row.type, row.title, row.body, row.data_json, row.created_at,
             *row.audience_event_id});
    } else {
        made = c.exec(
            "INSERT INTO notifications (user_id, outbox_id, type, title, body, data_json, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            {row.user_id, row.id, row.type, row.title, row.body, row.data_json, row.created_at});
    }
    if (!made) return std::unexpected(made.error());
    auto marked =
        c.exec("UPDATE outbox SET materialized = 1 WHERE id = ? AND materialized = 0", {row.id});
    if (!marked) return std::unexpected(marked.error());
    if (marked->affected_rows != 1)
        return std::unexpected(
            db::error{db::errc::constraint_other, "outbox row already materialized"});
    return made->affected_rows;
}

db::expected<std::vector<notification>> of_outbox(db::connection& c,
                                                  std::span<const std::int64_t> outbox_ids) {
    if (outbox_ids.empty()) return std::vector<notification>{};
    std::vector<db::value> params(outbox_ids.begin(), outbox_ids.end());
    return rows_of(c.exec(fmt::format("SELECT {} FROM notifications WHERE outbox_id IN ({}) "
                                      "ORDER BY id",
                                      columns, placeholders(outbox_ids.size())),
                          params));
}

db::expected<void> mark_dispatched(db::connection& c, std::span<const std::int64_t> outbox_ids,
                                   const std::string& now_text) {
    if (outbox_ids.empty()) return {};
    std::vector<db::value> params;
    params.reserve(outbox_ids.size() + 1);
    params.emplace_back(now_text);
    params.insert(params.end(), outbox_ids.begin(), outbox_ids.end());
    auto res = c.exec(fmt::format("UPDATE outbox SET dispatched_at = ? WHERE id IN ({}) AND "
                                  "dispatched_at IS NULL",
                                  placeholders(outbox_ids.size())),
                      params);
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<std::int64_t> insert_notice(db::connection& c, const notice_request& n,
                                         const std::string& data_json,
                                         const std::string& now_text) {
    auto res = c.exec(
        "INSERT INTO outbox (user_id, audience_event_id, type, title, body, data_json, "
        "created_at) VALUES (?,?,?,?,?,?,?)",
        {n.user_id.value_or(0), n.event_id ? db::value(*n.event_id) : db::value(nullptr),
         std::string(notice), n.title, n.body, data_json, now_text});
    if (!res) return std::unexpected(res.error());
    return res->last_insert_id;
}

db::expected<std::int64_t> holders(db::connection& c, std::int64_t event_id) {
    auto res = c.exec(
        "SELECT COUNT(DISTINCT user_id) FROM tickets WHERE event_id = ? AND status <> 'VOID'",
        {event_id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<bool> user_exists(db::connection& c, std::int64_t user_id) {
    auto res = c.exec("SELECT 1 FROM users WHERE id = ? AND status <> 'DELETED'", {user_id});
    if (!res) return std::unexpected(res.error());
    return !res->rows.empty();
}

db::expected<std::int64_t> sweep(db::connection& c, const std::string& cutoff_text,
                                 std::int64_t limit) {
    // At most `limit` rows a statement. MySQL and MariaDB refuse a LIMIT inside an IN subquery
    // but take one on the DELETE itself; SQLite takes a DELETE's LIMIT only when built with
    // SQLITE_ENABLE_UPDATE_DELETE_LIMIT, so it gets the subquery.
    const bool mysql = c.kind() == db::dialect::mysql;
    auto read = c.exec(mysql ? "DELETE FROM notifications WHERE read_at IS NOT NULL AND "
                               "created_at < ? ORDER BY id LIMIT ?"
                             : "DELETE FROM notifications WHERE id IN (SELECT id FROM "
                               "notifications WHERE read_at IS NOT NULL AND created_at < ? "
                               "LIMIT ?)",
                       {cutoff_text, limit});
    if (!read) return std::unexpected(read.error());
    auto sent = c.exec(mysql ? "DELETE FROM outbox WHERE dispatched_at IS NOT NULL AND "
                               "dispatched_at < ? ORDER BY id LIMIT ?"
                             : "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE "
                               "dispatched_at IS NOT NULL AND dispatched_at < ? LIMIT ?)",
                       {cutoff_text, limit});
    if (!sent) return std::unexpected(sent.error());
    return read->affected_rows + sent->affected_rows;
}

}  // namespace tkt::notifications::store
