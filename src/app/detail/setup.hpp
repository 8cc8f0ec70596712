#pragma once
// Start-up helpers shared by the subcommands (commands.cpp, serve.cpp): config → options.
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/service.hpp"
#include "common/config.hpp"
#include "db/database.hpp"
#include "http/server.hpp"

namespace tkt::app {

// Exit codes (DESIGN.md §8).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Prints "ticketon: <reason>" and returns `code`.
int fail(int code, std::string_view reason);
// Opens the database and brings its schema up to date; the error is the exit code.
std::expected<std::unique_ptr<db::database>, int> open_store(const config& cfg);
auth::password_cost auth_password_cost(password_cost_level level);
auth::service_options auth_options(const config& cfg);
std::vector<auth::jwt_key> configured_keys(const config& cfg);
// The threads that run the server's io_context: server.threads, or one per core when 0.
int io_threads(const config& cfg);
http::server_options server_options(const config& cfg);
void log_requests(http::server& srv);
// On SIGINT/SIGTERM: `on_stop()`, stop accepting, let requests in flight finish, then stop the
// io_context once every connection has closed or the grace period is over.
void shut_down_on_signal(boost::asio::io_context& io, boost::asio::signal_set& signals,
                         http::server& srv, std::chrono::milliseconds grace,
                         std::function<void()> on_stop);

}  // namespace tkt::app
