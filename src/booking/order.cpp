#include "booking/order.hpp"

#include <array>

#include <boost/json/array.hpp>

#include "auth/user.hpp"
#include "common/json_text.hpp"

namespace tkt::booking {
namespace {

constexpr std::array<std::string_view, 9> status_names{
    "PENDING_PAYMENT", "CONFIRMING", "PAID",      "FAILED",       "EXPIRED",
    "CANCELLED",       "REFUNDED",   "REFUNDING", "REFUND_FAILED"};

std::string rfc3339(std::int64_t unix_s) {
    return auth::format_rfc3339(time_point{std::chrono::seconds{unix_s}});
}

boost::json::value text_or_null(const std::string& s) {
    return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

}  // namespace

std::string_view to_string(order_status s) {
    return status_names[static_cast<std::size_t>(s)];
}

std::optional<order_status> parse_order_status(std::string_view s) {
    for (std::size_t i = 0; i < status_names.size(); ++i) {
        if (status_names[i] == s) return static_cast<order_status>(i);
    }
    return std::nullopt;
}

boost::json::object to_json(const ticket_row& t) {
    return {{"id", t.id},
            {"orderId", t.order_id},
            {"eventId", t.event_id},
            {"seat", text_or_null(t.seat)},
            {"zone", text_or_null(t.zone)},
            {"grade", t.grade},
            {"price", t.price},
            {"status", t.status},
            {"usedAt", text_or_null(t.used_at)},
            {"createdAt", t.created_at},
            {"code", t.code}};
}

namespace {

// What was held: "seats", or "zone" and "quantity" for general admission.
void put_items(boost::json::object& j, const order& o) {
    if (o.items.seats.empty()) {
        j["zone"] = o.items.zone;
        j["quantity"] = o.items.quantity;
    } else {
        j["seats"] = boost::json::array(o.items.seats.begin(), o.items.seats.end());
    }
}

}  // namespace

std::string hold_json(const order& o) {
    std::string out;
    out.reserve(200 + 16 * o.items.seats.size());
    out += R"({"holdId":)";
    append_json_string(out, o.hold_id);
    out += R"(,"orderId":)";
    append_json_string(out, o.id);
    out += R"(,"eventId":)";
    append_json_int(out, o.event_id);
    if (o.items.seats.empty()) {
        out += R"(,"zone":)";
        append_json_string(out, o.items.zone);
        out += R"(,"quantity":)";
        append_json_int(out, o.items.quantity);
    } else {
        out += R"(,"seats":[)";
        for (std::size_t i = 0; i < o.items.seats.size(); ++i) {
            if (i > 0) out += ',';
            append_json_string(out, o.items.seats[i]);
        }
        out += ']';
    }
    out += R"(,"amount":)";
    append_json_int(out, o.amount);
    out += R"(,"currency":)";
    append_json_string(out, o.currency);
    out += R"(,"expiresAt":)";
    append_json_string(out, rfc3339(o.expires_at));
    out += '}';
    return out;
}

boost::json::object to_json(const order& o) {
    boost::json::object j{{"id", o.id},
                          {"holdId", o.hold_id},
                          {"status", to_string(o.status)},
                          {"eventId", o.event_id},
                          {"amount", o.amount},
                          {"currency", o.currency},
                          {"expiresAt", rfc3339(o.expires_at)},
                          {"createdAt", o.created_at}};
    put_items(j, o);
    j["paymentKey"] = text_or_null(o.payment_key);
    j["paidAt"] = text_or_null(o.paid_at);
    j["cancelledAt"] = text_or_null(o.cancelled_at);
    if (!o.failure_code.empty()) {
        j["failure"] =
            boost::json::object{{"code", o.failure_code}, {"message", o.failure_message}};
    }
    boost::json::array tickets;
    for (const auto& t : o.tickets) tickets.emplace_back(to_json(t));
    j["tickets"] = std::move(tickets);
    return j;
}

}  // namespace tkt::booking
