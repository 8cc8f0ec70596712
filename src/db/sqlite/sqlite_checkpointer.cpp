#include "db/sqlite/sqlite_checkpointer.hpp"

#include <utility>

#include "common/assert.hpp"

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

void sqlite_checkpointer::watch(sqlite3* db) { sqlite3_wal_hook(db, &on_commit, this); }

std::uint64_t sqlite_checkpointer::checkpoints() const {
    std::lock_guard lock(mutex_);
    return checkpoints_;
}

int sqlite_checkpointer::on_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int frames) {
    auto& me = *static_cast<sqlite_checkpointer*>(self);
    if (frames < me.pages_) return SQLITE_OK;
    {
        std::lock_guard lock(me.mutex_);
        if (me.wanted_) return SQLITE_OK;
        me.wanted_ = true;
    }
    me.wake_.notify_one();
    return SQLITE_OK;
}

void sqlite_checkpointer::loop() {
    // Opened on the first checkpoint, so a database that never grows its log costs no handle.
    sqlite3* db = nullptr;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stop_ || wanted_; });
            if (stop_) break;
        }
        if (db == nullptr) {
            // NOMUTEX: only this thread uses the handle. A fresh handle does not know the file
            // is in WAL mode until it reads it (a checkpoint would do nothing): asking for the
            // mode the file already has opens the log. Reads go through mmap as elsewhere.
            int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
            if (rc == SQLITE_OK) {
                // How long the restart below waits for the writer's transaction to end.
                sqlite3_busy_timeout(db, 1000);
                rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA mmap_size=268435456", nullptr, nullptr, nullptr);
            }
            if (rc != SQLITE_OK) {
                // The next commit past the threshold asks again; the log only grows meanwhile.
                sqlite3_close_v2(db);
                db = nullptr;
            }
        }
        bool ran = false;
        if (db != nullptr) {
            // First the bulk, beside the writer. Under a steady stream of commits that alone
            // would never let the log start over (a restart needs every frame copied when the
            // next write transaction begins), so a RESTART follows: it holds new write
            // transactions back (the writer's BEGIN waits, busy timeout) while it copies the
            // few frames committed meanwhile, and the log starts over. SQLITE_BUSY (a reader or
            // writer still in the way after the timeout) is not an error: the next commit past
            // the threshold asks again.
            int log = -1;
            ran = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, nullptr) == SQLITE_OK &&
                  log >= 0;
            if (ran) sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
        }
        std::lock_guard lock(mutex_);
        wanted_ = false;
        if (ran) ++checkpoints_;
    }
    sqlite3_close_v2(db);
}

}  // namespace tkt::db
