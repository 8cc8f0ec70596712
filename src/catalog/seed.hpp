#pragma once
// Demo data for `ticketon serve` with demo mode on: when the catalog is empty, a demo manager
// (demo-manager@ticketon.local, a random password logged once) and three ON_SALE events: one
// with reserved seats, one general admission, and one with its waiting room on (five people a
// second), so a fresh install has something to book and a line to stand in.
// Run it once at start-up, after catalog::service::load_all and before serving.
#include <boost/asio/awaitable.hpp>

#include "auth/password.hpp"
#include "catalog/service.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::catalog {

inline constexpr std::string_view demo_manager_email = "demo-manager@ticketon.local";

// Creates the demo data when the events table is empty; does nothing otherwise. Returns the
// number of events created (0 or 3).
boost::asio::awaitable<result<int>> seed_demo(service& svc, db::database& db, const clock& clk,
                                              auth::password_cost cost);

}  // namespace tkt::catalog
