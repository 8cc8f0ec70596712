#pragma once
// Operational endpoints: /healthz (the process answers), /readyz (the database answers),
// /metrics (Prometheus text). No authentication: bind the listener to a private address or
// put them behind the proxy's own rules in production (docs/operations.md).
#include "db/database.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace tkt::app {

void register_ops_routes(http::router& routes, db::database& db, const http::metrics& m);
// The group commit's counters (db::database::writes) as /metrics lines.
void add_database_metrics(http::metrics& m, const db::database& db);

}  // namespace tkt::app
