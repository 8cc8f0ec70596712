#pragma once
// A failed database call as a client sees it (every module's answers use this one mapping):
// busy or unreachable → 503 UNAVAILABLE with Retry-After: 1 (it comes back by itself: a lock
// released, MariaDB restarted); anything else → 500 with no detail. `module` names the log line
// (`<module>.db_error`), which carries the engine's own message.
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::db {

inline problem as_problem(const error& e, std::string_view module) {
    log::error(std::string(module) + ".db_error", {{"error", e.message}});
    if (e.code == errc::busy || e.code == errc::unavailable) {
        auto p = make_problem(problem_code::unavailable,
                              e.code == errc::busy ? "the database is busy; try again"
                                                   : "the database cannot be reached; try again");
        p.retry_after_seconds = 1;
        return p;
    }
    return make_problem(problem_code::internal, "database error");
}

}  // namespace tkt::db
