#include "app/commands.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/detail/setup.hpp"
#include "app/ops_routes.hpp"
#include "auth/handlers.hpp"
#include "auth/jwt.hpp"
#include "auth/service.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "db/database.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace tkt::app {

namespace asio = boost::asio;

int fail(int code, std::string_view reason) {
    std::fprintf(stderr, "ticketon: %.*s\n", static_cast<int>(reason.size()), reason.data());
    return code;
}

// Opens the database and brings its schema up to date. A URL the project cannot open is a
// configuration error (2); a database that fails while migrating is a runtime failure (1).
std::expected<std::unique_ptr<db::database>, int> open_store(const config& cfg) {
    std::error_code fs_ec;
    std::filesystem::create_directories(cfg.data_dir, fs_ec);
    if (fs_ec) {
        return std::unexpected(fail(exit_usage, fmt::format("cannot create data dir {}: {}",
                                                            cfg.data_dir, fs_ec.message())));
    }
    auto opened = db::open_database(
        cfg.effective_db_url(),
        db::pool_options{.size = static_cast<std::size_t>(cfg.db.pool_size),
                         .busy_timeout_ms = cfg.db.busy_timeout_ms,
                         .write_batch_max = static_cast<std::size_t>(cfg.db.write_batch_max)});
    if (!opened) return std::unexpected(fail(exit_usage, opened.error().message));
    auto applied = db::migrate(**opened);
    if (!applied) {
        return std::unexpected(fail(exit_failure, "migration failed: " + applied.error().message));
    }
    if (*applied > 0) log::info("db.migrated", {{"applied", *applied}});
    return std::move(*opened);
}

auth::password_cost auth_password_cost(password_cost_level level) {
    switch (level) {
        case password_cost_level::interactive:
            return auth::password_cost::interactive;
        case password_cost_level::moderate:
            return auth::password_cost::moderate;
        case password_cost_level::min:
            return auth::password_cost::min;
    }
    return auth::password_cost::interactive;
}

auth::service_options auth_options(const config& cfg) {
    auth::service_options o;
    o.issuer = cfg.auth.issuer;
    o.access_ttl_seconds = cfg.auth.access_ttl_seconds;
    o.refresh_ttl_seconds = cfg.auth.refresh_ttl_seconds;
    o.lockout_threshold = cfg.auth.lockout_threshold;
    o.lockout_seconds = cfg.auth.lockout_seconds;
    o.account_cache_ttl = std::chrono::milliseconds(cfg.auth.account_cache_ms);
    o.cost = auth_password_cost(cfg.auth.password_cost);
    return o;
}

std::vector<auth::jwt_key> configured_keys(const config& cfg) {
    std::vector<auth::jwt_key> keys;
    for (const auto& k : cfg.auth.jwt_keys) keys.push_back(auth::jwt_key{k.kid, k.secret});
    return keys;
}

int io_threads(const config& cfg) {
    return cfg.server.threads > 0
               ? cfg.server.threads
               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

http::server_options server_options(const config& cfg) {
    http::server_options o;
    o.host = cfg.server.listen.host;
    o.port = cfg.server.listen.port;
    o.max_connections = static_cast<std::size_t>(cfg.server.max_connections);
    o.max_body_bytes = static_cast<std::size_t>(cfg.server.max_body_bytes);
    o.max_header_bytes = static_cast<std::size_t>(cfg.server.max_header_bytes);
    o.read_timeout = std::chrono::milliseconds(cfg.server.read_timeout_ms);
    o.idle_timeout = std::chrono::milliseconds(cfg.server.idle_timeout_ms);
    o.auth_rate_limit.per_minute = cfg.rate_limit.auth_per_minute;
    o.auth_rate_limit.burst = cfg.rate_limit.auth_burst;
    o.trusted_proxies = cfg.server.trusted_proxies;
    o.io_threads = io_threads(cfg);
    return o;
}

void log_requests(http::server& srv) {
    srv.on_access([](const http::access_log_entry& e) {
        log::info("http.request", [&] {
            boost::json::object o{{"method", e.method},       {"path", e.path},
                                  {"route", e.route},         {"status", e.status},
                                  {"ms", e.seconds * 1000.0}, {"requestId", e.request_id},
                                  {"remote", e.remote_ip}};
            if (!e.proxy_ip.empty()) o["proxy"] = e.proxy_ip;
            return o;
        });
    });
    srv.on_failure([](std::string_view request_id, std::string_view route, std::string_view what) {
        log::error("http.handler_failed",
                   {{"requestId", request_id}, {"route", route}, {"error", what}});
    });
}

// On SIGINT/SIGTERM: stop accepting, let requests in flight finish, then stop the io_context
// once every connection has closed or the grace period is over, whichever comes first.
void shut_down_on_signal(asio::io_context& io, asio::signal_set& signals, http::server& srv,
                         std::chrono::milliseconds grace, std::function<void()> on_stop) {
    signals.async_wait([&io, &srv, grace, on_stop](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        log::info("server.stopping", {{"signal", signo}, {"connections", srv.sessions()}});
        if (on_stop) on_stop();
        srv.stop();
        auto deadline = std::chrono::steady_clock::now() + grace;
        auto timer = std::make_shared<asio::steady_timer>(io);
        auto poll = std::make_shared<std::function<void()>>();
        *poll = [&io, &srv, deadline, timer, poll] {
            if (srv.sessions() == 0 || std::chrono::steady_clock::now() >= deadline) {
                io.stop();
                *poll = nullptr;  // break the self-reference
                return;
            }
            timer->expires_after(std::chrono::milliseconds(20));
            timer->async_wait([poll](const boost::system::error_code&) {
                if (*poll) (*poll)();
            });
        };
        (*poll)();
    });
}

int migrate(const config& cfg) {
    auto store = open_store(cfg);
    if (!store) return store.error();
    std::printf("schema is up to date (%s)\n", db::printable_url(cfg.effective_db_url()).c_str());
    return exit_ok;
}

int user_create(const config& cfg, const user_create_args& args) {
    auto store = open_store(cfg);
    if (!store) return store.error();
    auto role = auth::parse_role(args.role);
    if (!role) return fail(exit_usage, fmt::format("unknown role '{}'", args.role));
    auto created = auth::create_user(**store, args.email, args.password, args.name, *role,
                                     auth_password_cost(cfg.auth.password_cost));
    if (!created) return fail(exit_usage, created.error().detail);
    std::printf("created user %lld <%s> with role %s\n", static_cast<long long>(created->id),
                created->email.c_str(), args.role.c_str());
    return exit_ok;
}

}  // namespace tkt::app
