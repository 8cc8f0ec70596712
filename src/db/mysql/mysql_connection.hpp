#pragma once
// The MySQL/MariaDB engine of the Database port, over MariaDB Connector/C (libmariadb): one
// blocking `MYSQL*` per connection, lent to one DB thread at a time by the pool (database.hpp).
//
// What it promises, so that the stores run unchanged on either engine:
// - every statement is a server-side prepared statement, cached per connection by SQL text;
//   values travel bound (NULL, int64, double, text), never spliced into SQL;
// - rows come back as the SQLite engine hands them: integers as int64, FLOAT/DOUBLE and
//   fractional DECIMAL as double (a DECIMAL without a fraction, such as SUM() of a BIGINT, as
//   int64), everything else as text;
// - affected_rows counts the rows a statement matched, as SQLite does (CLIENT_FOUND_ROWS), so a
//   compare-and-set that sets a value to what it was still reports its row;
// - transactions are SERIALIZABLE, the nearest InnoDB has to SQLite's one writer at a time: a
//   check-then-write that is safe on SQLite is safe here, at the price of deadlocks between
//   overlapping writers. InnoDB rolls a deadlock's victim back entirely; the connection then
//   refuses every statement with `busy` until rollback(), and counts it (deadlocks()) so that
//   database::transact() and write() re-run the whole transaction;
// - `||` concatenates (sql_mode PIPES_AS_CONCAT), a backslash in a literal is a backslash
//   (NO_BACKSLASH_ESCAPES, as in `ESCAPE '\'`), strict mode refuses bad values, text is
//   utf8mb4 and compares byte for byte (tables use utf8mb4_nopad_bin, migrations/mysql);
// - every call to the server has a deadline (connect, read and write timeouts; lock waits end
//   after the pool's busy timeout). A lost connection fails its statement with `io` and is
//   opened again on next use outside a transaction; inside one, the transaction is lost and
//   the connection stays refused until rollback().
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/database.hpp"
#include "db/mysql/mysql_url.hpp"

struct st_mysql;
struct st_mysql_stmt;

namespace tkt::db {

struct mysql_options {
    mysql_url url;
    unsigned connect_timeout_s = 5;
    unsigned read_timeout_s = 30;  // one server reply; longer than any lock wait
    unsigned write_timeout_s = 30;
    int lock_wait_timeout_ms = 5000;  // innodb_lock_wait_timeout (whole seconds, at least 1)
    // Distinct SQL texts kept prepared; past it the cache is emptied (IN lists of varying
    // length must not grow it, nor the server's prepared statement count, without bound).
    std::size_t statement_cache_max = 256;
};

// Maps a MySQL/MariaDB error number (server or client) to the port's error codes.
errc map_mysql_error(unsigned code);

class mysql_connection final : public connection {
public:
    // Connects and configures the session; the error carries the server's message.
    static expected<std::unique_ptr<connection>> open(const mysql_options& options);
    ~mysql_connection() override;
    mysql_connection(const mysql_connection&) = delete;
    mysql_connection& operator=(const mysql_connection&) = delete;

    using connection::exec;
    expected<query_result> exec(std::string_view sql, std::span<const value> params) override;
    expected<void> exec_script(std::string_view sql) override;
    expected<void> begin() override;
    expected<void> commit() override;
    expected<void> rollback() override;
    dialect kind() const override { return dialect::mysql; }
    bool transaction_open() const override { return transaction_ != transaction_state::none; }
    std::int64_t total_changes() const override { return total_changes_; }
    std::uint64_t deadlocks() const override { return deadlocks_; }

private:
    struct statement;
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    // aborted: the server ended the transaction (a deadlock's victim, a lost connection) but
    // the caller has not rolled back yet; statements are refused meanwhile.
    enum class transaction_state { none, open, aborted };

    explicit mysql_connection(mysql_options options);
    expected<void> connect();
    void disconnect();
    expected<void> usable();
    expected<statement*> prepare(std::string_view sql);
    expected<query_result> exec_prepared(statement& s, std::span<const value> params);
    expected<query_result> exec_text(std::string_view sql);
    expected<void> control(std::string_view sql);
    error failure(unsigned code, const char* message);
    error failure_in_result(st_mysql_stmt* stmt);

    mysql_options options_;
    st_mysql* db_ = nullptr;
    bool broken_ = false;  // the connection was lost: reopen before the next statement
    // When the connection was last found usable: one idle longer than a second is pinged
    // before its next statement outside a transaction, so that a server restarted meanwhile
    // costs a reconnect, not a failed statement.
    std::chrono::steady_clock::time_point last_used_{};
    transaction_state transaction_ = transaction_state::none;
    std::int64_t total_changes_ = 0;
    std::uint64_t deadlocks_ = 0;
    unsigned last_errno_ = 0;  // of the last failure, for exec()'s text-protocol fallback
    std::unordered_map<std::string, std::unique_ptr<statement>, text_hash, std::equal_to<>>
        statements_;
};

class mysql_connection_factory final : public connection_factory {
public:
    explicit mysql_connection_factory(mysql_options options) : options_(std::move(options)) {}
    expected<std::unique_ptr<connection>> open() override {
        return mysql_connection::open(options_);
    }

private:
    mysql_options options_;
};

}  // namespace tkt::db
