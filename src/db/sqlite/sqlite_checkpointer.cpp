#include "db/sqlite/sqlite_checkpointer.hpp"

#include <string_view>
#include <utility>

#include <pthread.h>

#include <boost/json/object.hpp>

#include "common/assert.hpp"
#include "common/log.hpp"

namespace tkt::db {

sqlite_checkpointer::sqlite_checkpointer(std::string path, int pages)
    : path_(std::move(path)), pages_(pages) {
    TKT_ASSERT(pages_ >= 1);
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

void sqlite_checkpointer::watch(sqlite3* db) {
    sqlite3_wal_hook(db, &on_commit, this);
}

void sqlite_checkpointer::finish(sqlite3* db) {
    if (!tail_.load(std::memory_order_relaxed) || !tail_.exchange(false)) return;
    int log = -1;
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, nullptr) !=
            SQLITE_OK ||
        log < 0) {
        tail_ = true;  // busy (another checkpoint running) or failed: the next caller tries
        return;
    }
    std::lock_guard lock(mutex_);
    ++checkpoints_;
}

std::uint64_t sqlite_checkpointer::checkpoints() const {
    std::lock_guard lock(mutex_);
    return checkpoints_;
}

int sqlite_checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
    auto& me = *static_cast<sqlite_checkpointer*>(self);
    if (frames < me.pages_) return SQLITE_OK;
    if (me.unavailable_.load(std::memory_order_relaxed)) {
        // What SQLite's auto-checkpoint would do, in this commit.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return SQLITE_OK;
    }
    // The bulk is copied and the writer has yet to finish: nothing for the thread to do, unless
    // no writer comes to finish (writes through the pool only) and the log has grown by another
    // threshold meanwhile.
    if (me.tail_.load(std::memory_order_relaxed) && frames < 2 * me.pages_) return SQLITE_OK;
    {
        std::lock_guard lock(me.mutex_);
        if (me.wanted_) return SQLITE_OK;
        me.wanted_ = true;
    }
    me.wake_.notify_one();
    return SQLITE_OK;
}

bool sqlite_checkpointer::open_connection() {
    // NOMUTEX: only this thread uses the handle. A real read makes the handle open the log (a
    // checkpoint on a handle that has read nothing may find no log to copy), and its journal
    // mode must be WAL, or there is nothing to checkpoint.
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 1000);  // the first read may meet another process's recovery
        rc = sqlite3_exec(db, "PRAGMA mmap_size=268435456; SELECT 1 FROM sqlite_schema LIMIT 1",
                          nullptr, nullptr, nullptr);
    }
    bool wal = false;
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
    log::warn(
        "db.checkpointer_open_failed",
        {{"path", path_}, {"reason", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)}});
    sqlite3_close_v2(db);
    return false;
}

void sqlite_checkpointer::loop() {
    pthread_setname_np(pthread_self(), "tkt-checkpoint");  // for top -H, perf and bench/
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stop_ || wanted_; });
            if (stop_) break;
        }
        // Opened on the first checkpoint, so a database that never grows its log costs no
        // handle.
        bool ran = false;
        bool failed = false;
        if (db_ == nullptr && !open_connection()) {
            failed = true;
        } else {
            int log = -1;
            int copied = -1;
            const int rc =
                sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
            ran = rc == SQLITE_OK && log >= 0;
            // SQLITE_BUSY: a finishing checkpoint is running; anything else is trouble.
            failed = !ran && rc != SQLITE_BUSY;
            // Everything it saw is copied: the writer copies what came meanwhile. Otherwise a
            // reader keeps old frames in use, and a later commit asks again.
            if (ran && copied == log) tail_ = true;
        }
        failures_ = failed ? failures_ + 1 : 0;
        if (failures_ >= max_failures) {
            // The hook takes over for good: a log nobody copies would grow without bound.
            log::error("db.checkpointer_unavailable",
                       {{"path", path_},
                        {"reason", db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open"},
                        {"fallback", "checkpoints run inside commits"}});
            unavailable_ = true;
            break;
        }
        std::lock_guard lock(mutex_);
        wanted_ = false;
        if (ran) ++checkpoints_;
    }
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

}  // namespace tkt::db
