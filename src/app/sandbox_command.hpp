#pragma once
// `ticketon toss-sandbox` (DESIGN.md §7, §8): the Toss Payments sandbox alone, its API at the
// root of cfg.server.listen, clients authenticating with cfg.payment.toss.secret_key.
#include "common/config.hpp"

namespace tkt::app {

// Serves until SIGINT or SIGTERM. Returns the exit code: 0 after a signal, 1 when it cannot
// listen.
int toss_sandbox(const config& cfg);

}  // namespace tkt::app
