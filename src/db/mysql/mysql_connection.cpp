#include "db/mysql/mysql_connection.hpp"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "common/assert.hpp"
#include "db/mysql/mysql_script.hpp"

namespace tkt::db {

// One cached prepared statement and the buffers its results are fetched into.
struct mysql_connection::statement {
    MYSQL_STMT* handle = nullptr;
    ~statement() {
        if (handle != nullptr) mysql_stmt_close(handle);
    }
};

namespace {

// Errors after which the connection is gone (the server restarted, a timeout, a kill).
bool connection_lost(unsigned code) {
    switch (code) {
        case CR_SERVER_GONE_ERROR:
        case CR_SERVER_LOST:
        case CR_SERVER_LOST_EXTENDED:
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
        case CR_COMMANDS_OUT_OF_SYNC:
        case ER_CONNECTION_KILLED:
        case ER_SERVER_SHUTDOWN:
        case ER_NET_READ_INTERRUPTED:
        case ER_NET_WRITE_INTERRUPTED:
            return true;
        default:
            return false;
    }
}

// The statements the server cannot prepare (SET of some variables, a few admin commands) run
// over the text protocol instead; only statements without parameters get there.
constexpr unsigned unsupported_in_prepared_statements = ER_UNSUPPORTED_PS;

value from_text(enum_field_types type, unsigned decimals, const char* data, unsigned long size) {
    std::string_view text(data, size);
    switch (type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR: {
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (ec == std::errc{} && end == text.data() + text.size()) return n;
            return std::string(text);
        }
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE: {
            // A DECIMAL without a fraction (SUM of integers) stays an integer when it fits.
            if (decimals == 0 && (type == MYSQL_TYPE_DECIMAL || type == MYSQL_TYPE_NEWDECIMAL)) {
                std::int64_t n = 0;
                auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
                if (ec == std::errc{} && end == text.data() + text.size()) return n;
            }
            double d = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
            if (ec == std::errc{} && end == text.data() + text.size()) return d;
            return std::string(text);
        }
        default:
            return std::string(text);
    }
}

bool is_integer(enum_field_types t) {
    return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_INT24 ||
           t == MYSQL_TYPE_LONG || t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR;
}

// The buffers one result row is fetched into: int64 and double columns in place, the others as
// text in a buffer as long as the longest value of the result (STMT_ATTR_UPDATE_MAX_LENGTH).
struct result_buffers {
    std::vector<MYSQL_BIND> binds;
    std::vector<std::int64_t> integers;
    std::vector<double> reals;
    std::vector<std::string> texts;
    std::vector<unsigned long> lengths;
    std::vector<my_bool> nulls;
    std::vector<my_bool> errors;

    explicit result_buffers(MYSQL_RES* meta) {
        const auto n = mysql_num_fields(meta);
        binds.assign(n, MYSQL_BIND{});
        integers.assign(n, 0);
        reals.assign(n, 0);
        texts.assign(n, {});
        lengths.assign(n, 0);
        nulls.assign(n, 0);
        errors.assign(n, 0);
        MYSQL_FIELD* fields = mysql_fetch_fields(meta);
        for (unsigned i = 0; i < n; ++i) {
            auto& b = binds[i];
            b.is_null = &nulls[i];
            b.length = &lengths[i];
            b.error = &errors[i];
            const auto type = fields[i].type;
            if (is_integer(type)) {
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &integers[i];
                b.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
            } else if (type == MYSQL_TYPE_FLOAT || type == MYSQL_TYPE_DOUBLE) {
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &reals[i];
            } else {
                texts[i].resize(std::max<unsigned long>(fields[i].max_length, 1));
                b.buffer_type = MYSQL_TYPE_STRING;
                b.buffer = texts[i].data();
                b.buffer_length = static_cast<unsigned long>(texts[i].size());
            }
        }
    }

    row take(MYSQL_FIELD* fields) const {
        std::vector<value> cols;
        cols.reserve(binds.size());
        for (std::size_t i = 0; i < binds.size(); ++i) {
            if (nulls[i]) {
                cols.emplace_back(nullptr);
            } else if (binds[i].buffer_type == MYSQL_TYPE_LONGLONG) {
                cols.emplace_back(integers[i]);
            } else if (binds[i].buffer_type == MYSQL_TYPE_DOUBLE) {
                cols.emplace_back(reals[i]);
            } else {
                cols.push_back(
                    from_text(fields[i].type, fields[i].decimals, texts[i].data(), lengths[i]));
            }
        }
        return row(std::move(cols));
    }
};

// The parameters of one execution, bound without copying the caller's text.
std::vector<MYSQL_BIND> bind_params(std::span<const value> params,
                                    std::vector<unsigned long>& lengths) {
    std::vector<MYSQL_BIND> binds(params.size(), MYSQL_BIND{});
    lengths.assign(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
        auto& b = binds[i];
        std::visit(
            [&](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, std::nullptr_t>) {
                    b.buffer_type = MYSQL_TYPE_NULL;
                } else if constexpr (std::is_same_v<V, std::int64_t>) {
                    b.buffer_type = MYSQL_TYPE_LONGLONG;
                    b.buffer = const_cast<std::int64_t*>(&v);
                } else if constexpr (std::is_same_v<V, double>) {
                    b.buffer_type = MYSQL_TYPE_DOUBLE;
                    b.buffer = const_cast<double*>(&v);
                } else {
                    b.buffer_type = MYSQL_TYPE_STRING;
                    b.buffer = const_cast<char*>(v.data());
                    b.buffer_length = static_cast<unsigned long>(v.size());
                    lengths[i] = static_cast<unsigned long>(v.size());
                    b.length = &lengths[i];
                }
            },
            params[i]);
    }
    return binds;
}

// Frees a statement's result set on every way out of an execution, so the next one starts clean.
struct result_release {
    MYSQL_STMT* stmt;
    ~result_release() { mysql_stmt_free_result(stmt); }
};

struct meta_release {
    MYSQL_RES* meta;
    ~meta_release() {
        if (meta != nullptr) mysql_free_result(meta);
    }
};

}  // namespace

errc map_mysql_error(unsigned code) {
    switch (code) {
        case ER_DUP_ENTRY:
        case ER_DUP_KEY:
        case ER_DUP_ENTRY_WITH_KEY_NAME:
        case ER_DUP_UNIQUE:
            return errc::constraint_unique;
        case ER_BAD_NULL_ERROR:
        case ER_NO_DEFAULT_FOR_FIELD:
        case ER_ROW_IS_REFERENCED:
        case ER_NO_REFERENCED_ROW:
        case ER_ROW_IS_REFERENCED_2:
        case ER_NO_REFERENCED_ROW_2:
        case ER_CONSTRAINT_FAILED:
        case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
        case ER_WARN_DATA_OUT_OF_RANGE:
        case ER_DATA_TOO_LONG:
            return errc::constraint_other;
        case ER_LOCK_DEADLOCK:
        case ER_LOCK_WAIT_TIMEOUT:
            return errc::busy;
        case CR_PARAMS_NOT_BOUND:
        case CR_INVALID_PARAMETER_NO:
        case ER_WRONG_ARGUMENTS:
            return errc::misuse;
        default:
            return errc::io;
    }
}

mysql_connection::mysql_connection(mysql_options options) : options_(std::move(options)) {}

mysql_connection::~mysql_connection() {
    // Statements close before their connection; closing it rolls an open transaction back,
    // which is how the pool disposes of a connection left inside one.
    disconnect();
}

void mysql_connection::disconnect() {
    statements_.clear();
    if (db_ != nullptr) mysql_close(db_);
    db_ = nullptr;
}

expected<std::unique_ptr<connection>> mysql_connection::open(const mysql_options& options) {
    // The client library's global state, once, before any connection: mysql_init() would do it
    // on first use, but unguarded, and the pool's threads open connections concurrently. A
    // function-local static is initialised by one thread while the others wait.
    static const int library = mysql_library_init(0, nullptr, nullptr);
    if (library != 0) {
        return std::unexpected(error{errc::io, "the MariaDB client library failed to start"});
    }
    std::unique_ptr<mysql_connection> c(new mysql_connection(options));
    if (auto connected = c->connect(); !connected) {
        return std::unexpected(std::move(connected.error()));
    }
    return c;
}

expected<void> mysql_connection::connect() {
    disconnect();
    db_ = mysql_init(nullptr);
    if (db_ == nullptr) return std::unexpected(error{errc::io, "mysql_init: out of memory"});
    const auto& o = options_;
    mysql_optionsv(db_, MYSQL_OPT_CONNECT_TIMEOUT, &o.connect_timeout_s);
    mysql_optionsv(db_, MYSQL_OPT_READ_TIMEOUT, &o.read_timeout_s);
    mysql_optionsv(db_, MYSQL_OPT_WRITE_TIMEOUT, &o.write_timeout_s);
    mysql_optionsv(db_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    // Reconnecting is ours to do (outside a transaction only); the library's own would lose a
    // transaction silently.
    my_bool reconnect = 0;
    mysql_optionsv(db_, MYSQL_OPT_RECONNECT, &reconnect);
    const auto& u = o.url;
    if (mysql_real_connect(db_, u.host.c_str(), u.user.c_str(), u.password.c_str(),
                           u.database.c_str(), u.port, nullptr, CLIENT_FOUND_ROWS) == nullptr) {
        error e{errc::unavailable,
                fmt::format("cannot connect to MySQL at {}:{}/{} as {}: {}", u.host, u.port,
                            u.database, u.user, mysql_error(db_))};
        disconnect();
        broken_ = true;
        return std::unexpected(std::move(e));
    }
    broken_ = false;
    const int lock_wait_s = std::max(1, (o.lock_wait_timeout_ms + 999) / 1000);
    const std::string setup[] = {
        "SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin",
        "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,"
        "NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES'",
        "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        fmt::format("SET SESSION innodb_lock_wait_timeout = {}", lock_wait_s),
    };
    for (const auto& sql : setup) {
        if (mysql_real_query(db_, sql.data(), sql.size()) != 0) {
            error e{errc::io, fmt::format("{}: {}", sql, mysql_error(db_))};
            disconnect();
            broken_ = true;
            return std::unexpected(std::move(e));
        }
    }
    return {};
}

error mysql_connection::failure(unsigned code, const char* message) {
    last_errno_ = code;
    error e{map_mysql_error(code), fmt::format("{} (MySQL error {})", message, code)};
    if (connection_lost(code)) {
        e.code = errc::unavailable;
        broken_ = true;
        if (transaction_ == transaction_state::open) transaction_ = transaction_state::aborted;
    } else if (code == ER_LOCK_DEADLOCK && transaction_ == transaction_state::open) {
        // InnoDB rolled the whole transaction back: nothing of it may go on in autocommit mode.
        transaction_ = transaction_state::aborted;
        ++deadlocks_;
    }
    return e;
}

// A failure while a result set was being read (a deadlock or lock wait reported mid-result by a
// locking read): the statement handle may still count rows as pending, and its next execute
// would first wait for them — for ever, the server being idle. The connection is dropped and
// reopened before its next statement instead; the transaction, rolled back by the server or
// lost with the connection, is the caller's to run again.
error mysql_connection::failure_in_result(st_mysql_stmt* stmt) {
    auto e = failure(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    broken_ = true;
    if (transaction_ == transaction_state::open) transaction_ = transaction_state::aborted;
    return e;
}

expected<void> mysql_connection::usable() {
    if (transaction_ == transaction_state::aborted) {
        return std::unexpected(
            error{errc::busy,
                  "the transaction was rolled back by the server (a deadlock or a lost "
                  "connection); roll back and run it again"});
    }
    if (broken_ || db_ == nullptr) {
        if (transaction_ != transaction_state::none) {
            return std::unexpected(
                error{errc::unavailable, "the connection was lost in a transaction"});
        }
        auto opened = connect();
        if (opened) last_used_ = std::chrono::steady_clock::now();
        return opened;
    }
    const auto now = std::chrono::steady_clock::now();
    if (transaction_ == transaction_state::none && now - last_used_ > std::chrono::seconds(1)) {
        if (mysql_ping(db_) != 0) {
            // Gone while idle (a restart, a timeout on the server): open a new one now.
            disconnect();
            broken_ = true;
            auto opened = connect();
            if (!opened) return opened;
        }
    }
    last_used_ = now;
    return {};
}

expected<mysql_connection::statement*> mysql_connection::prepare(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second.get();
    auto s = std::make_unique<statement>();
    s->handle = mysql_stmt_init(db_);
    if (s->handle == nullptr) return std::unexpected(error{errc::io, "mysql_stmt_init failed"});
    my_bool update_max_length = 1;
    mysql_stmt_attr_set(s->handle, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
    if (mysql_stmt_prepare(s->handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
        return std::unexpected(failure(mysql_stmt_errno(s->handle), mysql_stmt_error(s->handle)));
    }
    if (statements_.size() >= options_.statement_cache_max) statements_.clear();
    auto [it, inserted] = statements_.emplace(std::string(sql), std::move(s));
    TKT_ASSERT(inserted);
    return it->second.get();
}

expected<query_result> mysql_connection::exec(std::string_view sql, std::span<const value> params) {
    const auto pieces = split_sql_statements(sql);
    if (pieces.empty()) return std::unexpected(error{errc::misuse, "empty SQL statement"});
    if (pieces.size() > 1) {
        return std::unexpected(
            error{errc::misuse, "exec() runs one statement; use exec_script() for several"});
    }
    if (auto ok = usable(); !ok) return std::unexpected(std::move(ok.error()));
    auto s = prepare(pieces.front());
    if (!s && params.empty() && last_errno_ == unsupported_in_prepared_statements) {
        return exec_text(pieces.front());
    }
    if (!s) return std::unexpected(std::move(s.error()));
    return exec_prepared(**s, params);
}

expected<query_result> mysql_connection::exec_prepared(statement& s,
                                                       std::span<const value> params) {
    MYSQL_STMT* stmt = s.handle;
    const auto expected_count = mysql_stmt_param_count(stmt);
    if (expected_count != params.size()) {
        return std::unexpected(
            error{errc::misuse, fmt::format("the statement has {} parameters, {} were given",
                                            expected_count, params.size())});
    }
    std::vector<unsigned long> lengths;
    auto binds = bind_params(params, lengths);
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) {
        return std::unexpected(failure(mysql_stmt_errno(stmt), mysql_stmt_error(stmt)));
    }
    result_release release{stmt};
    if (mysql_stmt_execute(stmt) != 0) {
        return std::unexpected(failure(mysql_stmt_errno(stmt), mysql_stmt_error(stmt)));
    }
    query_result result;
    if (mysql_stmt_field_count(stmt) == 0) {
        result.affected_rows = static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt));
        result.last_insert_id = static_cast<std::int64_t>(mysql_stmt_insert_id(stmt));
        total_changes_ += result.affected_rows;
        return result;
    }
    if (mysql_stmt_store_result(stmt) != 0) {
        return std::unexpected(failure_in_result(stmt));
    }
    meta_release meta{mysql_stmt_result_metadata(stmt)};
    if (meta.meta == nullptr) {
        return std::unexpected(failure_in_result(stmt));
    }
    result_buffers buffers(meta.meta);
    if (mysql_stmt_bind_result(stmt, buffers.binds.data()) != 0) {
        return std::unexpected(failure_in_result(stmt));
    }
    MYSQL_FIELD* fields = mysql_fetch_fields(meta.meta);
    result.rows.reserve(static_cast<std::size_t>(mysql_stmt_num_rows(stmt)));
    for (;;) {
        const int rc = mysql_stmt_fetch(stmt);
        if (rc == MYSQL_NO_DATA) break;
        // Buffers are as long as the longest value, so a truncation is a broken invariant.
        TKT_ASSERT(rc != MYSQL_DATA_TRUNCATED);
        if (rc != 0) return std::unexpected(failure_in_result(stmt));
        result.rows.push_back(buffers.take(fields));
    }
    return result;
}

expected<query_result> mysql_connection::exec_text(std::string_view sql) {
    if (mysql_real_query(db_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
        return std::unexpected(failure(mysql_errno(db_), mysql_error(db_)));
    }
    query_result result;
    MYSQL_RES* res = mysql_store_result(db_);
    if (res == nullptr) {
        if (mysql_field_count(db_) != 0) {
            return std::unexpected(failure(mysql_errno(db_), mysql_error(db_)));
        }
        result.affected_rows = static_cast<std::int64_t>(mysql_affected_rows(db_));
        result.last_insert_id = static_cast<std::int64_t>(mysql_insert_id(db_));
        total_changes_ += result.affected_rows;
        return result;
    }
    meta_release release{res};
    const unsigned n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
        const unsigned long* lengths = mysql_fetch_lengths(res);
        std::vector<value> cols;
        cols.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
            if (r[i] == nullptr) {
                cols.emplace_back(nullptr);
            } else {
                cols.push_back(from_text(fields[i].type, fields[i].decimals, r[i], lengths[i]));
            }
        }
        result.rows.emplace_back(std::move(cols));
    }
    return result;
}

expected<void> mysql_connection::exec_script(std::string_view sql) {
    if (auto ok = usable(); !ok) return std::unexpected(std::move(ok.error()));
    for (auto piece : split_sql_statements(sql)) {
        if (auto r = exec_text(piece); !r) {
            auto e = std::move(r.error());
            const auto shown = piece.substr(0, std::min<std::size_t>(piece.size(), 120));
            e.message = fmt::format("{} in: {}", e.message, shown);
            return std::unexpected(std::move(e));
        }
    }
    return {};
}

expected<void> mysql_connection::control(std::string_view sql) {
    if (mysql_real_query(db_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
        return std::unexpected(failure(mysql_errno(db_), mysql_error(db_)));
    }
    return {};
}

expected<void> mysql_connection::begin() {
    if (transaction_ != transaction_state::none) {
        return std::unexpected(error{errc::misuse, "a transaction is already open"});
    }
    if (auto ok = usable(); !ok) return ok;
    if (auto r = control("START TRANSACTION"); !r) return r;
    transaction_ = transaction_state::open;
    return {};
}

expected<void> mysql_connection::commit() {
    if (auto ok = usable(); !ok) return ok;
    if (transaction_ == transaction_state::none) {
        return std::unexpected(error{errc::misuse, "COMMIT without a transaction"});
    }
    auto r = control("COMMIT");
    // A failed COMMIT that did not lose the connection (or deadlock, which failure() marks)
    // leaves the transaction open for the caller's rollback(), as SQLite's does.
    if (r) transaction_ = transaction_state::none;
    return r;
}

expected<void> mysql_connection::rollback() {
    if (transaction_ == transaction_state::none) return {};
    const bool server_ended_it = transaction_ == transaction_state::aborted || broken_;
    transaction_ = transaction_state::none;
    if (server_ended_it) {
        // Nothing is open on the server any more (or the connection is gone, which ends it);
        // a ROLLBACK keeps the session clean where the connection survived.
        if (!broken_ && db_ != nullptr) static_cast<void>(control("ROLLBACK"));
        return {};
    }
    if (auto r = control("ROLLBACK"); !r) {
        // The connection could not roll back: it must not be lent again as if clean.
        broken_ = true;
        return r;
    }
    return {};
}

}  // namespace tkt::db
