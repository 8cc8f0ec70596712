#include "auth/user.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <utility>

#include <fmt/core.h>

namespace tkt::auth {

std::string_view to_string(role r) {
    switch (r) {
        case role::user:
            return "USER";
        case role::manager:
            return "MANAGER";
        case role::admin:
            return "ADMIN";
    }
    return "USER";
}

std::optional<role> parse_role(std::string_view text) {
    if (text == "USER") return role::user;
    if (text == "MANAGER") return role::manager;
    if (text == "ADMIN") return role::admin;
    return std::nullopt;
}

std::string_view to_string(user_status s) {
    switch (s) {
        case user_status::active:
            return "ACTIVE";
        case user_status::disabled:
            return "DISABLED";
        case user_status::deleted:
            return "DELETED";
    }
    return "ACTIVE";
}

std::optional<user_status> parse_user_status(std::string_view text) {
    if (text == "ACTIVE") return user_status::active;
    if (text == "DISABLED") return user_status::disabled;
    if (text == "DELETED") return user_status::deleted;
    return std::nullopt;
}

std::string format_rfc3339(time_point t) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    // Most calls within one thread fall in one of the last two seconds it formatted: every order
    // write stamps the time, and a hold's answer also carries its expiry. Reuse that text.
    thread_local std::array<std::pair<sys_seconds, std::string>, 2> recent{};
    thread_local std::size_t older = 0;
    for (const auto& [at, text] : recent) {
        if (at == secs && !text.empty()) return text;
    }
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    auto text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                            static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                            hms.hours().count(), hms.minutes().count(), hms.seconds().count());
    recent[older] = {secs, text};
    older = 1 - older;
    return text;
}

}  // namespace tkt::auth
