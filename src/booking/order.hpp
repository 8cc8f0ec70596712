#pragma once
// Orders and the data that travels with them. Plain data; the rules live in service.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "inventory/inventory.hpp"

namespace tkt::booking {

// The states of DESIGN.md §5; booking/money.hpp says which moves lead from one to another.
enum class order_status {
    pending_payment,
    confirming,
    paid,
    failed,
    expired,
    cancelled,
    refunded,
    refunding,
    refund_failed
};

std::string_view to_string(order_status s);
std::optional<order_status> parse_order_status(std::string_view s);

struct ticket_row {
    std::string id;
    std::string order_id;
    std::int64_t event_id = 0;
    std::int64_t user_id = 0;
    std::string seat;  // empty for general admission
    std::string zone;  // empty for reserved seating
    std::string grade;
    std::int64_t price = 0;
    std::string code;
    std::string status;  // VALID, USED, VOID
    std::string used_at;
    std::string created_at;
};

struct order {
    std::string id;
    std::string hold_id;
    std::int64_t event_id = 0;
    std::int64_t user_id = 0;
    order_status status = order_status::pending_payment;
    inventory::hold_items items;
    std::int64_t amount = 0;
    std::string currency = "KRW";
    std::int64_t expires_at = 0;  // unix seconds
    std::string payment_key;
    std::string failure_code;
    std::string failure_message;
    std::int64_t confirming_at = 0;
    std::int64_t next_check_at = 0;   // CONFIRMING, REFUNDING: when the reconciler looks next
    std::int64_t check_attempts = 0;  // REFUNDING: the reconciler's looks so far
    std::string created_at;
    std::string updated_at;
    std::string paid_at;
    std::string cancelled_at;
    std::vector<ticket_row> tickets;
};

boost::json::object to_json(const ticket_row& t);
boost::json::object to_json(const order& o);
// The answer to a hold (DESIGN.md §7), as JSON text: holdId, orderId, eventId, seats or zone +
// quantity, amount, currency, expiresAt. Written directly: it is the most frequent answer of an
// on-sale (docs/benchmarks.md).
std::string hold_json(const order& o);

}  // namespace tkt::booking
