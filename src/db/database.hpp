#pragma once
// The `Database` port (DESIGN.md §4): the source of truth for users, events, orders, payments,
// tickets, notifications and the outbox.
//
// A `database` owns a small pool of blocking connections and a thread pool that runs them.
// Domain code never touches a connection on an I/O thread: it hands a function to `run()` or
// `transact()`, which execute it on a DB thread with a connection checked out for the call, and
// resume the awaiting coroutine on its own executor afterwards. A connection is used by one
// thread at a time. Statements use `?` placeholders in both dialects (SQLite, MySQL).
//
// Hot writes go through `write()` instead: one writer thread with its own connection takes every
// write queued meanwhile and commits them in one transaction (group commit), each inside its own
// savepoint (or, for a one-statement write, the statement's own atomicity) so that one failing
// write rolls back alone. Under load a commit carries many writes; alone, a write costs what
// `transact()` costs.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <expected>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tkt::db {

// Operating errors of the store. `constraint_unique` is a business signal the caller maps.
// `unavailable`: the database server cannot be reached (refused, lost, shutting down) — nothing
// was done, or for a statement in flight the outcome is unknown; it comes back by itself.
enum class errc { constraint_unique, constraint_other, busy, io, misuse, not_found, unavailable };

struct error {
    errc code = errc::io;
    std::string message;  // the engine's own message
};

template <class T>
using expected = std::expected<T, error>;

using value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

// One result row. Column access by index, in SELECT order.
class row {
public:
    explicit row(std::vector<value> cols) : cols_(std::move(cols)) {}
    std::size_t size() const { return cols_.size(); }
    bool is_null(std::size_t i) const {
        return std::holds_alternative<std::nullptr_t>(cols_.at(i));
    }
    std::int64_t int64(std::size_t i) const;       // NULL → 0
    double real(std::size_t i) const;              // NULL → 0.0
    const std::string& text(std::size_t i) const;  // NULL → ""
    std::optional<std::int64_t> opt_int64(std::size_t i) const;
    std::optional<std::string> opt_text(std::size_t i) const;
    const value& at(std::size_t i) const { return cols_.at(i); }

private:
    std::vector<value> cols_;
};

struct query_result {
    std::vector<row> rows;
    std::int64_t affected_rows = 0;   // for INSERT/UPDATE/DELETE
    std::int64_t last_insert_id = 0;  // for INSERT into a table with an integer key
};

enum class dialect { sqlite, mysql };

// A blocking connection. Prepared statements are cached per connection by SQL text.
class connection {
public:
    virtual ~connection() = default;
    virtual expected<query_result> exec(std::string_view sql, std::span<const value> params) = 0;
    expected<query_result> exec(std::string_view sql, std::initializer_list<value> params = {}) {
        return exec(sql, std::span<const value>(params.begin(), params.size()));
    }
    // Runs a script of several statements without parameters (migrations).
    virtual expected<void> exec_script(std::string_view sql) = 0;
    // A write transaction (SQLite: BEGIN IMMEDIATE, so writers queue at the start, not midway).
    virtual expected<void> begin() = 0;
    virtual expected<void> commit() = 0;
    virtual expected<void> rollback() = 0;
    virtual dialect kind() const = 0;
    // True while a transaction is open. The pool discards a connection that comes back inside
    // one (a failed ROLLBACK, or a run() body that forgot to COMMIT), so that no lease ever
    // starts within someone else's transaction.
    virtual bool transaction_open() const = 0;
    // Rows inserted, updated or deleted through this connection since it opened.
    virtual std::int64_t total_changes() const = 0;
    // Transactions the engine rolled back by itself to break a deadlock (MySQL; SQLite makes
    // writers wait their turn instead, busy_timeout_ms). When it moves during a transaction, the
    // transaction is gone and transact() / write() run it again from the start.
    virtual std::uint64_t deadlocks() const { return 0; }
    // Housekeeping the engine wants done outside any transaction (SQLite: the last frames of a
    // background checkpoint). The writer calls it between its batches, the pool when a
    // connection that wrote comes back.
    virtual void maintain() {}
    // The connection joins the pool of run()/transact() (the writer's does not): mostly short
    // reads, each after other connections have committed. SQLite: no memory map (see
    // sqlite_connection.cpp).
    virtual void join_pool() {}
};

class connection_factory {
public:
    virtual ~connection_factory() = default;
    virtual expected<std::unique_ptr<connection>> open() = 0;
    // Log checkpoints the engine ran on a thread of its own (SQLite's WAL; 0 for the others).
    virtual std::uint64_t checkpoints() const { return 0; }
};

// How many times transact() and write() run a transaction that the engine keeps rolling back to
// break deadlocks before they give up with `busy`. InnoDB rolls back the lighter transaction of
// a deadlock, and one that has just started again is the lightest: on a hot row a victim is
// likely to be chosen again. At 10, four threads incrementing one row through SELECT + UPDATE
// gave up about once in 40,000 transactions (session 13); 20 waits at most about 1 s in all.
inline constexpr int transaction_attempts_max = 20;

struct pool_options {
    std::size_t size = 4;  // connections and DB threads
    // How long a statement waits for another connection's lock before failing `busy` (SQLite's
    // busy timeout, MySQL's innodb_lock_wait_timeout rounded up to whole seconds).
    int busy_timeout_ms = 5000;
    // The most writes one group commit of write() carries.
    std::size_t write_batch_max = 512;
    // SQLite: the WAL length (pages) past which a background thread checkpoints it.
    int checkpoint_pages = 4000;
};

// How write() keeps a failing write from taking the others of its batch with it.
enum class write_kind {
    // Inside a savepoint: any number of statements; an error or exception undoes them all.
    any,
    // No savepoint: the function changes data with at most one statement, which the database
    // undoes by itself when it fails, and returns an error (or throws) only when it changed
    // nothing. A savepoint per write costs a copy of every page it touches; this does not. A
    // function that breaks the rule (fails after a change) fails its whole batch.
    one_statement,
};

namespace detail {
// One queued write() (defined in database_impl.hpp).
class write_job {
public:
    virtual ~write_job() = default;
    // Runs the write inside the open transaction (in a savepoint unless it is one statement).
    // An error when the write cannot be undone alone (a savepoint that could not be taken,
    // released or rolled back; a one-statement write that broke its rule; SQLite rolled the
    // transaction back): the whole batch must roll back.
    virtual std::optional<error> run(connection& c) = 0;
    // The batch failed as a whole (BEGIN or COMMIT refused): this write did not happen.
    virtual void fail(const error& e) = 0;
    // Hands the outcome to the waiting coroutine on its own executor.
    virtual void complete() = 0;
    // The waiting coroutine's executor (the writer answers a batch's callers in one post to it).
    virtual const boost::asio::any_io_executor& executor() const = 0;
};
}  // namespace detail

class database {
public:
    database(std::unique_ptr<connection_factory> factory, pool_options options);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    // Opens the first connection eagerly so a bad URL fails at start-up, not on first use.
    expected<void> open();

    // Runs `f(connection&)` on a DB thread; resumes the caller on its own executor. The result
    // type must be default-constructible (Asio's co_spawn builds one when `f` throws); an
    // exception from `f` is rethrown in the caller.
    template <class F>
    auto run(F f) -> boost::asio::awaitable<std::invoke_result_t<F&, connection&>> {
        using R = std::invoke_result_t<F&, connection&>;
        co_return co_await boost::asio::co_spawn(
            pool_.get_executor(),
            [this, f = std::move(f)]() mutable -> boost::asio::awaitable<R> {
                name_pool_thread();
                co_return with_connection<R>(f);
            },
            boost::asio::use_awaitable);
    }

    // Like run(), inside BEGIN … COMMIT. `f` returns std::expected<T, E>: on a value the
    // transaction commits, on an error (or an exception) it rolls back. When the engine rolled
    // the transaction back to break a deadlock (MySQL), `f` runs again in a new one, up to
    // `transaction_attempts_max` times in all: `f` must therefore keep no effect outside the
    // database from a run that did not commit (assign its outputs, do not append). A failed COMMIT
    // becomes the error `E{db::error}` when E is constructible from db::error, a 503 UNAVAILABLE
    // problem (Retry-After 1) when E is `problem`, else it throws.
    template <class F>
    auto transact(F f) -> boost::asio::awaitable<std::invoke_result_t<F&, connection&>> {
        return run([f = std::move(f)](connection& c) mutable { return in_transaction(c, f); });
    }

    // Like transact(), committed together with the other writes queued meanwhile (see the top
    // of this file). `f` runs on the writer thread inside a savepoint (or, with
    // write_kind::one_statement, without one: see there): an error (or exception) rolls back
    // `f`'s statements only; a failed COMMIT fails every write of the batch. The
    // caller resumes after the COMMIT, so an answered write is durable. A batch the engine
    // rolled back to break a deadlock runs again whole, every `f` with it (as transact()). `f` must
    // only touch the database: the batch waits for it. Its connection refuses begin/commit/rollback
    // (`misuse`), and `f` must not use the savepoint name `tkt_write`. After shutdown() a
    // write fails with `misuse` at once.
    template <class F>
    auto write(F f, write_kind kind = write_kind::any)
        -> boost::asio::awaitable<std::invoke_result_t<F&, connection&>>;

    // Blocking variants for the CLI and start-up (never on an I/O thread).
    template <class F>
    auto run_sync(F f) -> std::invoke_result_t<F&, connection&> {
        using R = std::invoke_result_t<F&, connection&>;
        return with_connection<R>(f);
    }

    // Commits and answers the writes already queued, then stops the writer and the DB threads;
    // later calls fail at once. Call it while the io_contexts of the waiting callers still
    // exist (the destructor calls it too, for the CLI). Idempotent.
    void shutdown();

    // True when a connection can be checked out and answers `SELECT 1` (for /readyz).
    boost::asio::awaitable<bool> ping();

    dialect kind() const { return kind_; }

    // What the group commit has done so far (for /metrics and tests).
    struct write_stats {
        std::uint64_t batches = 0;  // transactions committed or failed by the writer
        std::uint64_t writes = 0;   // write() calls they carried
        std::uint64_t queued = 0;   // writes waiting now
        std::uint64_t checkpoints =
            0;  // passive log checkpoints, background and finishing (SQLite)
    };
    write_stats writes() const;

    template <class F>
    static auto in_transaction(connection& c, F& f) -> std::invoke_result_t<F&, connection&>;

private:
    // Once per DB pool thread: names it `tkt-db-pool` (for top -H, perf and bench/).
    static void name_pool_thread();
    struct lease;
    expected<std::unique_ptr<connection>> checkout();
    // `wrote`: the lease changed rows, so the connection gets its maintain() call.
    void checkin(std::unique_ptr<connection> c, bool wrote = false);

    template <class R, class F>
    R with_connection(F& f);

    void enqueue_write(std::unique_ptr<detail::write_job> job);
    void writer_loop();
    void run_batch(std::vector<std::unique_ptr<detail::write_job>>& batch,
                   std::unique_ptr<connection>& conn);
    static void answer(std::vector<std::unique_ptr<detail::write_job>>& batch);

    std::unique_ptr<connection_factory> factory_;
    pool_options options_;
    boost::asio::thread_pool pool_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<connection>> idle_;
    dialect kind_ = dialect::sqlite;

    mutable std::mutex write_mutex_;
    std::condition_variable write_ready_;
    std::deque<std::unique_ptr<detail::write_job>> write_queue_;
    bool write_stop_ = false;
    std::uint64_t write_batches_ = 0;  // under write_mutex_
    std::uint64_t write_count_ = 0;
    std::thread writer_;  // last: started when everything above exists
};

// Opens a database from a URL: `sqlite:///abs/path.db`, `sqlite://relative.db`,
// `mysql://user:pass@host:port/db` (MySQL or MariaDB; mysql/mysql_connection.hpp). Unknown
// schemes and malformed URLs are an error with a one-line reason.
expected<std::unique_ptr<database>> open_database(std::string_view url, pool_options options);

// The URL as logs and messages may show it: a password in it (`mysql://user:pass@…`) becomes
// `***`. Anything else is returned unchanged.
std::string printable_url(std::string_view url);

// Applies every migration of the database's dialect that is not yet in `schema_migrations`,
// in order, each in its own transaction. Returns the number applied.
expected<int> migrate(database& db);

}  // namespace tkt::db

#include "db/detail/database_impl.hpp"
