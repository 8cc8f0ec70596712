#include "waiting_room/journaled_waiting_room.hpp"

#include <map>
#include <stdexcept>

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

// The journal's upserts in each dialect: SQLite's ON CONFLICT … DO UPDATE / DO NOTHING, MySQL's
// ON DUPLICATE KEY UPDATE (a no-op assignment for DO NOTHING: INSERT IGNORE would also turn a
// bad value into a warning).
struct upserts {
    std::string_view room;
    std::string_view join;
    std::string_view draw;
    std::string_view admit;
};

constexpr upserts sqlite_upserts{
    .room =
        "INSERT INTO queue_rooms (event_id, opened, head, last_seq) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (event_id) DO UPDATE SET opened = MAX(opened, excluded.opened), "
        "head = MAX(head, excluded.head), last_seq = MAX(last_seq, excluded.last_seq)",
    .join =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id, user_id) DO NOTHING",
    .draw =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id, user_id) DO UPDATE SET seq = excluded.seq",
    .admit =
        "INSERT INTO queue_members (event_id, user_id, seq, admitted_until) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
        "seq = excluded.seq, admitted_until = excluded.admitted_until",
};

constexpr upserts mysql_upserts{
    .room =
        "INSERT INTO queue_rooms (event_id, opened, head, last_seq) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE opened = GREATEST(opened, VALUES(opened)), "
        "head = GREATEST(head, VALUES(head)), last_seq = GREATEST(last_seq, VALUES(last_seq))",
    .join =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON DUPLICATE KEY UPDATE seq = seq",
    .draw =
        "INSERT INTO queue_members (event_id, user_id, seq) VALUES (?, ?, ?) "
        "ON DUPLICATE KEY UPDATE seq = VALUES(seq)",
    .admit =
        "INSERT INTO queue_members (event_id, user_id, seq, admitted_until) "
        "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "seq = VALUES(seq), admitted_until = VALUES(admitted_until)",
};

const upserts& sql_of(const db::connection& c) {
    return c.kind() == db::dialect::mysql ? mysql_upserts : sqlite_upserts;
}

}  // namespace

journaled_waiting_room::journaled_waiting_room(memory_waiting_room& memory, db::database& db)
    : memory_(memory), db_(db) {}

db::expected<std::size_t> journaled_waiting_room::load(time_point now) {
    return db_.run_sync([&](db::connection& c) -> db::expected<std::size_t> {
        std::map<event_id, saved_room> rooms;
        auto heads = c.exec("SELECT event_id, opened, head, last_seq FROM queue_rooms");
        if (!heads) return std::unexpected(heads.error());
        for (const auto& r : heads->rows) {
            auto& room = rooms[r.int64(0)];
            room.open = r.int64(1) != 0;
            room.head = r.int64(2);
            room.last_seq = r.int64(3);
        }
        auto members = c.exec(
            "SELECT event_id, user_id, seq, admitted_until FROM queue_members "
            "ORDER BY event_id, seq");
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
        for (const auto& [e, saved] : rooms) memory_.restore(e, saved, now);
        return rooms.size();
    });
}

awaitable<ticket> journaled_waiting_room::join(event_id e, user_id u, time_point now) {
    auto op = memory_.join(e, u, now);
    auto t = co_await std::move(op);
    if (!t.created) co_return t;
    auto written = co_await db_.write(
        [&](db::connection& c) {
            return c.exec(sql_of(c).join, {e, u, t.seq});
        },
        db::write_kind::one_statement);
    check(written, "join");
    co_return t;
}

awaitable<std::optional<ticket>> journaled_waiting_room::status(event_id e, user_id u,
                                                                time_point now) {
    return memory_.status(e, u, now);
}

awaitable<bool> journaled_waiting_room::leave(event_id e, user_id u) {
    auto op = memory_.leave(e, u);
    const bool left = co_await std::move(op);
    if (left) {
        auto removal = remove_members(e, {u});
        co_await std::move(removal);
    }
    co_return left;
}

awaitable<void> journaled_waiting_room::remove_members(event_id e, std::vector<user_id> users) {
    if (users.empty()) co_return;
    auto written = co_await db_.write([&](db::connection& c) -> db::expected<void> {
        for (user_id u : users) {
            auto r = c.exec("DELETE FROM queue_members WHERE event_id = ? AND user_id = ?", {e, u});
            if (!r) return std::unexpected(r.error());
        }
        return {};
    });
    check(written, "remove");
}

awaitable<void> journaled_waiting_room::attach(event_id e, user_id u, time_point now) {
    return memory_.attach(e, u, now);
}

awaitable<void> journaled_waiting_room::detach(event_id e, user_id u, time_point now) {
    return memory_.detach(e, u, now);
}

awaitable<std::vector<std::pair<user_id, seq_t>>> journaled_waiting_room::open(event_id e,
                                                                               std::uint64_t seed) {
    auto op = memory_.open(e, seed);
    auto drawn = co_await std::move(op);
    auto stats = co_await memory_.stats(e);
    const seq_t head = stats ? stats->head : 0;
    const seq_t last = stats ? stats->last_seq : 0;
    auto written = co_await db_.write([&](db::connection& c) -> db::expected<void> {
        auto room = c.exec(sql_of(c).room, {e, std::int64_t{1}, head, last});
        if (!room) return std::unexpected(room.error());
        for (const auto& [u, seq] : drawn) {
            auto r = c.exec(sql_of(c).draw, {e, u, seq});
            if (!r) return std::unexpected(r.error());
        }
        return {};
    });
    check(written, "open");
    co_return drawn;
}

awaitable<tick_outcome> journaled_waiting_room::tick(event_id e, time_point now, room_settings s) {
    auto op = memory_.tick(e, now, s);
    auto out = co_await std::move(op);
    if (out.head == out.head_before && out.admitted.empty() && out.removed.empty()) co_return out;
    auto stats = co_await memory_.stats(e);
    const seq_t last = stats ? stats->last_seq : out.head;
    const std::int64_t opened = stats && stats->open ? 1 : 0;
    auto written = co_await db_.write([&](db::connection& c) -> db::expected<void> {
        auto room = c.exec(sql_of(c).room, {e, opened, out.head, last});
        if (!room) return std::unexpected(room.error());
        for (const auto& a : out.admitted) {
            auto r = c.exec(sql_of(c).admit, {e, a.user, a.seq, unix_ms(a.until)});
            if (!r) return std::unexpected(r.error());
        }
        for (user_id u : out.removed) {
            auto r = c.exec("DELETE FROM queue_members WHERE event_id = ? AND user_id = ?", {e, u});
            if (!r) return std::unexpected(r.error());
        }
        return {};
    });
    check(written, "tick");
    co_return out;
}

awaitable<bool> journaled_waiting_room::admitted(event_id e, user_id u, seq_t seq, time_point now) {
    co_return memory_.admitted_now(e, u, seq, now);
}

awaitable<bool> journaled_waiting_room::use(event_id e, user_id u, seq_t seq, std::string hold,
                                            time_point now) {
    auto op = memory_.use(e, u, seq, std::move(hold), now);
    co_return co_await std::move(op);
}

awaitable<std::vector<std::pair<user_id, std::string>>> journaled_waiting_room::holds_in_use(
    event_id e) {
    return memory_.holds_in_use(e);
}

awaitable<std::vector<user_id>> journaled_waiting_room::holds_ended(
    event_id e, std::vector<std::pair<user_id, std::string>> ended) {
    auto op = memory_.holds_ended(e, std::move(ended));
    auto freed = co_await std::move(op);
    auto removal = remove_members(e, freed);
    co_await std::move(removal);
    co_return freed;
}

awaitable<std::optional<room_stats>> journaled_waiting_room::stats(event_id e) {
    return memory_.stats(e);
}

awaitable<std::vector<std::string>> journaled_waiting_room::audit(event_id e,
                                                                  std::int32_t max_active) {
    return memory_.audit(e, max_active);
}

awaitable<std::vector<event_id>> journaled_waiting_room::rooms() {
    return memory_.rooms();
}

awaitable<void> journaled_waiting_room::drop(event_id e) {
    co_await memory_.drop(e);
    auto written = co_await db_.write([&](db::connection& c) -> db::expected<void> {
        auto m = c.exec("DELETE FROM queue_members WHERE event_id = ?", {e});
        if (!m) return std::unexpected(m.error());
        auto r = c.exec("DELETE FROM queue_rooms WHERE event_id = ?", {e});
        if (!r) return std::unexpected(r.error());
        return {};
    });
    check(written, "drop");
}

}  // namespace tkt::waiting_room
