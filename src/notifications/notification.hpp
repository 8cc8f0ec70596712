#pragma once
// A notification (DESIGN.md §7, issue 12): what a user was told about their booking, or a
// notice from an event's manager or an admin. Plain data and its wire forms, no I/O; safe from
// any thread.
//
// The same JSON object travels everywhere a notification goes: in GET /notifications' items, as
// the data of a stream's `notification` event (whose SSE id is the notification's id), and on
// the bus from the dispatcher to every node (topic "notify.<userId>").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/problem.hpp"

namespace tkt::notifications {

// The kinds a user can be told of. The sale writes the first six with the change they report.
inline constexpr std::string_view booking_confirmed = "BOOKING_CONFIRMED";
inline constexpr std::string_view payment_failed = "PAYMENT_FAILED";
inline constexpr std::string_view hold_expired = "HOLD_EXPIRED";
inline constexpr std::string_view booking_cancelled = "BOOKING_CANCELLED";
inline constexpr std::string_view order_refunded = "ORDER_REFUNDED";
inline constexpr std::string_view event_cancelled = "EVENT_CANCELLED";
inline constexpr std::string_view notice = "NOTICE";

struct notification {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string type;
    std::string title;
    std::string body;
    std::string data_json;   // a JSON object, e.g. {"orderId":"...","eventId":7}
    std::string created_at;  // RFC 3339 UTC
    std::optional<std::string> read_at;
};

// {"id":…,"type":…,"title":…,"body":…,"data":{…},"createdAt":…,"readAt":…|null}. The id comes
// first: the stream reads it back from the bus message without parsing the rest.
std::string to_json(const notification& n);
// The id at the start of to_json's text; nullopt for anything else.
std::optional<std::int64_t> id_of(std::string_view json);

// The bus topic of a user's notifications.
std::string user_topic(std::int64_t user_id);

// A manager's or an admin's notice (POST /notifications), checked.
struct notice_request {
    std::optional<std::int64_t> user_id;   // to one user (admins only)
    std::optional<std::int64_t> event_id;  // to every ticket holder of the event
    std::string title;
    std::string body;
};
inline constexpr std::size_t notice_title_max = 200;  // characters (UTF-8 code points)
inline constexpr std::size_t notice_body_max = 1000;
// Exactly one of userId and eventId (positive ids), a title of 1–200 and a body of 1–1000
// characters, valid UTF-8 without control characters but line breaks in the body and tabs.
// VALIDATION_FAILED names the field at fault.
result<notice_request> check_notice(std::optional<std::int64_t> user_id,
                                    std::optional<std::int64_t> event_id, std::string title,
                                    std::string body);

// What GET /notifications may ask for.
struct list_request {
    bool unread_only = false;
    std::int64_t limit = 20;             // 1..100
    std::optional<std::int64_t> before;  // only ids below this (the next page)
};
inline constexpr std::int64_t list_limit_max = 100;
// From the query's raw parameters (each nullopt when absent): `unread` true|false, `limit`
// 1..100, `before` a positive id. VALIDATION_FAILED names the parameter.
result<list_request> check_list(std::optional<std::string_view> unread,
                                std::optional<std::string_view> limit,
                                std::optional<std::string_view> before);

}  // namespace tkt::notifications
