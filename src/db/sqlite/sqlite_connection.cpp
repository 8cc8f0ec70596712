#include "db/sqlite/sqlite_connection.hpp"

#include <utility>

#include <fmt/format.h>

#include "common/assert.hpp"
#include "common/log.hpp"

namespace tkt::db {
namespace {

// Resets a cached statement and drops its bindings on every way out of exec(), so the next
// user starts clean and no bound text outlives the caller's parameters (they are bound
// SQLITE_STATIC, without a copy).
struct statement_reset {
    sqlite3_stmt* stmt;
    ~statement_reset() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
};

// True when `tail` (what follows the first statement) holds another statement, not just
// blanks, semicolons or comments: exec() would silently skip it.
bool holds_a_statement(sqlite3* db, std::string_view tail) {
    if (tail.find_first_not_of(" \t\r\n;") == std::string_view::npos) {
        return false;
    }
    sqlite3_stmt* next = nullptr;
    int rc = sqlite3_prepare_v2(db, tail.data(), static_cast<int>(tail.size()), &next, nullptr);
    sqlite3_finalize(next);
    return rc != SQLITE_OK || next != nullptr;
}

value read_column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
            return std::int64_t{sqlite3_column_int64(stmt, i)};
        case SQLITE_FLOAT:
            return sqlite3_column_double(stmt, i);
        case SQLITE_NULL:
            return nullptr;
        default: {
            // TEXT and BLOB: take the pointer first, then the size, as SQLite documents.
            const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
            auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
            return std::string(data == nullptr ? "" : data, data == nullptr ? 0 : size);
        }
    }
}

}  // namespace

errc map_sqlite_error(int extended_code) {
    switch (extended_code & 0xff) {
        case SQLITE_CONSTRAINT:
            return extended_code == SQLITE_CONSTRAINT_UNIQUE ||
                           extended_code == SQLITE_CONSTRAINT_PRIMARYKEY
                       ? errc::constraint_unique
                       : errc::constraint_other;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return errc::busy;
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
            return errc::misuse;
        default:
            return errc::io;
    }
}

sqlite_connection::sqlite_connection(sqlite3* handle, std::size_t statement_cache_max)
    : db_(handle), statement_cache_max_(statement_cache_max) {}

sqlite_connection::~sqlite_connection() {
    // Statements must be finalized before the handle closes; closing rolls back an open
    // transaction, which is how the pool disposes of a connection left inside one.
    statements_.clear();
    sqlite3_close_v2(db_);
}

expected<std::unique_ptr<connection>> sqlite_connection::open(
    const sqlite_options& options, std::shared_ptr<sqlite_checkpointer> checkpointer) {
    // Before SQLite initialises itself, once: no allocation statistics, which SQLite would
    // otherwise keep under one process-wide mutex taken on every malloc and free. Too late (an
    // earlier user initialised SQLite) only means the statistics stay on.
    static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    static_cast<void>(configured);
    sqlite3* handle = nullptr;
    // NOMUTEX: the pool guarantees one thread per connection at a time, so SQLite's own
    // per-connection mutex would only cost.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(options.path.c_str(), &handle, flags, nullptr);
    if (rc != SQLITE_OK) {
        error e{map_sqlite_error(rc),
                fmt::format("cannot open {}: {}", options.path,
                            handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc))};
        sqlite3_close_v2(handle);  // SQLite allocates a handle even when the open fails
        return std::unexpected(std::move(e));
    }
    std::unique_ptr<sqlite_connection> c(
        new sqlite_connection(handle, options.statement_cache_max));
    if (auto configured = c->configure(options.busy_timeout_ms); !configured) {
        return std::unexpected(std::move(configured.error()));
    }
    if (checkpointer != nullptr) {
        // Replaces the auto-checkpoint configure() set: one hook per connection.
        checkpointer->watch(c->db_);
        c->checkpointer_ = std::move(checkpointer);
    }
    return c;
}

expected<void> sqlite_connection::configure(int busy_timeout_ms) {
    sqlite3_extended_result_codes(db_, 1);
    // The busy timeout comes first: switching to WAL needs a lock another process may hold.
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    auto mode = exec("PRAGMA journal_mode=WAL");
    if (!mode) {
        return std::unexpected(std::move(mode.error()));
    }
    if (mode->rows.size() != 1 || mode->rows[0].text(0) != "wal") {
        // Concurrent readers and the one-writer queue rely on WAL; refuse to run without it.
        return std::unexpected(error{errc::io, "SQLite refused journal_mode=WAL"});
    }
    // synchronous=FULL in WAL mode: a commit is on disk (the log fsynced) before it returns, so
    // every commit that answers a client or comes before a call to the payment provider (a
    // CONFIRMING, a REFUNDING) survives a power loss, not only the process dying (issue 10;
    // docs/benchmarks.md has what it costs: one fsync per group commit). A 16 MiB page cache
    // per connection and reads through mmap keep the hot pages of orders in memory; a WAL
    // checkpoint every 4,000 pages (16 MiB) rewrites a hot page into the database file once
    // per checkpoint, not once per 1,000 pages. That setting holds for a connection opened on
    // its own; the factory's connections hand checkpoints to its checkpointer instead (open()),
    // whose hook replaces this one, so nothing may set wal_autocheckpoint after open().
    return exec_script(
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384; "
        "PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=4000;");
}

// In WAL mode SQLite drops a connection's whole memory map (and its page cache) when it begins
// a read after another connection committed, and maps the file again on the next page it
// reads. On the pool's connections that is every read after every group commit: an munmap, an
// mmap and page faults each time, and the munmap makes the kernel flush the TLBs of every CPU
// running a thread of the process. So they read through their page cache (pread) instead. The
// writer keeps the map: its own commits do not make it remap, and its inserts read the indexes
// it has just written.
void sqlite_connection::join_pool() {
    if (auto r = exec("PRAGMA mmap_size=0"); !r)
        log::warn("db.pragma_failed", {{"pragma", "mmap_size=0"}, {"error", r.error().message}});
}

error sqlite_connection::last_error(int code) const {
    return error{map_sqlite_error(code), sqlite3_errmsg(db_)};
}

expected<sqlite3_stmt*> sqlite_connection::prepare(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) {
        return it->second.get();
    }
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    statement_ptr stmt(raw);
    if (rc != SQLITE_OK) {
        return std::unexpected(last_error(rc));
    }
    if (stmt == nullptr) {
        return std::unexpected(error{errc::misuse, "empty SQL statement"});
    }
    auto consumed = static_cast<std::size_t>(tail - sql.data());
    if (holds_a_statement(db_, sql.substr(consumed))) {
        return std::unexpected(
            error{errc::misuse, "exec() runs one statement; use exec_script() for several"});
    }
    if (statements_.size() >= statement_cache_max_) {
        statements_.clear();
    }
    auto [it, inserted] = statements_.emplace(std::string(sql), std::move(stmt));
    TKT_ASSERT(inserted);
    return it->second.get();
}

expected<void> sqlite_connection::bind(sqlite3_stmt* stmt, std::span<const value> params) {
    int expected_count = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(expected_count) != params.size()) {
        return std::unexpected(
            error{errc::misuse, fmt::format("the statement has {} parameters, {} were given",
                                            expected_count, params.size())});
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        int index = static_cast<int>(i) + 1;
        int rc = std::visit(
            [&](const auto& v) -> int {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, std::nullptr_t>) {
                    return sqlite3_bind_null(stmt, index);
                } else if constexpr (std::is_same_v<V, std::int64_t>) {
                    return sqlite3_bind_int64(stmt, index, v);
                } else if constexpr (std::is_same_v<V, double>) {
                    return sqlite3_bind_double(stmt, index, v);
                } else {
                    return sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_STATIC,
                                               SQLITE_UTF8);
                }
            },
            params[i]);
        if (rc != SQLITE_OK) {
            return std::unexpected(last_error(rc));
        }
    }
    return {};
}

expected<query_result> sqlite_connection::step_all(sqlite3_stmt* stmt) {
    query_result result;
    int columns = sqlite3_column_count(stmt);
    for (;;) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            return std::unexpected(last_error(rc));
        }
        std::vector<value> cols;
        cols.reserve(static_cast<std::size_t>(columns));
        for (int i = 0; i < columns; ++i) {
            cols.push_back(read_column(stmt, i));
        }
        result.rows.emplace_back(std::move(cols));
    }
    // sqlite3_changes64 and the rowid keep the last write's values, so a SELECT reports 0.
    if (!sqlite3_stmt_readonly(stmt)) {
        result.affected_rows = sqlite3_changes64(db_);
        result.last_insert_id = sqlite3_last_insert_rowid(db_);
    }
    return result;
}

expected<query_result> sqlite_connection::exec(std::string_view sql,
                                               std::span<const value> params) {
    auto stmt = prepare(sql);
    if (!stmt) {
        return std::unexpected(std::move(stmt.error()));
    }
    statement_reset reset{*stmt};
    if (auto bound = bind(*stmt, params); !bound) {
        return std::unexpected(std::move(bound.error()));
    }
    return step_all(*stmt);
}

expected<void> sqlite_connection::exec_script(std::string_view sql) {
    std::string script(sql);  // sqlite3_exec wants a NUL-terminated string
    char* message = nullptr;
    int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) {
        return {};
    }
    error e{map_sqlite_error(sqlite3_extended_errcode(db_)),
            message ? message : sqlite3_errstr(rc)};
    sqlite3_free(message);
    return std::unexpected(std::move(e));
}

expected<void> sqlite_connection::begin() {
    // IMMEDIATE takes the write lock now, so writers queue (busy timeout) at the start instead
    // of failing with SQLITE_BUSY midway when a read would have to become a write.
    auto r = exec("BEGIN IMMEDIATE");
    if (!r) {
        return std::unexpected(std::move(r.error()));
    }
    return {};
}

expected<void> sqlite_connection::commit() {
    auto r = exec("COMMIT");
    if (!r) {
        return std::unexpected(std::move(r.error()));
    }
    return {};
}

expected<void> sqlite_connection::rollback() {
    // Some errors (SQLITE_FULL, SQLITE_IOERR, an interrupted statement) make SQLite roll the
    // transaction back by itself; a second ROLLBACK would only fail with "no transaction".
    if (!transaction_open()) {
        return {};
    }
    auto r = exec("ROLLBACK");
    if (!r) {
        return std::unexpected(std::move(r.error()));
    }
    return {};
}

bool sqlite_connection::transaction_open() const {
    return sqlite3_get_autocommit(db_) == 0;
}

std::int64_t sqlite_connection::total_changes() const {
    return sqlite3_total_changes64(db_);
}

void sqlite_connection::maintain() {
    if (checkpointer_ != nullptr && !transaction_open()) checkpointer_->finish(db_);
}

}  // namespace tkt::db
