#include "db/database.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <random>
#include <set>
#include <system_error>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include "common/assert.hpp"
#include "db/migrations.hpp"
#include "db/mysql/mysql_connection.hpp"
#include "db/mysql/mysql_url.hpp"
#include "db/sqlite/sqlite_connection.hpp"

namespace tkt::db {
namespace {

const std::string empty_text;

// Parses a numeric text column (MySQL hands DECIMAL and some aggregates over as text).
template <class N>
N parse_number(const std::string& s) {
    N n{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    TKT_ASSERT(ec == std::errc{} && end == s.data() + s.size());
    return n;
}

}  // namespace

// --- row ------------------------------------------------------------------------------------
// Asking for a number where the column holds one of another kind converts it, because SQLite
// types values, not columns (SUM() of integers is an integer, AVG() a real). Text where a
// number is asked for is parsed; anything unparsable is a programmer error.

std::int64_t row::int64(std::size_t i) const {
    const auto& v = cols_.at(i);
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
        return *n;
    }
    if (const auto* d = std::get_if<double>(&v)) {
        return static_cast<std::int64_t>(*d);
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_number<std::int64_t>(*s);
    }
    return 0;
}

double row::real(std::size_t i) const {
    const auto& v = cols_.at(i);
    if (const auto* d = std::get_if<double>(&v)) {
        return *d;
    }
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
        return static_cast<double>(*n);
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_number<double>(*s);
    }
    return 0.0;
}

const std::string& row::text(std::size_t i) const {
    const auto& v = cols_.at(i);
    if (is_null(i)) {
        return empty_text;
    }
    // A reference cannot be made to a converted number: asking text of a number column is a
    // mismatch between the SELECT and its reader.
    TKT_ASSERT(std::holds_alternative<std::string>(v));
    return std::get<std::string>(v);
}

std::optional<std::int64_t> row::opt_int64(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return int64(i);
}

std::optional<std::string> row::opt_text(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return text(i);
}

// --- database -------------------------------------------------------------------------------

database::database(std::unique_ptr<connection_factory> factory, pool_options options)
    : factory_(std::move(factory)), options_(options), pool_(options.size) {
    TKT_ASSERT(factory_ != nullptr);
    TKT_ASSERT(options_.size >= 1);
    TKT_ASSERT(options_.write_batch_max >= 1);
    writer_ = std::thread([this] { writer_loop(); });
}

database::~database() {
    shutdown();
}

void database::shutdown() {
    // Writes already queued are committed and answered before the writer ends.
    {
        std::lock_guard lock(write_mutex_);
        write_stop_ = true;
    }
    write_ready_.notify_one();
    if (writer_.joinable()) writer_.join();
    // Work already posted still holds `this`; let it finish before the idle list goes away.
    pool_.join();
}

// --- group commit ---------------------------------------------------------------------------

void database::enqueue_write(std::unique_ptr<detail::write_job> job) {
    {
        std::lock_guard lock(write_mutex_);
        if (!write_stop_) {
            write_queue_.push_back(std::move(job));
            write_ready_.notify_one();
            return;
        }
    }
    job->fail(error{errc::misuse, "the database is shut down"});
    job->complete();
}

database::write_stats database::writes() const {
    std::lock_guard lock(write_mutex_);
    return {.batches = write_batches_,
            .writes = write_count_,
            .queued = write_queue_.size(),
            .checkpoints = factory_->checkpoints()};
}

void database::name_pool_thread() {
    thread_local bool named = false;
    if (named) return;
    named = true;
    pthread_setname_np(pthread_self(), "tkt-db-pool");
}

void database::writer_loop() {
    // A batch thread: when a write wakes it, it does not preempt the thread that queued it, so
    // an I/O thread sharing its core finishes its round (and queues more writes) first. On an
    // idle core it starts at once. Without this, on one core, each write woke the writer into a
    // batch of one (docs/benchmarks.md, session 4). Best effort: a refusal changes nothing else.
    const sched_param normal{};
    static_cast<void>(pthread_setschedparam(pthread_self(), SCHED_BATCH, &normal));
    pthread_setname_np(pthread_self(), "tkt-db-writer");  // for top -H, perf and bench/
    // The writer's own connection, opened on the first write and kept: it is never checked in,
    // so its page cache stays warm and no pool user waits behind a batch for it.
    std::unique_ptr<connection> conn;
    std::vector<std::unique_ptr<detail::write_job>> batch;
    for (;;) {
        {
            std::unique_lock lock(write_mutex_);
            write_ready_.wait(lock, [this] { return write_stop_ || !write_queue_.empty(); });
            if (write_queue_.empty()) return;  // stopping, and nothing left to write
            while (!write_queue_.empty() && batch.size() < options_.write_batch_max) {
                batch.push_back(std::move(write_queue_.front()));
                write_queue_.pop_front();
            }
            ++write_batches_;
            write_count_ += batch.size();
        }
        try {
            run_batch(batch, conn);
        } catch (const std::exception& e) {
            // Nothing may leave this thread: the batch failed as a whole, its connection with it.
            conn.reset();
            for (auto& job : batch) job->fail(error{errc::io, e.what()});
        }
        answer(batch);
        batch.clear();
        // After the callers are on their way; never inside a transaction.
        if (conn != nullptr) conn->maintain();
    }
}

void database::answer(std::vector<std::unique_ptr<detail::write_job>>& batch) {
    // One post per batch (per execution context, when callers come from several) wakes the
    // callers' thread once; it then hands each outcome to its own coroutine. A post per write
    // woke it once per write: with both threads on one core, each wake-up preempted the writer
    // between two answers (measured: a context switch per write, docs/benchmarks.md).
    using jobs = std::vector<std::unique_ptr<detail::write_job>>;
    auto complete_all = [](jobs& js) {
        for (auto& job : js) {
            try {
                job->complete();
            } catch (const std::exception&) {
                // Only posting can throw (bad_alloc); that caller is lost, the others are not.
            }
        }
    };
    while (!batch.empty()) {
        auto& context =
            boost::asio::query(batch.front()->executor(), boost::asio::execution::context);
        std::shared_ptr<jobs> group;
        try {
            group = std::make_shared<jobs>();
            auto rest = std::stable_partition(batch.begin(), batch.end(), [&](const auto& job) {
                return &boost::asio::query(job->executor(), boost::asio::execution::context) ==
                       &context;
            });
            group->reserve(static_cast<std::size_t>(rest - batch.begin()));
            std::move(batch.begin(), rest, std::back_inserter(*group));
            batch.erase(batch.begin(), rest);
            const auto ex = group->front()->executor();
            boost::asio::post(ex, [group, complete_all] { complete_all(*group); });
        } catch (const std::exception&) {
            // No memory for the batch's post: answer one by one, as far as posting goes.
            if (group != nullptr) complete_all(*group);
            complete_all(batch);
            batch.clear();
        }
    }
}

namespace {

// One attempt at a batch: BEGIN, every write (each in its savepoint), COMMIT. The error that
// sank the batch as a whole, if one did.
std::optional<error> run_batch_once(std::vector<std::unique_ptr<detail::write_job>>& batch,
                                    connection& conn) {
    if (auto begun = conn.begin(); !begun) return std::move(begun.error());
    for (auto& job : batch) {
        // A savepoint that cannot be taken, released or rolled back leaves the transaction in
        // doubt: undo it all.
        if (auto broken = job->run(conn)) return broken;
    }
    if (auto committed = conn.commit(); !committed) return std::move(committed.error());
    return std::nullopt;
}

}  // namespace

void deadlock_backoff(int attempt) {
    // Doubling from 1 ms up to 64 ms, each pause drawn at random below its bound so that the
    // transactions that collided do not meet again in step. The victim waits on a DB thread,
    // never an I/O thread.
    thread_local std::minstd_rand random(
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
    const int bound_us = 1000 << std::min(attempt - 1, 6);
    std::uniform_int_distribution<int> pause_us(bound_us / 2, bound_us);
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
}

void database::run_batch(std::vector<std::unique_ptr<detail::write_job>>& batch,
                         std::unique_ptr<connection>& conn) {
    // Every write of the batch fails with `e`; a connection that cannot leave the transaction
    // is dropped (reopened on the next batch), as the pool drops one at check-in.
    auto fail_batch = [&](const error& e) {
        if (conn != nullptr) {
            detail::rollback_after_failure(*conn);
            if (conn->transaction_open()) conn.reset();
        }
        for (auto& job : batch) job->fail(e);
    };
    if (conn == nullptr) {
        auto opened = factory_->open();
        if (!opened) return fail_batch(opened.error());
        conn = std::move(*opened);
    }
    for (int attempt = 1;; ++attempt) {
        const auto deadlocks_before = conn->deadlocks();
        auto failed = run_batch_once(batch, *conn);
        if (!failed) return;
        // The engine rolled the batch back to break a deadlock (MySQL): run every write again.
        if (conn->deadlocks() != deadlocks_before && attempt < transaction_attempts_max) {
            detail::rollback_after_failure(*conn);
            deadlock_backoff(attempt);
            continue;
        }
        return fail_batch(*failed);
    }
}

expected<void> database::open() {
    auto c = checkout();
    if (!c) {
        return std::unexpected(std::move(c.error()));
    }
    kind_ = (*c)->kind();
    checkin(std::move(*c));
    return {};
}

expected<std::unique_ptr<connection>> database::checkout() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
    }
    // Opening blocks (file system, or a network round trip for MySQL): not under the lock.
    auto opened = factory_->open();
    if (opened) (*opened)->join_pool();
    return opened;
}

void database::checkin(std::unique_ptr<connection> c, bool wrote) {
    if (c == nullptr || c->transaction_open()) {
        return;  // closing it rolls the stray transaction back
    }
    // A writing lease may be the last commit for a while (writes through the pool only): it
    // finishes what the engine left for a writer. Reads never pay for it.
    if (wrote) c->maintain();
    std::lock_guard lock(mutex_);
    if (idle_.size() < options_.size) {
        idle_.push_back(std::move(c));
    }
}

boost::asio::awaitable<bool> database::ping() {
    try {
        auto r = co_await run([](connection& c) { return c.exec("SELECT 1"); });
        co_return r.has_value() && r->rows.size() == 1 && r->rows[0].int64(0) == 1;
    } catch (const std::exception&) {
        // A readiness probe answers "not ready" on any failure; it must never take the
        // server down (e.g. std::bad_alloc while opening a connection).
        co_return false;
    }
}

// --- open_database --------------------------------------------------------------------------

namespace {

expected<std::unique_ptr<database>> open_sqlite(std::string_view path_text, pool_options options) {
    if (path_text.empty()) {
        return std::unexpected(error{errc::misuse, "sqlite URL has no file path"});
    }
    std::filesystem::path path{std::string(path_text)};
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            return std::unexpected(error{
                errc::io,
                fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message())});
        }
    }
    auto factory = std::make_unique<sqlite_connection_factory>(
        sqlite_options{.path = path.string(),
                       .busy_timeout_ms = options.busy_timeout_ms,
                       .checkpoint_pages = options.checkpoint_pages});
    auto db = std::make_unique<database>(std::move(factory), options);
    if (auto opened = db->open(); !opened) {
        return std::unexpected(std::move(opened.error()));
    }
    return db;
}

expected<std::unique_ptr<database>> open_mysql(std::string_view url, pool_options options) {
    auto parsed = parse_mysql_url(url);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    auto factory = std::make_unique<mysql_connection_factory>(
        mysql_options{.url = std::move(*parsed), .lock_wait_timeout_ms = options.busy_timeout_ms});
    auto db = std::make_unique<database>(std::move(factory), options);
    if (auto opened = db->open(); !opened) {
        return std::unexpected(std::move(opened.error()));
    }
    return db;
}

}  // namespace

expected<std::unique_ptr<database>> open_database(std::string_view url, pool_options options) {
    // `sqlite:///abs/path.db` keeps the leading slash of an absolute path; `sqlite://rel.db`
    // is relative to the working directory.
    constexpr std::string_view sqlite_scheme = "sqlite://";
    if (url.starts_with(sqlite_scheme)) {
        return open_sqlite(url.substr(sqlite_scheme.size()), options);
    }
    if (url.starts_with("mysql://")) return open_mysql(url, options);
    // The URL is not echoed: it may hold a password.
    const auto scheme = url.substr(0, url.find("://"));
    return std::unexpected(
        error{errc::misuse,
              fmt::format("unsupported database URL scheme '{}': expected sqlite:///abs/path.db, "
                          "sqlite://relative/path.db or mysql://user:pass@host:port/database",
                          scheme.size() < 32 ? scheme : scheme.substr(0, 32))});
}

std::string printable_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::string(url);
    const auto authority_begin = scheme_end + 3;
    const auto authority_end = url.find_first_of("/?#", authority_begin);
    const auto authority = url.substr(authority_begin, authority_end == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : authority_end - authority_begin);
    // The last `@` ends the user information (a password may hold an unencoded one).
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    const auto colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos) return std::string(url);
    const auto password_begin = authority_begin + colon + 1;
    return fmt::format("{}***{}", url.substr(0, password_begin), url.substr(authority_begin + at));
}

// --- migrate --------------------------------------------------------------------------------

namespace {

std::string utc_now_rfc3339() {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

// Applies one migration and records it in the same transaction. Another process may have
// applied it since the caller looked, so the record is checked again under the write lock.
expected<bool> apply_one(connection& c, const migration& m) {
    auto body = [&](connection& tx) -> expected<bool> {
        auto seen =
            tx.exec("SELECT 1 FROM schema_migrations WHERE version = ?", {std::int64_t{m.version}});
        if (!seen) {
            return std::unexpected(std::move(seen.error()));
        }
        if (!seen->rows.empty()) {
            return false;
        }
        if (auto run = tx.exec_script(m.sql); !run) {
            auto e = std::move(run.error());
            e.message = fmt::format("migration {:03}_{}: {}", m.version, m.name, e.message);
            return std::unexpected(std::move(e));
        }
        auto recorded =
            tx.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    {std::int64_t{m.version}, std::string(m.name), utc_now_rfc3339()});
        if (!recorded) {
            return std::unexpected(std::move(recorded.error()));
        }
        return true;
    };
    return database::in_transaction(c, body);
}

expected<int> migrate_on(connection& c, std::span<const migration> list) {
    for (std::size_t i = 1; i < list.size(); ++i) {
        TKT_ASSERT(list[i - 1].version < list[i].version);
    }
    auto created = c.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    if (!created) {
        return std::unexpected(std::move(created.error()));
    }
    auto rows = c.exec("SELECT version FROM schema_migrations");
    if (!rows) {
        return std::unexpected(std::move(rows.error()));
    }
    std::set<std::int64_t> applied;
    for (const auto& r : rows->rows) {
        applied.insert(r.int64(0));
    }
    int count = 0;
    for (const auto& m : list) {
        if (applied.contains(m.version)) {
            continue;
        }
        auto done = apply_one(c, m);
        if (!done) {
            return std::unexpected(std::move(done.error()));
        }
        count += *done ? 1 : 0;
    }
    return count;
}

// MySQL commits every CREATE/ALTER at once, so a migration's transaction does not keep a second
// process out of it: two `ticketon migrate` (or two nodes starting) would both run it. A named
// server lock makes them take turns; the second then finds the versions recorded.
expected<int> migrate_locked(connection& c, std::span<const migration> list) {
    if (c.kind() != dialect::mysql) return migrate_on(c, list);
    auto locked = c.exec("SELECT GET_LOCK('ticketon.migrate', 120)");
    if (!locked) return std::unexpected(std::move(locked.error()));
    if (locked->rows.empty() || locked->rows[0].int64(0) != 1) {
        return std::unexpected(
            error{errc::busy, "another process is migrating this database (waited 120 s)"});
    }
    auto applied = migrate_on(c, list);
    static_cast<void>(c.exec("SELECT RELEASE_LOCK('ticketon.migrate')"));
    return applied;
}

}  // namespace

expected<int> migrate(database& db, std::span<const migration> list) {
    return db.run_sync([list](connection& c) { return migrate_locked(c, list); });
}

expected<int> migrate(database& db) {
    return migrate(db, migrations(db.kind()));
}

}  // namespace tkt::db
