#pragma once
// Template bodies of database.hpp: connection leases and the transaction wrapper.
#include <exception>
#include <stdexcept>
#include <utility>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::db {
namespace detail {

template <class R>
inline constexpr bool is_expected_v = false;
template <class T, class E>
inline constexpr bool is_expected_v<std::expected<T, E>> = true;

// True when a db::error can travel inside R's error channel instead of as an exception.
template <class R>
constexpr bool carries_db_error() {
    if constexpr (is_expected_v<R>) {
        return std::is_constructible_v<typename R::error_type, error>;
    } else {
        return false;
    }
}

// True when R's error channel is an API problem (domain code's result<T>).
template <class R>
constexpr bool carries_problem() {
    if constexpr (is_expected_v<R>) {
        return std::is_same_v<typename R::error_type, problem>;
    } else {
        return false;
    }
}

// Returns `e` as R's error when R can carry it — a problem channel gets 503 UNAVAILABLE with a
// Retry-After (the database is busy or down: DESIGN.md §7) —; throws otherwise (the documented
// contract).
template <class R>
R fail_with(error e) {
    if constexpr (carries_db_error<R>()) {
        using E = typename R::error_type;
        return R(std::unexpect, E(std::move(e)));
    } else if constexpr (carries_problem<R>()) {
        auto p = make_problem(problem_code::unavailable, "the database is busy: " + e.message);
        p.retry_after_seconds = 1;
        return R(std::unexpect, std::move(p));
    } else {
        throw std::runtime_error("database: " + e.message);
    }
}

// A rollback on a path that is already failing: its own error is dropped because the first
// error is the one the caller must see, and a connection left inside a transaction is discarded
// on check-in (connection::in_transaction()), so nothing leaks into the next lease.
inline void rollback_after_failure(connection& c) {
    static_cast<void>(c.rollback());
}

// The connection a write() function sees: the writer's, minus the transaction control, which
// belongs to the batch (a COMMIT inside one write would make the writes before it durable while
// the batch reports them failed).
class batch_connection final : public connection {
public:
    explicit batch_connection(connection& inner) : inner_(inner) {}
    expected<query_result> exec(std::string_view sql, std::span<const value> params) override {
        return inner_.exec(sql, params);
    }
    expected<void> exec_script(std::string_view sql) override { return inner_.exec_script(sql); }
    expected<void> begin() override { return refuse(); }
    expected<void> commit() override { return refuse(); }
    expected<void> rollback() override { return refuse(); }
    dialect kind() const override { return inner_.kind(); }
    bool transaction_open() const override { return true; }
    std::int64_t total_changes() const override { return inner_.total_changes(); }
    std::uint64_t deadlocks() const override { return inner_.deadlocks(); }

private:
    static expected<void> refuse() {
        return std::unexpected(
            error{errc::misuse, "a write() function cannot begin, commit or roll back"});
    }
    connection& inner_;
};

// A write() waiting in the writer's queue: the function, then its outcome, then the coroutine
// to resume. The coroutine's executor is kept busy meanwhile, so its io_context does not run
// out of work while the write waits.
template <class F, class R, class Handler>
class write_job_of final : public write_job {
public:
    write_job_of(F f, write_kind kind, Handler h)
        : f_(std::move(f)),
          kind_(kind),
          handler_(std::move(h)),
          executor_(boost::asio::prefer(boost::asio::get_associated_executor(handler_),
                                        boost::asio::execution::outstanding_work.tracked)) {}

    std::optional<error> run(connection& c) override {
        if (kind_ == write_kind::one_statement) return run_alone(c);
        if (auto begun = c.exec("SAVEPOINT tkt_write"); !begun) return std::move(begun.error());
        call(c);
        if (failed()) {
            if (auto undone = c.exec("ROLLBACK TO tkt_write"); !undone)
                return std::move(undone.error());
        }
        // `RELEASE SAVEPOINT name`: MySQL needs the keyword SQLite allows.
        if (auto released = c.exec("RELEASE SAVEPOINT tkt_write"); !released)
            return std::move(released.error());
        return std::nullopt;
    }

    // write_kind::one_statement: SQLite undoes a failed statement itself and keeps the
    // transaction, unless the error was one that rolls back everything (SQLITE_FULL, IOERR…).
    std::optional<error> run_alone(connection& c) {
        const auto before = c.total_changes();
        call(c);
        if (!c.transaction_open()) {
            return error{errc::io, "the database rolled the transaction back after a failed write"};
        }
        if (failed() && c.total_changes() != before) {
            return error{errc::misuse, "a one-statement write failed after changing rows"};
        }
        return std::nullopt;
    }

    void fail(const error& e) override {
        result_.reset();
        exception_ = nullptr;
        try {
            result_.emplace(fail_with<R>(e));
        } catch (...) {
            exception_ = std::current_exception();
        }
    }

    void complete() override {
        auto ex = executor_;
        boost::asio::post(
            ex, [h = std::move(handler_), e = exception_, r = std::move(result_)]() mutable {
                std::move(h)(e, std::move(r));
            });
    }
    const boost::asio::any_io_executor& executor() const override { return executor_; }

private:
    // Runs again when the batch is retried after a deadlock: the last run's outcome goes.
    void call(connection& c) {
        exception_ = nullptr;
        try {
            batch_connection guarded(c);
            result_.emplace(f_(guarded));
        } catch (...) {
            exception_ = std::current_exception();
        }
    }
    bool failed() const { return exception_ || !*result_; }

    F f_;
    write_kind kind_;
    Handler handler_;
    boost::asio::any_io_executor executor_;
    std::optional<R> result_;
    std::exception_ptr exception_;
};

}  // namespace detail

template <class F>
auto database::write(F f, write_kind kind)
    -> boost::asio::awaitable<std::invoke_result_t<F&, connection&>> {
    using R = std::invoke_result_t<F&, connection&>;
    static_assert(detail::is_expected_v<R>,
                  "write() needs a function returning std::expected: its error rolls back");
    auto op = boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                          void(std::exception_ptr, std::optional<R>)>(
        [this](auto handler, F fn, write_kind k) {
            using job = detail::write_job_of<F, R, decltype(handler)>;
            enqueue_write(std::make_unique<job>(std::move(fn), k, std::move(handler)));
        },
        boost::asio::use_awaitable, std::move(f), kind);
    auto outcome = co_await std::move(op);
    co_return std::move(*outcome);
}

// Returns the connection to the pool on every way out of a lease, exceptions included.
struct database::lease {
    database& db;
    std::unique_ptr<connection> conn;
    std::int64_t changes_before;  // did the lease write? (connection::maintain only then)

    lease(database& d, std::unique_ptr<connection> c)
        : db(d), conn(std::move(c)), changes_before(conn->total_changes()) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() {
        const bool wrote = conn != nullptr && conn->total_changes() != changes_before;
        db.checkin(std::move(conn), wrote);
    }
};

template <class R, class F>
R database::with_connection(F& f) {
    auto c = checkout();
    if (!c) {
        return detail::fail_with<R>(std::move(c.error()));
    }
    lease held(*this, std::move(*c));
    return f(*held.conn);
}

// Pauses a DB thread before a transaction runs again after a deadlock, longer at each attempt,
// so that the transactions that collided do not collide again at once.
void deadlock_backoff(int attempt);

template <class F>
auto database::in_transaction(connection& c, F& f) -> std::invoke_result_t<F&, connection&> {
    using R = std::invoke_result_t<F&, connection&>;
    static_assert(detail::is_expected_v<R>,
                  "transact() needs a function returning std::expected: its error rolls back");
    for (int attempt = 1;; ++attempt) {
        if (auto begun = c.begin(); !begun) {
            return detail::fail_with<R>(std::move(begun.error()));
        }
        const auto deadlocks_before = c.deadlocks();
        // The engine broke a deadlock by rolling this transaction back: run it again, while
        // attempts remain (the last one's outcome, error or exception, goes to the caller).
        auto again = [&] {
            if (c.deadlocks() == deadlocks_before || attempt >= transaction_attempts_max) {
                return false;
            }
            detail::rollback_after_failure(c);
            deadlock_backoff(attempt);
            return true;
        };
        std::optional<R> result;
        try {
            result.emplace(f(c));
        } catch (...) {
            if (again()) continue;
            detail::rollback_after_failure(c);
            throw;
        }
        if (!*result) {
            if (again()) continue;
            detail::rollback_after_failure(c);
            return std::move(*result);
        }
        if (auto committed = c.commit(); !committed) {
            if (again()) continue;
            // SQLite keeps the transaction open after a failed COMMIT (e.g. SQLITE_BUSY); end it
            // here.
            detail::rollback_after_failure(c);
            return detail::fail_with<R>(std::move(committed.error()));
        }
        return std::move(*result);
    }
}

}  // namespace tkt::db
