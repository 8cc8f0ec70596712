#include "waiting_room/journaled_waiting_room.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "common/log.hpp"

namespace tkt::waiting_room {
namespace {

using boost::asio::awaitable;

std::int64_t unix_ms(time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A journal write that failed: the change is in memory but would not survive a restart, so the
// caller is answered 500 rather than told something durable that is not.
template <class T>
void check(const db::expected<T>& r, const char* what) {
    if (!r)
        throw std::runtime_error(std::string("waiting room journal: ") + what + ": " +
                                 r.error().message);
}

// The journal's statements in each dialect. A join writes its seq unless the row has a newer
// one already (an admission of the same seq that committed first keeps its admission); a row of
// an older entry of the same user is replaced. A draw or an admission never takes a row back to
// an older seq; a removal deletes only the row of the seq that left; the room's row only grows.
// MySQL's ON DUPLICATE KEY UPDATE assigns left to right, each seeing the ones before: the
// columns that test `seq` come before `seq` itself.
struct statements {
    std::string_view room;
    std::string_view join;
    std::string_view draw;
    std::string_view admit;
};

constexpr statements sqlite_sql{
    .room =
        "INSERT INTO queue_rooms (event_id, opened, head, last_seq) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (event_id) DO UPDATE SET opened = MAX(opened, excluded.opened), "
        "head = MAX(head, excluded.head), last_seq = MAX(last_seq, excluded.last_seq)",
    .join =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id, user_id) DO UPDATE SET seq = excluded.seq, "
        "admitted_until = NULL WHERE excluded.seq > queue_members.seq",
    .draw =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id, user_id) DO UPDATE SET seq = excluded.seq "
        "WHERE excluded.seq > queue_members.seq",
    .admit =
        "INSERT INTO queue_members (event_id, user_id, seq, admitted_until) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
        "seq = excluded.seq, admitted_until = excluded.admitted_until "
        "WHERE excluded.seq >= queue_members.seq",
};

constexpr statements mysql_sql{
    .room =
        "INSERT INTO queue_rooms (event_id, opened, head, last_seq) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE opened = GREATEST(opened, VALUES(opened)), "
        "head = GREATEST(head, VALUES(head)), last_seq = GREATEST(last_seq, VALUES(last_seq))",
    .join =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON DUPLICATE KEY UPDATE "
        "admitted_until = IF(VALUES(seq) > seq, NULL, admitted_until), "
        "seq = GREATEST(seq, VALUES(seq))",
    .draw =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq))",
    .admit =
        "INSERT INTO queue_members (event_id, user_id, seq, admitted_until) "
        "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "admitted_until = IF(VALUES(seq) >= seq, VALUES(admitted_until), admitted_until), "
        "seq = GREATEST(seq, VALUES(seq))",
};

const statements& sql_of(const db::connection& c) {
    return c.kind() == db::dialect::mysql ? mysql_sql : sqlite_sql;
}

constexpr std::string_view remove_sql =
    "DELETE FROM queue_members WHERE event_id = ? AND user_id = ? AND seq = ?";

// A busy database (another writer held the lock past the busy timeout) is worth a few more
// tries before the write is given up; anything else is not.
template <class Write>
auto with_retries(Write write) -> decltype(write()) {
    std::optional<boost::asio::steady_timer> pause;
    for (int attempt = 0;; ++attempt) {
        auto r = co_await write();
        if (r || r.error().code != db::errc::busy || attempt == 3) co_return r;
        if (!pause) pause.emplace(co_await boost::asio::this_coro::executor);
        pause->expires_after(std::chrono::milliseconds(25 << (2 * attempt)));
        co_await pause->async_wait(boost::asio::use_awaitable);
    }
}

}  // namespace

journaled_waiting_room::journaled_waiting_room(restorable_waiting_room& engine, db::database& db)
    : engine_(engine), db_(db) {}

db::expected<std::map<event_id, saved_room>> journaled_waiting_room::read_rooms(
    db::connection& c, std::optional<event_id> only) {
    std::map<event_id, saved_room> rooms;
    auto heads = only ? c.exec(
                            "SELECT event_id, opened, head, last_seq FROM queue_rooms "
                            "WHERE event_id = ?",
                            {*only})
                      : c.exec("SELECT event_id, opened, head, last_seq FROM queue_rooms");
    if (!heads) return std::unexpected(heads.error());
    for (const auto& r : heads->rows) {
        auto& room = rooms[r.int64(0)];
        room.open = r.int64(1) != 0;
        room.head = r.int64(2);
        room.last_seq = r.int64(3);
    }
    auto members = only ? c.exec(
                              "SELECT event_id, user_id, seq, admitted_until FROM "
                              "queue_members WHERE event_id = ? ORDER BY seq",
                              {*only})
                        : c.exec(
                              "SELECT event_id, user_id, seq, admitted_until FROM "
                              "queue_members ORDER BY event_id, seq");
    if (!members) return std::unexpected(members.error());
    for (const auto& r : members->rows) {
        auto& room = rooms[r.int64(0)];
        saved_member m{.user = r.int64(1), .seq = r.int64(2), .admitted_until = std::nullopt};
        if (auto until = r.opt_int64(3)) {
            m.admitted_until = time_point{std::chrono::milliseconds{*until}};
        }
        // A drawn seq means the room had opened, whatever its own row says yet.
        if (m.seq > 0) room.open = true;
        room.members.push_back(m);
    }
    return rooms;
}

db::expected<std::size_t> journaled_waiting_room::load(time_point now) {
    auto rooms = db_.run_sync([](db::connection& c) { return read_rooms(c, std::nullopt); });
    if (!rooms) return std::unexpected(rooms.error());
    boost::asio::io_context here;
    for (auto& [e, saved] : *rooms) {
        auto op = engine_.restore(e, std::move(saved), now, restore_mode::replace);
        auto done = boost::asio::co_spawn(here, std::move(op), boost::asio::use_future);
        here.restart();
        here.run();
        done.get();  // an engine that failed to take the room throws (start-up fails)
    }
    return rooms->size();
}

awaitable<db::expected<std::size_t>> journaled_waiting_room::restore_all(time_point now,
                                                                         restore_mode mode) {
    auto rooms = co_await db_.run([](db::connection& c) { return read_rooms(c, std::nullopt); });
    if (!rooms) co_return std::unexpected(rooms.error());
    std::size_t restored = 0;
    for (auto& [e, saved] : *rooms) {
        auto op = engine_.restore(e, std::move(saved), now, mode);
        if (co_await std::move(op)) ++restored;
    }
    co_return restored;
}

awaitable<db::expected<bool>> journaled_waiting_room::restore_room(event_id e, time_point now) {
    auto rooms = co_await db_.run([e](db::connection& c) { return read_rooms(c, e); });
    if (!rooms) co_return std::unexpected(rooms.error());
    auto it = rooms->find(e);
    if (it == rooms->end()) co_return false;
    auto op = engine_.restore(e, std::move(it->second), now, restore_mode::only_if_absent);
    co_return co_await std::move(op);
}

awaitable<ticket> journaled_waiting_room::join(event_id e, user_id u, time_point now) {
    auto op = engine_.join(e, u, now);
    auto t = co_await std::move(op);
    if (!t.created) co_return t;
    auto written = co_await with_retries([&]() {
        return db_.write(
            [&](db::connection& c) {
                return c.exec(sql_of(c).join, {e, u, t.seq});
            },
            db::write_kind::one_statement);
    });
    if (written) co_return t;
    // Not durable: undo it, so that nobody holds a seq a restart would forget.
    log::error(
        "queue.journal_failed",
        {{"eventId", e}, {"userId", u}, {"write", "join"}, {"error", written.error().message}});
    auto undo = engine_.leave(e, u);
    if (auto gone = co_await std::move(undo)) {
        auto removal = record(e, std::nullopt, {change{change::kind::remove, u, *gone, 0}});
        co_await std::move(removal);
    }
    throw unavailable("the waiting room could not record the join: " + written.error().message);
}

awaitable<std::optional<ticket>> journaled_waiting_room::status(event_id e, user_id u,
                                                                time_point now) {
    return engine_.status(e, u, now);
}

awaitable<std::optional<seq_t>> journaled_waiting_room::leave(event_id e, user_id u) {
    auto op = engine_.leave(e, u);
    auto gone = co_await std::move(op);
    if (gone) {
        auto removal = record(e, std::nullopt, {change{change::kind::remove, u, *gone, 0}});
        co_await std::move(removal);
    }
    co_return gone;
}

awaitable<void> journaled_waiting_room::attach(event_id e, user_id u, time_point now) {
    return engine_.attach(e, u, now);
}

awaitable<void> journaled_waiting_room::detach(event_id e, user_id u, time_point now) {
    return engine_.detach(e, u, now);
}

awaitable<std::vector<std::pair<user_id, seq_t>>> journaled_waiting_room::open(event_id e,
                                                                               std::uint64_t seed) {
    auto op = engine_.open(e, seed);
    auto drawn = co_await std::move(op);
    auto stats = co_await engine_.stats(e);
    const room_row row{
        .opened = 1, .head = stats ? stats->head : 0, .last_seq = stats ? stats->last_seq : 0};
    std::vector<change> changes;
    changes.reserve(drawn.size());
    for (const auto& [u, seq] : drawn) changes.push_back({change::kind::draw, u, seq, 0});
    auto written = record(e, row, std::move(changes));
    co_await std::move(written);
    co_return drawn;
}

awaitable<tick_outcome> journaled_waiting_room::tick(event_id e, time_point now, room_settings s) {
    auto op = engine_.tick(e, now, s);
    auto out = co_await std::move(op);
    const bool changed =
        out.head != out.head_before || !out.admitted.empty() || !out.removed.empty();
    if (!changed && backlog_of(e) == 0) co_return out;
    std::optional<room_row> row;
    if (changed) {
        auto stats = co_await engine_.stats(e);
        row = room_row{.opened = stats && stats->open ? 1 : 0,
                       .head = out.head,
                       .last_seq = stats ? stats->last_seq : out.head};
    }
    std::vector<change> changes;
    changes.reserve(out.admitted.size() + out.removed.size());
    for (const auto& a : out.admitted)
        changes.push_back({change::kind::admit, a.user, a.seq, unix_ms(a.until)});
    for (const auto& d : out.removed) changes.push_back({change::kind::remove, d.user, d.seq, 0});
    auto written = record(e, row, std::move(changes));
    co_await std::move(written);
    co_return out;
}

awaitable<bool> journaled_waiting_room::admitted(event_id e, user_id u, seq_t seq, time_point now) {
    return engine_.admitted(e, u, seq, now);
}

awaitable<bool> journaled_waiting_room::use(event_id e, user_id u, seq_t seq, std::string hold,
                                            time_point now) {
    auto op = engine_.use(e, u, seq, std::move(hold), now);
    co_return co_await std::move(op);
}

awaitable<std::vector<std::pair<user_id, std::string>>> journaled_waiting_room::holds_in_use(
    event_id e) {
    return engine_.holds_in_use(e);
}

awaitable<std::vector<departure>> journaled_waiting_room::holds_ended(
    event_id e, std::vector<std::pair<user_id, std::string>> ended) {
    auto op = engine_.holds_ended(e, std::move(ended));
    auto freed = co_await std::move(op);
    if (!freed.empty()) {
        std::vector<change> changes;
        changes.reserve(freed.size());
        for (const auto& d : freed) changes.push_back({change::kind::remove, d.user, d.seq, 0});
        auto removal = record(e, std::nullopt, std::move(changes));
        co_await std::move(removal);
    }
    co_return freed;
}

awaitable<std::optional<room_stats>> journaled_waiting_room::stats(event_id e) {
    return engine_.stats(e);
}

awaitable<std::vector<std::string>> journaled_waiting_room::audit(event_id e,
                                                                  std::int32_t max_active) {
    return engine_.audit(e, max_active);
}

awaitable<std::vector<event_id>> journaled_waiting_room::rooms() {
    return engine_.rooms();
}

awaitable<void> journaled_waiting_room::drop(event_id e) {
    co_await engine_.drop(e);
    {
        // Whatever was queued for the room is moot now; its waiters are done.
        std::lock_guard lock(mutex_);
        if (auto it = backlog_.find(e); it != backlog_.end()) {
            it->second.row.reset();
            it->second.changes.clear();
            it->second.written = it->second.queued;
        }
    }
    auto written = co_await with_retries([&]() {
        return db_.write([&](db::connection& c) -> db::expected<void> {
            auto m = c.exec("DELETE FROM queue_members WHERE event_id = ?", {e});
            if (!m) return std::unexpected(m.error());
            auto r = c.exec("DELETE FROM queue_rooms WHERE event_id = ?", {e});
            if (!r) return std::unexpected(r.error());
            return {};
        });
    });
    check(written, "drop");
}

journaled_waiting_room::room_row journaled_waiting_room::max_of(const room_row& a,
                                                                const room_row& b) {
    return {std::max(a.opened, b.opened), std::max(a.head, b.head),
            std::max(a.last_seq, b.last_seq)};
}

db::expected<void> journaled_waiting_room::write_changes(db::connection& c, event_id e,
                                                         const room_row* row,
                                                         const std::vector<change>& changes) {
    if (row) {
        auto r = c.exec(sql_of(c).room, {e, row->opened, row->head, row->last_seq});
        if (!r) return std::unexpected(r.error());
    }
    for (const auto& ch : changes) {
        db::expected<db::query_result> r;
        switch (ch.what) {
            case change::kind::draw:
                r = c.exec(sql_of(c).draw, {e, ch.user, ch.seq});
                break;
            case change::kind::admit:
                r = c.exec(sql_of(c).admit, {e, ch.user, ch.seq, ch.admitted_until_ms});
                break;
            case change::kind::remove:
                r = c.exec(remove_sql, {e, ch.user, ch.seq});
                break;
        }
        if (!r) return std::unexpected(r.error());
    }
    return {};
}

std::size_t journaled_waiting_room::backlog() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [e, b] : backlog_) n += b.changes.size() + (b.row ? 1 : 0);
    return n;
}

std::size_t journaled_waiting_room::backlog_of(event_id e) const {
    std::lock_guard lock(mutex_);
    auto it = backlog_.find(e);
    return it == backlog_.end() ? 0 : it->second.changes.size() + (it->second.row ? 1 : 0);
}

awaitable<bool> journaled_waiting_room::record(event_id e, std::optional<room_row> row,
                                               std::vector<change> changes) {
    std::uint64_t mine = 0;
    {
        std::lock_guard lock(mutex_);
        auto& b = backlog_[e];
        if (row) b.row = b.row ? max_of(*b.row, *row) : *row;
        b.changes.insert(b.changes.end(), changes.begin(), changes.end());
        mine = ++b.queued;
    }
    std::optional<boost::asio::steady_timer> pause;
    for (;;) {
        std::optional<room_row> taken_row;
        std::vector<change> taken;
        std::uint64_t upto = 0;
        bool done = false;
        bool writer = false;
        {
            std::lock_guard lock(mutex_);
            auto& b = backlog_[e];
            if (b.written >= mine) {
                done = true;
            } else if (!b.writing) {
                b.writing = writer = true;
                taken_row = std::exchange(b.row, std::nullopt);
                taken = std::exchange(b.changes, {});
                upto = b.queued;
            }
        }
        if (done) co_return true;
        if (!writer) {
            // Another call is committing this room's backlog; ours goes with it or next.
            if (!pause) pause.emplace(co_await boost::asio::this_coro::executor);
            pause->expires_after(std::chrono::milliseconds(2));
            co_await pause->async_wait(boost::asio::use_awaitable);
            continue;
        }
        auto written = co_await with_retries([&]() {
            return db_.write([&](db::connection& c) -> db::expected<void> {
                return write_changes(c, e, taken_row ? &*taken_row : nullptr, taken);
            });
        });
        std::size_t left = 0;
        {
            std::lock_guard lock(mutex_);
            auto& b = backlog_[e];
            b.writing = false;
            if (written) {
                b.written = std::max(b.written, upto);
            } else {
                // Back in front of what came meanwhile, in order, for the next writer.
                if (taken_row) b.row = b.row ? max_of(*b.row, *taken_row) : *taken_row;
                b.changes.insert(b.changes.begin(), taken.begin(), taken.end());
                left = b.changes.size() + (b.row ? 1 : 0);
            }
        }
        if (!written) {
            log::error("queue.journal_failed", {{"eventId", e},
                                                {"write", "backlog"},
                                                {"queued", static_cast<std::int64_t>(left)},
                                                {"error", written.error().message}});
            co_return false;
        }
    }
}

}  // namespace tkt::waiting_room
