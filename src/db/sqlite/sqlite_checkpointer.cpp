#include "db/sqlite/sqlite_checkpointer.hpp"

#include <chrono>
#include <string_view>
#include <utility>

#include <boost/json/object.hpp>

#include "common/assert.hpp"
#include "common/log.hpp"

namespace tkt::db {

sqlite_checkpointer::sqlite_checkpointer(std::string path, int pages, int restart_budget_ms)
    : path_(std::move(path)), pages_(pages), restart_budget_ms_(restart_budget_ms) {
    TKT_ASSERT(pages_ >= 1);
    TKT_ASSERT(restart_budget_ms_ >= 0);
    thread_ = std::thread([this] { loop(); });
}

sqlite_checkpointer::~sqlite_checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void sqlite_checkpointer::watch(sqlite3* db) { sqlite3_wal_hook(db, &on_commit, this); }

std::uint64_t sqlite_checkpointer::checkpoints() const {
    std::lock_guard lock(mutex_);
    return checkpoints_;
}

std::uint64_t sqlite_checkpointer::restarts() const {
    std::lock_guard lock(mutex_);
    return restarts_;
}

int sqlite_checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
    auto& me = *static_cast<sqlite_checkpointer*>(self);
    if (frames < me.pages_) return SQLITE_OK;
    if (me.unavailable_.load(std::memory_order_relaxed)) {
        // What SQLite's auto-checkpoint would do, in this commit.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return SQLITE_OK;
    }
    {
        std::lock_guard lock(me.mutex_);
        if (me.wanted_) return SQLITE_OK;
        me.wanted_ = true;
    }
    me.wake_.notify_one();
    return SQLITE_OK;
}

int sqlite_checkpointer::restart_busy(void* self, int attempts) {
    // 1 ms steps up to the budget (SQLite's own handler sleeps up to 100 ms at a time).
    const auto& me = *static_cast<const sqlite_checkpointer*>(self);
    if (attempts >= me.restart_budget_ms_) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 1;
}

bool sqlite_checkpointer::open_connection() {
    // NOMUTEX: only this thread uses the handle. A real read makes the handle open the log (a
    // checkpoint on a handle that has read nothing may find no log to copy), and its journal
    // mode must be WAL, or there is nothing to checkpoint.
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    bool wal = false;
    if (rc == SQLITE_OK) {
        sqlite3_busy_handler(db, &restart_busy, this);
        rc = sqlite3_exec(db, "PRAGMA mmap_size=268435456; SELECT 1 FROM sqlite_schema LIMIT 1", nullptr, nullptr,
                          nullptr);
    }
    sqlite3_stmt* mode = nullptr;
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &mode, nullptr);
    if (rc == SQLITE_OK && sqlite3_step(mode) == SQLITE_ROW) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(mode, 0));
        wal = text != nullptr && std::string_view(text) == "wal";
    }
    sqlite3_finalize(mode);
    if (rc == SQLITE_OK && wal) {
        db_ = db;
        return true;
    }
    log::error("db.checkpointer_unavailable",
               {{"path", path_}, {"reason", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)},
                {"fallback", "checkpoints run inside commits"}});
    sqlite3_close_v2(db);
    return false;
}

void sqlite_checkpointer::loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stop_ || wanted_; });
            if (stop_) break;
        }
        // Opened on the first checkpoint, so a database that never grows its log costs no
        // handle. Failing that, the hook takes over for good.
        if (db_ == nullptr && !open_connection()) {
            unavailable_ = true;
            break;
        }
        int log = -1;
        int copied = -1;
        const bool ran =
            sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK && log >= 0;
        // A reader still using old frames stopped the passive round short: a restart would
        // only wait for it.
        const bool restarted = ran && copied == log && restart_budget_ms_ > 0 &&
                               sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr) ==
                                   SQLITE_OK;
        std::lock_guard lock(mutex_);
        wanted_ = false;
        if (ran) ++checkpoints_;
        if (restarted) ++restarts_;
    }
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

}  // namespace tkt::db
