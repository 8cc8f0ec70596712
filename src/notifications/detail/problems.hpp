#pragma once
// The problem a failed database call becomes in this module's answers.
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::notifications::detail {

inline problem db_problem(const db::error& e) {
    auto p = make_problem(problem_code::unavailable, "the database is busy: " + e.message);
    p.retry_after_seconds = 1;
    return p;
}

}  // namespace tkt::notifications::detail
