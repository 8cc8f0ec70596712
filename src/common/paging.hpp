#pragma once
// Page arithmetic for the paged lists (GET /events, GET /manager/events, GET /admin/users): the
// `page` and `size` a client asks for, checked, and the SQL LIMIT and OFFSET they make. Plain
// functions, no I/O; safe from any thread.
//
// The offset is bounded by page_offset_max, so page × size can neither overflow a 64-bit
// integer (undefined behaviour) nor make the database step over millions of rows to answer an
// empty page. Results that deep are reached by narrowing the filters instead.
#include <cstdint>

#include "common/problem.hpp"

namespace tkt {

inline constexpr std::int64_t page_offset_max = 1'000'000;

struct page_window {
    std::int64_t limit = 0;   // rows on the page: the size
    std::int64_t offset = 0;  // rows before it: page × size, at most page_offset_max
};

// The rows of page `page` (counted from 0) of `size` rows. VALIDATION_FAILED naming `page` when
// it is negative or its offset would pass page_offset_max, naming `size` outside 1..size_max.
result<page_window> page_window_of(std::int64_t page, std::int64_t size, std::int64_t size_max);

// Whether `page` and `size` passed page_window_of: for the stores, which assert it before they
// multiply.
bool page_in_bounds(std::int64_t page, std::int64_t size);

}  // namespace tkt
