#pragma once
// Programmer errors (a broken invariant) crash at once with file and line: always on.
// Expensive checks go in TKT_DEBUG_ASSERT, compiled out in release builds.
#include <cstdio>
#include <cstdlib>

namespace tkt::detail {
[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "ticketon: assertion failed: %s at %s:%d\n", expr, file, line);
    std::abort();
}
}  // namespace tkt::detail

#define TKT_ASSERT(expr) \
    ((expr) ? static_cast<void>(0) : ::tkt::detail::assert_failed(#expr, __FILE__, __LINE__))

#ifdef NDEBUG
#define TKT_DEBUG_ASSERT(expr) static_cast<void>(0)
#else
#define TKT_DEBUG_ASSERT(expr) TKT_ASSERT(expr)
#endif
