#pragma once
// Copies SQLite's write-ahead log into the database file on a thread of its own.
//
// SQLite's own auto-checkpoint runs inside the COMMIT that pushes the log past its threshold:
// that commit copies thousands of pages and waits for fdatasync(2) while every write queued
// behind it waits too. Here each connection's commit only reports the log's length (a WAL hook,
// which also switches the connection's auto-checkpoint off); past `pages` frames this thread
// copies the log with a PASSIVE checkpoint on a connection of its own, beside the writer and
// the readers (a passive checkpoint takes none of their locks).
//
// The log starts over only when a write transaction begins with every frame copied and no
// reader on it. Under a steady stream of commits the writer has always appended a few frames
// by the time the bulk is copied, so the writer finishes the job: once the bulk is done,
// `finish()` — which the database's writer calls between its batches, and the pool when a
// connection comes back, outside any transaction (connection::maintain) — copies the few frames
// left on that connection, and the next BEGIN starts the log over. The writer never waits for a
// lock for it, only for a short copy. A reader that keeps using old frames holds the log back, as
// it does with SQLite's own checkpoints; the next threshold crossing tries again.
//
// If this thread fails three times in a row (cannot open its connection, or a checkpoint
// fails other than busy), the hook checkpoints in the committing connection from then on
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
    // `path`: the database file; `pages`: the log length (frames) that asks for a checkpoint.
    sqlite_checkpointer(std::string path, int pages);
    ~sqlite_checkpointer();  // stops the thread; the last connection's close checkpoints the rest
    sqlite_checkpointer(const sqlite_checkpointer&) = delete;
    sqlite_checkpointer& operator=(const sqlite_checkpointer&) = delete;

    // Installs the WAL hook on a connection (before its first write).
    void watch(sqlite3* db);

    // On a connection outside any transaction: copies what the last bulk copy left, if it asked
    // for that (cheap to call otherwise).
    void finish(sqlite3* db);

    // Passive checkpoints so far (this thread's and finish()'s).
    std::uint64_t checkpoints() const;

private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
    bool open_connection();
    void loop();

    std::string path_;
    int pages_;
    sqlite3* db_ = nullptr;                 // this thread's connection
    std::atomic<bool> unavailable_{false};  // its connection failed: commits checkpoint inline
    std::atomic<bool> tail_{false};         // the bulk is copied: finish() copies the rest
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;
    bool stop_ = false;
    std::uint64_t checkpoints_ = 0;
    static constexpr int max_failures = 3;
    int failures_ = 0;    // in a row; this thread only
    std::thread thread_;  // last: started when everything above exists
};

}  // namespace tkt::db
