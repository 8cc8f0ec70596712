#pragma once
// The SQL of notifications and of the outbox's dispatching (migration 011). Blocking: call only
// on a DB thread (db::database::run / transact / write).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "notifications/notification.hpp"

namespace tkt::notifications::store {

// --- a user's notifications -------------------------------------------------------------------

// Newest first: `limit` of them below `before` (all when nullopt), unread only if asked.
db::expected<std::vector<notification>> list(db::connection& c, std::int64_t user_id,
                                             const list_request& q);
db::expected<std::int64_t> unread_count(db::connection& c, std::int64_t user_id);
// Oldest first: up to `limit` with ids above `after` (a stream's catch-up).
db::expected<std::vector<notification>> after(db::connection& c, std::int64_t user_id,
                                              std::int64_t after, std::int64_t limit);
// The user's newest notification id (0 when none).
db::expected<std::int64_t> latest_id(db::connection& c, std::int64_t user_id);
// The newest notification id of anyone (0 when none).
db::expected<std::int64_t> newest_id(db::connection& c);

// False when the user has no notification `id` (another user's counts as none). Marking an
// already read one again keeps its first read time.
db::expected<bool> mark_read(db::connection& c, std::int64_t user_id, std::int64_t id,
                             const std::string& now_text);
db::expected<std::int64_t> mark_all_read(db::connection& c, std::int64_t user_id,
                                         const std::string& now_text);
db::expected<bool> remove(db::connection& c, std::int64_t user_id, std::int64_t id);
db::expected<std::int64_t> remove_all(db::connection& c, std::int64_t user_id);

// --- the outbox ------------------------------------------------------------------------------

struct outbox_row {
    std::int64_t id = 0;
    std::int64_t user_id = 0;                       // 0 for a notice to an event's holders
    std::optional<std::int64_t> audience_event_id;  // that event
    std::string type;
    std::string title;
    std::string body;
    std::string data_json;
    std::string created_at;
    bool materialized = false;
};

// Rows not yet dispatched, oldest first.
db::expected<std::vector<outbox_row>> pending(db::connection& c, std::int64_t limit);
// Makes the row's notifications — one for its user, or one per user holding a live ticket of
// its audience event — and marks it materialized. Call inside a transaction that covers both.
// The number of notifications made.
db::expected<std::int64_t> materialize(db::connection& c, const outbox_row& row);
// The notifications made from these outbox rows, by id.
db::expected<std::vector<notification>> of_outbox(db::connection& c,
                                                  std::span<const std::int64_t> outbox_ids);
db::expected<void> mark_dispatched(db::connection& c, std::span<const std::int64_t> outbox_ids,
                                   const std::string& now_text);

// A notice, as one outbox row (the dispatcher fans it out). Its id.
db::expected<std::int64_t> insert_notice(db::connection& c, const notice_request& n,
                                         const std::string& data_json, const std::string& now_text);
// How many users hold a live ticket of the event now.
db::expected<std::int64_t> holders(db::connection& c, std::int64_t event_id);
db::expected<bool> user_exists(db::connection& c, std::int64_t user_id);

// --- retention -------------------------------------------------------------------------------

// Deletes up to `limit` read notifications created before `cutoff_text`, and as many dispatched
// outbox rows dispatched before it. The rows deleted.
db::expected<std::int64_t> sweep(db::connection& c, const std::string& cutoff_text,
                                 std::int64_t limit);

}  // namespace tkt::notifications::store
