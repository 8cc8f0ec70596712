#pragma once
// The SQLite engine of the Database port: one `sqlite3*` per connection, opened without
// SQLite's own mutex because the pool lends a connection to one thread at a time. Every
// connection runs in WAL mode (readers never wait for the writer), synchronous=FULL (the log is
// fsynced at every commit, so an acknowledged commit survives a power cut), foreign keys on, and
// waits `busy_timeout_ms` for the write lock before failing.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "db/database.hpp"
#include "db/sqlite/sqlite_checkpointer.hpp"

namespace tkt::db {

struct sqlite_options {
    std::string path;            // the database file; created when missing
    int busy_timeout_ms = 5000;  // wait for another connection's write lock
    // Distinct SQL texts kept prepared; past it the cache is emptied (SQL built at run time,
    // e.g. IN lists of varying length, must not grow it without bound).
    std::size_t statement_cache_max = 256;
    // The log length (pages) past which the factory's checkpointer copies the WAL into the
    // database file on its own thread (sqlite_checkpointer.hpp); 0: each connection checkpoints
    // in its own commits, as SQLite does by default (connections opened without a factory do).
    int checkpoint_pages = 4000;
};

// Maps an extended SQLite result code to the port's error codes.
errc map_sqlite_error(int extended_code);

class sqlite_connection final : public connection {
public:
    // Opens and configures a connection; the error carries SQLite's message.
    // With a `checkpointer`, the connection leaves checkpoints to it (it keeps it alive).
    static expected<std::unique_ptr<connection>> open(
        const sqlite_options& options, std::shared_ptr<sqlite_checkpointer> checkpointer = nullptr);
    ~sqlite_connection() override;
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    using connection::exec;
    expected<query_result> exec(std::string_view sql, std::span<const value> params) override;
    expected<void> exec_script(std::string_view sql) override;
    expected<void> begin() override;
    expected<void> commit() override;
    expected<void> rollback() override;
    dialect kind() const override { return dialect::sqlite; }
    bool transaction_open() const override;
    std::int64_t total_changes() const override;
    void maintain() override;
    void join_pool() override;

private:
    struct statement_deleter {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_deleter>;
    // Lets the cache be searched with a string_view, without building a std::string per call.
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };

    sqlite_connection(sqlite3* handle, std::size_t statement_cache_max);
    expected<void> configure(int busy_timeout_ms);
    expected<sqlite3_stmt*> prepare(std::string_view sql);
    expected<void> bind(sqlite3_stmt* stmt, std::span<const value> params);
    expected<query_result> step_all(sqlite3_stmt* stmt);
    error last_error(int code) const;

    sqlite3* db_;
    std::size_t statement_cache_max_;
    std::shared_ptr<sqlite_checkpointer> checkpointer_;  // before statements_: outlives the handle
    std::unordered_map<std::string, statement_ptr, text_hash, std::equal_to<>> statements_;
};

class sqlite_connection_factory final : public connection_factory {
public:
    explicit sqlite_connection_factory(sqlite_options options)
        : options_(std::move(options)),
          checkpointer_(
              options_.checkpoint_pages > 0
                  ? std::make_shared<sqlite_checkpointer>(options_.path, options_.checkpoint_pages)
                  : nullptr) {}
    expected<std::unique_ptr<connection>> open() override {
        return sqlite_connection::open(options_, checkpointer_);
    }
    std::uint64_t checkpoints() const override {
        return checkpointer_ ? checkpointer_->checkpoints() : 0;
    }

private:
    sqlite_options options_;
    std::shared_ptr<sqlite_checkpointer> checkpointer_;
};

}  // namespace tkt::db
