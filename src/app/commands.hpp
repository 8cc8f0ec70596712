#pragma once
// What each `ticketon` subcommand does, once the command line has been parsed (app/cli.hpp).
// Each returns the process exit code: 0 ok, 2 bad configuration, 1 anything else (DESIGN.md §8).
#include "app/cli.hpp"
#include "common/config.hpp"

namespace tkt::app {

int serve(const config& cfg);
int migrate(const config& cfg);
int user_create(const config& cfg, const user_create_args& args);

}  // namespace tkt::app
