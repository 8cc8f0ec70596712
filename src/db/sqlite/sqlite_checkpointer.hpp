#pragma once
// Copies SQLite's write-ahead log into the database file on a thread of its own.
//
// SQLite's own auto-checkpoint runs inside the COMMIT that pushes the log past its threshold:
// that commit copies thousands of pages and waits for fdatasync(2) while every write queued
// behind it waits too. Here each connection's commit only reports the log's length (a WAL hook,
// which also switches the connection's auto-checkpoint off); past `pages` frames this thread
// runs a PASSIVE checkpoint with a connection of its own. A passive checkpoint never blocks a
// reader or the writer; frames still in use by a reader are left for the next round, and the
// next write transaction after a complete checkpoint starts the log over from its beginning.
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

    // Checkpoints run so far (for /metrics and tests).
    std::uint64_t checkpoints() const;

private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
    void loop();

    std::string path_;
    int pages_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;
    bool stop_ = false;
    std::uint64_t checkpoints_ = 0;
    std::thread thread_;  // last: started when everything above exists
};

}  // namespace tkt::db
