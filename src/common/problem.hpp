#pragma once
// Business outcomes and request errors as values, mapped to an HTTP status and a stable
// `code` in one table (DESIGN.md §7). Rendered as application/problem+json by the HTTP layer.
// Plain data, no I/O; safe to use from any thread.
#include <expected>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace tkt {

enum class problem_code {
    validation_failed,
    amount_mismatch,
    unauthorized,
    payment_declined,
    forbidden,
    queue_token_required,
    queue_token_invalid,
    not_found,
    method_not_allowed,
    request_timeout,
    conflict,
    seat_unavailable,
    sold_out,
    sales_not_open,
    hold_expired,
    already_used,
    payload_too_large,
    headers_too_large,
    hold_limit_exceeded,
    account_locked,
    rate_limited,
    internal,
    unavailable,
    // Social login (issue 15): each a way the trip to an OAuth2 provider can end.
    oauth_state_invalid,       // 400: state missing, forged, expired, replayed, other browser
    oauth_denied,              // 401: the person or the provider said no
    oauth_code_invalid,        // 401: the provider refused the authorization code
    oauth_id_token_invalid,    // 401: bad signature, issuer, audience, expiry or nonce
    oauth_profile_incomplete,  // 422: no subject or no usable email in the profile
    oauth_provider_error,      // 502: the provider answered something we cannot use
};

// The HTTP status that always goes with the code.
int status_of(problem_code code);
// The stable machine-readable name, e.g. "VALIDATION_FAILED".
std::string_view name_of(problem_code code);
// A short human title, e.g. "Validation failed".
std::string_view title_of(problem_code code);

struct problem {
    problem_code code = problem_code::internal;
    std::string detail;
    // The request field at fault, for VALIDATION_FAILED.
    std::string field;
    // Seconds the client should wait, sent as Retry-After (RATE_LIMITED, UNAVAILABLE, locks).
    int retry_after_seconds = 0;
    // Extra members added to the body (e.g. `seats` for SEAT_UNAVAILABLE).
    boost::json::object extra;

    int status() const { return status_of(code); }
    // The application/problem+json body.
    std::string to_json() const;
};

// Thrown by an engine that cannot reach where it keeps its state (Redis down, a failover): the
// request is answered 503 UNAVAILABLE with Retry-After: 1 and the message as its detail, instead
// of a 500. What was asked was not done, or — after a timeout — may have been; every caller of an
// engine is written so that a retry is safe.
class unavailable_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline problem make_problem(problem_code code, std::string detail) {
    return problem{.code = code,
                   .detail = std::move(detail),
                   .field = {},
                   .retry_after_seconds = 0,
                   .extra = {}};
}
inline problem validation_error(std::string field, std::string_view detail) {
    std::string text = field + ": ";
    text += detail;
    return problem{.code = problem_code::validation_failed,
                   .detail = std::move(text),
                   .field = std::move(field),
                   .retry_after_seconds = 0,
                   .extra = {}};
}

template <class T>
using result = std::expected<T, problem>;

}  // namespace tkt
