#include "common/problem.hpp"

#include <array>

#include <boost/json/serialize.hpp>

#include "common/assert.hpp"

namespace tkt {
namespace {

struct problem_info {
    problem_code code;
    int status;
    std::string_view name;
    std::string_view title;
};

// The one table: code → status, name, title. Order matches the enum.
constexpr std::array<problem_info, 29> infos{{
    {problem_code::validation_failed, 400, "VALIDATION_FAILED", "Validation failed"},
    {problem_code::amount_mismatch, 400, "AMOUNT_MISMATCH", "Amount does not match the order"},
    {problem_code::unauthorized, 401, "UNAUTHORIZED", "Unauthorized"},
    {problem_code::payment_declined, 402, "PAYMENT_DECLINED", "Payment declined"},
    {problem_code::forbidden, 403, "FORBIDDEN", "Forbidden"},
    {problem_code::queue_token_required, 403, "QUEUE_TOKEN_REQUIRED", "Entry token required"},
    {problem_code::queue_token_invalid, 403, "QUEUE_TOKEN_INVALID", "Entry token invalid"},
    {problem_code::not_found, 404, "NOT_FOUND", "Not found"},
    {problem_code::method_not_allowed, 405, "METHOD_NOT_ALLOWED", "Method not allowed"},
    {problem_code::request_timeout, 408, "REQUEST_TIMEOUT", "Request timeout"},
    {problem_code::conflict, 409, "CONFLICT", "Conflict"},
    {problem_code::seat_unavailable, 409, "SEAT_UNAVAILABLE", "Seat unavailable"},
    {problem_code::sold_out, 409, "SOLD_OUT", "Sold out"},
    {problem_code::sales_not_open, 409, "SALES_NOT_OPEN", "Sales not open"},
    {problem_code::hold_expired, 409, "HOLD_EXPIRED", "Hold expired"},
    {problem_code::already_used, 409, "ALREADY_USED", "Ticket already used"},
    {problem_code::payload_too_large, 413, "PAYLOAD_TOO_LARGE", "Payload too large"},
    {problem_code::headers_too_large, 431, "HEADERS_TOO_LARGE", "Request header fields too large"},
    {problem_code::hold_limit_exceeded, 422, "HOLD_LIMIT_EXCEEDED", "Hold limit exceeded"},
    {problem_code::account_locked, 423, "ACCOUNT_LOCKED", "Account locked"},
    {problem_code::rate_limited, 429, "RATE_LIMITED", "Too many requests"},
    {problem_code::internal, 500, "INTERNAL", "Internal server error"},
    {problem_code::unavailable, 503, "UNAVAILABLE", "Service unavailable"},
    {problem_code::oauth_state_invalid, 400, "OAUTH_STATE_INVALID", "Sign-in state invalid"},
    {problem_code::oauth_denied, 401, "OAUTH_DENIED", "Sign-in denied"},
    {problem_code::oauth_code_invalid, 401, "OAUTH_CODE_INVALID", "Authorization code invalid"},
    {problem_code::oauth_id_token_invalid, 401, "OAUTH_ID_TOKEN_INVALID", "ID token invalid"},
    {problem_code::oauth_profile_incomplete, 422, "OAUTH_PROFILE_INCOMPLETE", "Profile incomplete"},
    {problem_code::oauth_provider_error, 502, "OAUTH_PROVIDER_ERROR", "Sign-in provider error"},
}};

const problem_info& info(problem_code code) {
    const auto& i = infos[static_cast<std::size_t>(code)];
    TKT_ASSERT(i.code == code);
    return i;
}

}  // namespace

int status_of(problem_code code) {
    return info(code).status;
}
std::string_view name_of(problem_code code) {
    return info(code).name;
}
std::string_view title_of(problem_code code) {
    return info(code).title;
}

std::string problem::to_json() const {
    boost::json::object body = extra;
    body["type"] = "about:blank";
    body["title"] = title_of(code);
    body["status"] = status();
    body["detail"] = detail;
    body["code"] = name_of(code);
    if (!field.empty()) body["field"] = field;
    return boost::json::serialize(body);
}

}  // namespace tkt
