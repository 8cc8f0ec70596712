// The `ticketon` command line (DESIGN.md §8): parse, then hand over to the subcommand.
#include <cstdio>
#include <exception>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/sandbox_command.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
    const auto cmd = tkt::app::parse_command_line(argc, argv, tkt::process_env());
    if (!cmd) {
        std::FILE* out = cmd.error().code == 0 ? stdout : stderr;
        std::fprintf(out, "%s\n", cmd.error().message.c_str());
        return cmd.error().code;
    }
    if (auto logging = tkt::log::init(cmd->cfg.log.level); !logging) {
        std::fprintf(stderr, "ticketon: %s\n", logging.error().c_str());
        return 2;
    }
    try {
        switch (cmd->which) {
            case tkt::app::command::kind::serve:
                return tkt::app::serve(cmd->cfg);
            case tkt::app::command::kind::migrate:
                return tkt::app::migrate(cmd->cfg);
            case tkt::app::command::kind::user_create:
                return tkt::app::user_create(cmd->cfg, cmd->user);
            case tkt::app::command::kind::toss_sandbox:
                return tkt::app::toss_sandbox(cmd->cfg);
            case tkt::app::command::kind::load:
                return tkt::load::run(cmd->load, stdout);
            case tkt::app::command::kind::version:
                std::printf("ticketon 0.1.0\n");
                return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ticketon: %s\n", e.what());
        return 1;
    }
    return 1;
}
