#pragma once
// Failpoints: named places where a test can make the process fail on purpose, to prove that
// what must survive a crash does. Off unless the environment variable TICKETON_FAILPOINTS
// names them (comma-separated), read once at start. failpoint() ends the process at once with
// code 137, as if killed, without unwinding or flushing anything; failpoint_armed() lets the code
// take a wrong turn on purpose (the planted faults a test must catch).
// Example: TICKETON_FAILPOINTS=booking.after_provider_confirm
#include <string_view>

namespace tkt {

// Ends the process here when `name` is armed; otherwise does nothing (one branch).
void failpoint(std::string_view name);
// Whether `name` is armed.
bool failpoint_armed(std::string_view name);

}  // namespace tkt
