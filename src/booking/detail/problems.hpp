#pragma once
// Small helpers shared by the parts of booking::service (service*.cpp).
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "booking/order.hpp"
#include "common/log.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::booking::detail {

// A database failure as the client sees it: busy, try again (and a log line for us).
inline problem db_problem(const db::error& e) {
    log::error("booking.db_error", {{"error", e.message}});
    auto p = make_problem(problem_code::unavailable, "the database is busy; try again");
    p.retry_after_seconds = 1;
    return p;
}

// The `data` of an outbox message about an order.
inline std::string order_data_json(const order& o) {
    return boost::json::serialize(boost::json::object{{"orderId", o.id}, {"eventId", o.event_id}});
}

}  // namespace tkt::booking::detail
