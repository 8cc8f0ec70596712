#pragma once
// The `ticketon` command line (DESIGN.md §8): which subcommand to run, with its configuration
// already loaded and checked (common/config.hpp), or how to exit instead.
//
//   ticketon serve [--config F] [--listen HOST:PORT] [--data-dir DIR] [--roles R] [--db URL]
//                  [--redis URL] [--no-demo]
//   ticketon migrate [--config F] [--data-dir DIR] [--db URL]
//   ticketon user create --email E --password P --name N --role ADMIN|MANAGER|USER
//                        [--config F] [--data-dir DIR] [--db URL]
//   ticketon toss-sandbox [--config F] [--listen HOST:PORT]
//   ticketon load onsale --target URL[,URL…] [--sandbox URL] [--users N] [--duration S] [--rate R]
//                 [--decline-rate F] [--abandon-rate F] [--cancel-rate F]
//                 [--event ID | --seats N] --manager-email E --manager-password P
//                 [--json FILE] [--chart FILE.svg] [--connections N] [--streams-max N]
//                 [--admit-per-second N]
//   ticketon version
//
// Parsing prints nothing: the caller prints cli_exit::message (to stdout for code 0, stderr
// otherwise) and exits with cli_exit::code. The environment comes in as a lookup function so
// tests control it; the configuration file is the only thing read from disk.
#include <expected>
#include <string>

#include "common/config.hpp"
#include "load/run.hpp"

namespace tkt::app {

struct user_create_args {
    std::string email;
    std::string password;
    std::string name;
    // "ADMIN", "MANAGER" or "USER" (already checked).
    std::string role;
};

struct command {
    enum class kind { serve, migrate, user_create, toss_sandbox, load, version };

    kind which = kind::version;
    // Loaded for serve, migrate, user_create and toss_sandbox; the defaults for version.
    config cfg;
    // Filled in for user_create only.
    user_create_args user;
    // Filled in for load only.
    load::options load;
};

struct cli_exit {
    // 0 after --help, 2 for bad usage or a bad configuration (DESIGN.md §8).
    int code = 2;
    // What to print, ready as is: the help text, or one line "ticketon: <reason>".
    std::string message;
};

// `argv[0]` is the program name, as main() receives it.
std::expected<command, cli_exit> parse_command_line(int argc, const char* const* argv,
                                                    const env_lookup& env);

}  // namespace tkt::app
