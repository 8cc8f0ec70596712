#pragma once
// Operational endpoints: /healthz (the process answers), /readyz (the database answers, and
// every other store the node depends on: Redis in a distributed deployment),
// /metrics (Prometheus text). No authentication: bind the listener to a private address or
// put them behind the proxy's own rules in production (docs/operations.md).
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "db/database.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace tkt::app {

// One more thing /readyz asks: its name in `checks` and whether it answers now.
struct readiness_check {
    std::string name;
    std::function<boost::asio::awaitable<bool>()> ok;
};

void register_ops_routes(http::router& routes, db::database& db, const http::metrics& m,
                         std::vector<readiness_check> more = {});
// The group commit's counters (db::database::writes) as /metrics lines.
void add_database_metrics(http::metrics& m, const db::database& db);

}  // namespace tkt::app
