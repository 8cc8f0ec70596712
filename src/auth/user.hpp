#pragma once
// The account model shared by the store, the service, the handlers and other modules that need
// to know who is calling (`principal`). Plain data.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace tkt::auth {

// Ordered: a higher role may do everything a lower one may.
enum class role { user = 0, manager = 1, admin = 2 };
enum class user_status { active, disabled, deleted };

std::string_view to_string(role r);                     // "USER", "MANAGER", "ADMIN"
std::optional<role> parse_role(std::string_view text);  // exact upper-case names only
std::string_view to_string(user_status s);              // "ACTIVE", "DISABLED", "DELETED"
std::optional<user_status> parse_user_status(std::string_view text);

inline bool at_least(role have, role need) {
    return static_cast<int>(have) >= static_cast<int>(need);
}

// An admin's lock has no end: locked_until is set to the last second of year 9999.
inline constexpr std::int64_t lock_forever_unix = 253402300799;

struct user {
    std::int64_t id = 0;
    std::string email;
    std::string name;
    std::string password_hash;
    auth::role role = role::user;
    user_status status = user_status::active;
    std::int64_t failed_logins = 0;
    std::optional<std::int64_t> locked_until;  // unix seconds
    std::string created_at;                    // RFC 3339 UTC
    std::string updated_at;

    bool locked_at(std::int64_t now_unix) const { return locked_until && *locked_until > now_unix; }
};

// Who is calling, once their access token and account have been checked. The role is the
// account's current one, read from the store, so a demotion takes effect at once.
struct principal {
    std::int64_t user_id = 0;
    auth::role role = role::user;
};

// "2027-01-15T08:00:00Z": whole seconds, UTC.
std::string format_rfc3339(time_point t);

}  // namespace tkt::auth
