#pragma once
// Copies SQLite's write-ahead log into the database file on a thread of its own.
//
// SQLite's own auto-checkpoint runs inside the COMMIT that pushes the log past its threshold:
// that commit copies thousands of pages and waits for fdatasync(2) while every write queued
// behind it waits too. Here each connection's commit only reports the log's length (a WAL hook,
// which also switches the connection's auto-checkpoint off); past `pages` frames this thread
// copies the log with a connection of its own:
//
// 1. PASSIVE: the bulk, beside the writer and the readers (it never takes their locks).
// 2. RESTART, only when the passive round copied everything it saw: it holds new write
//    transactions back (briefly: at most `restart_budget_ms`, its busy handler's budget) while
//    it copies the frames committed meanwhile, so that the next write transaction can start the
//    log over. Under a steady stream of commits a passive checkpoint alone never leaves every
//    frame copied at the moment a write transaction begins, and the log grew to 150 MB in a
//    10-second benchmark. A reader in the way makes it give up (SQLITE_BUSY) until the next
//    threshold crossing; the writer waits at most the budget.
//
// If this thread cannot open its connection, the hook checkpoints in the committing connection
// (SQLite's default behaviour), so the log never grows without bound.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include <sqlite3.h>

namespace tkt::db {

class sqlite_checkpointer {
public:
    // `path`: the database file; `pages`: the log length (frames) that asks for a checkpoint;
    // `restart_budget_ms`: how long a RESTART may keep the writer waiting (0: never restart).
    sqlite_checkpointer(std::string path, int pages, int restart_budget_ms);
    ~sqlite_checkpointer();  // stops the thread; the last connection's close checkpoints the rest
    sqlite_checkpointer(const sqlite_checkpointer&) = delete;
    sqlite_checkpointer& operator=(const sqlite_checkpointer&) = delete;

    // Installs the WAL hook on a connection (before its first write).
    void watch(sqlite3* db);

    // Passive checkpoints run so far, and the restarts among them that succeeded.
    std::uint64_t checkpoints() const;
    std::uint64_t restarts() const;

private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
    static int restart_busy(void* self, int attempts);
    bool open_connection();
    void loop();

    std::string path_;
    int pages_;
    int restart_budget_ms_;
    sqlite3* db_ = nullptr;  // this thread's connection
    std::atomic<bool> unavailable_{false};  // its connection failed: commits checkpoint inline
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;
    bool stop_ = false;
    std::uint64_t checkpoints_ = 0;
    std::uint64_t restarts_ = 0;
    std::thread thread_;  // last: started when everything above exists
};

}  // namespace tkt::db
