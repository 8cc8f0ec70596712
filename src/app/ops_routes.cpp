#include "app/ops_routes.hpp"

#include <fmt/format.h>

#include <boost/json/object.hpp>

namespace tkt::app {

void register_ops_routes(http::router& routes, db::database& db, const http::metrics& m,
                         std::vector<readiness_check> more) {
    routes.add(http::verb::get, "/healthz",
               [](http::request&) -> boost::asio::awaitable<http::response> {
                   co_return http::json_response(200, boost::json::object{{"status", "ok"}});
               });
    routes.add(
        http::verb::get, "/readyz",
        [&db, more = std::move(more)](http::request&) -> boost::asio::awaitable<http::response> {
            bool database_ok = co_await db.ping();
            boost::json::object checks{{"database", database_ok ? "ok" : "down"}};
            std::string down = database_ok ? "" : "the database";
            for (const auto& check : more) {
                bool ok = false;
                try {
                    ok = co_await check.ok();
                } catch (const std::exception&) {
                    ok = false;
                }
                checks[check.name] = ok ? "ok" : "down";
                if (!ok) down += (down.empty() ? "" : " and ") + check.name;
            }
            if (!down.empty()) {
                auto p = make_problem(problem_code::unavailable, down + " does not answer");
                p.retry_after_seconds = 5;
                p.extra["checks"] = checks;
                co_return http::problem_response(p);
            }
            co_return http::json_response(
                200, boost::json::object{{"status", "ready"}, {"checks", checks}});
        });
    routes.add(http::verb::get, "/metrics",
               [&m](http::request&) -> boost::asio::awaitable<http::response> {
                   http::response res;
                   res.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   res.body = m.render();
                   co_return res;
               });
}

void add_database_metrics(http::metrics& m, const db::database& db) {
    m.add_collector([&db](std::string& out) {
        const auto w = db.writes();
        http::append_counter(out, "ticketon_db_write_batches_total",
                             "Group commits of the database writer.", w.batches);
        http::append_counter(out, "ticketon_db_writes_total",
                             "Writes (holds, releases) the group commits carried.", w.writes);
        out += fmt::format(
            "# HELP ticketon_db_writes_queued Writes waiting for the database writer now.\n"
            "# TYPE ticketon_db_writes_queued gauge\n"
            "ticketon_db_writes_queued {}\n",
            w.queued);
        http::append_counter(out, "ticketon_db_checkpoints_total",
                             "Passive WAL checkpoints (background copies and the writer finishing "
                             "them).",
                             w.checkpoints);
    });
}

}  // namespace tkt::app
