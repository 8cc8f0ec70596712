#include "app/cli.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace tkt::app {
namespace {

constexpr int exit_help = 0;
constexpr int exit_usage = 2;

// Where CLI11 stores one subcommand's configuration flags. CLI11 fills plain strings; whether a
// flag was given at all is read back from its CLI::Option, so an empty value stays distinct
// from an absent flag.
struct config_flags {
    std::string config_file;
    std::string data_dir;
    std::string db_url;
    std::string listen;
    std::string roles;
    std::string redis_url;
    bool no_demo = false;

    CLI::Option* config_file_opt = nullptr;
    CLI::Option* data_dir_opt = nullptr;
    CLI::Option* db_url_opt = nullptr;
    CLI::Option* listen_opt = nullptr;
    CLI::Option* roles_opt = nullptr;
    CLI::Option* redis_url_opt = nullptr;
    CLI::Option* no_demo_opt = nullptr;
};

// --config, --data-dir and --db, which every subcommand that touches the database takes.
void add_storage_flags(CLI::App& sub, config_flags& f) {
    f.config_file_opt = sub.add_option("--config", f.config_file,
                                       "configuration file (default: ./ticketon.toml if present)");
    f.data_dir_opt = sub.add_option("--data-dir", f.data_dir, "data directory (default ./data)");
    f.db_url_opt = sub.add_option("--db", f.db_url,
                                  "sqlite:///path/file.db or mysql://user:pass@host:port/db");
}

void add_serve_flags(CLI::App& sub, config_flags& f) {
    add_storage_flags(sub, f);
    f.listen_opt = sub.add_option("--listen", f.listen, "HOST:PORT (default 127.0.0.1:8080)");
    f.roles_opt =
        sub.add_option("--roles", f.roles, "all, or a comma list of api,queue,dispatcher");
    f.redis_url_opt = sub.add_option("--redis", f.redis_url,
                                     "redis://host:port (several, comma-separated, for a Cluster)");
    f.no_demo_opt = sub.add_flag("--no-demo", f.no_demo, "do not seed the demo event");
}

// The standalone Toss sandbox needs only an address and the secret key (from the config).
void add_sandbox_flags(CLI::App& sub, config_flags& f) {
    f.config_file_opt = sub.add_option("--config", f.config_file,
                                       "configuration file (default: ./ticketon.toml if present)");
    f.listen_opt = sub.add_option("--listen", f.listen, "HOST:PORT (default 127.0.0.1:8080)");
}

void add_user_flags(CLI::App& create, user_create_args& u, config_flags& f) {
    create.add_option("--email", u.email, "the user's email address")->required();
    create.add_option("--password", u.password, "the user's password")->required();
    create.add_option("--name", u.name, "the user's display name")->required();
    create.add_option("--role", u.role, "ADMIN, MANAGER or USER")
        ->required()
        ->check(CLI::IsMember({"ADMIN", "MANAGER", "USER"}));
    add_storage_flags(create, f);
}

std::optional<std::string> given(const CLI::Option* opt, const std::string& value) {
    if (opt == nullptr || opt->count() == 0) return std::nullopt;
    return value;
}

config_overrides to_overrides(const config_flags& f) {
    config_overrides o;
    o.config_file = given(f.config_file_opt, f.config_file);
    o.data_dir = given(f.data_dir_opt, f.data_dir);
    o.db_url = given(f.db_url_opt, f.db_url);
    o.listen = given(f.listen_opt, f.listen);
    o.roles = given(f.roles_opt, f.roles);
    o.redis_url = given(f.redis_url_opt, f.redis_url);
    if (f.no_demo_opt != nullptr && f.no_demo_opt->count() > 0) o.demo = false;
    return o;
}

cli_exit usage_error(std::string reason) {
    // CLI11 sometimes wraps long messages; the promise is one line.
    std::ranges::replace(reason, '\n', ' ');
    return cli_exit{exit_usage, "ticketon: " + reason};
}

// An explicit --config must exist; the default file is read only if it is there.
std::expected<config, cli_exit> load(const config_flags& f, const env_lookup& env) {
    const config_overrides overrides = to_overrides(f);
    const auto text =
        overrides.config_file
            ? read_config_file(*overrides.config_file, file_presence::required)
            : read_config_file(std::string(default_config_file), file_presence::optional);
    if (!text) return std::unexpected(usage_error(text.error()));
    auto cfg = load_config(*text, env, overrides);
    if (!cfg) return std::unexpected(usage_error(cfg.error()));
    return std::move(*cfg);
}

// Whether `cmd` serves the Toss sandbox: `toss-sandbox` always, `serve` when the provider is
// the sandbox (it mounts it at /sandbox/toss on its own listener).
bool serves_sandbox(const command& cmd) {
    return cmd.which == command::kind::toss_sandbox ||
           (cmd.which == command::kind::serve &&
            cmd.cfg.payment.provider == payment_provider::sandbox);
}

// The whole command tree and the variables CLI11 writes into. Built afresh for every parse,
// and not movable, because CLI11 keeps pointers into it.
class parser {
public:
    parser() {
        // Zero is allowed so that a missing command gets our own message instead of CLI11's
        // bare "A subcommand is required".
        app_.require_subcommand(0, 1);
        serve_ = app_.add_subcommand("serve", "run the server");
        add_serve_flags(*serve_, serve_flags_);
        migrate_ = app_.add_subcommand("migrate", "apply schema migrations and exit");
        add_storage_flags(*migrate_, migrate_flags_);
        user_ = app_.add_subcommand("user", "manage users");
        user_->require_subcommand(0, 1);
        create_ = user_->add_subcommand("create", "create a user");
        add_user_flags(*create_, user_args_, user_flags_);
        sandbox_ = app_.add_subcommand("toss-sandbox", "run the Toss Payments sandbox alone");
        add_sandbox_flags(*sandbox_, sandbox_flags_);
        load_ = app_.add_subcommand("load", "drive simulated users against a deployment");
        add_load_flags();
        version_ = app_.add_subcommand("version", "print the version and exit");
    }
    parser(const parser&) = delete;
    parser& operator=(const parser&) = delete;

    std::expected<command, cli_exit> parse(int argc, const char* const* argv,
                                           const env_lookup& env) {
        try {
            app_.parse(argc, argv);
        } catch (const CLI::CallForAllHelp&) {
            return std::unexpected(cli_exit{exit_help, app_.help("", CLI::AppFormatMode::All)});
        } catch (const CLI::CallForHelp&) {
            // help() shows the help of the subcommand that was named, if any.
            return std::unexpected(cli_exit{exit_help, app_.help()});
        } catch (const CLI::ExtrasError& e) {
            if (app_.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
                return std::unexpected(usage_error(
                    fmt::format("unknown command \"{}\" ({})", argv[1], commands_hint)));
            }
            return std::unexpected(usage_error(e.what()));
        } catch (const CLI::ParseError& e) {
            return std::unexpected(usage_error(e.what()));
        }
        return selected(env);
    }

private:
    static constexpr std::string_view commands_hint =
        "expected serve, migrate, user create, toss-sandbox, load or version; see ticketon --help";

    std::expected<command, cli_exit> selected(const env_lookup& env) {
        command cmd;
        const config_flags* flags = nullptr;
        if (serve_->parsed()) {
            cmd.which = command::kind::serve;
            flags = &serve_flags_;
        } else if (migrate_->parsed()) {
            cmd.which = command::kind::migrate;
            flags = &migrate_flags_;
        } else if (create_->parsed()) {
            cmd.which = command::kind::user_create;
            cmd.user = user_args_;
            flags = &user_flags_;
        } else if (sandbox_->parsed()) {
            cmd.which = command::kind::toss_sandbox;
            flags = &sandbox_flags_;
        } else if (version_->parsed()) {
            cmd.which = command::kind::version;
            return cmd;
        } else if (load_->parsed()) {
            return load_command();
        } else if (user_->parsed()) {
            return std::unexpected(usage_error("user needs a command: create"));
        } else {
            return std::unexpected(
                usage_error(fmt::format("a command is required ({})", commands_hint)));
        }
        auto cfg = load(*flags, env);
        if (!cfg) return std::unexpected(std::move(cfg.error()));
        cmd.cfg = std::move(*cfg);
        if (serves_sandbox(cmd)) {
            if (auto ok = check_sandbox_listen(cmd.cfg); !ok)
                return std::unexpected(usage_error(std::move(ok.error())));
        }
        return cmd;
    }

    CLI::App app_{"Ticketon: a ticket-booking server", "ticketon"};
    CLI::App* serve_ = nullptr;
    CLI::App* migrate_ = nullptr;
    CLI::App* user_ = nullptr;
    CLI::App* create_ = nullptr;
    CLI::App* sandbox_ = nullptr;
    CLI::App* version_ = nullptr;
    CLI::App* load_ = nullptr;
    load::options load_options_;
    std::string load_targets_;
    std::string load_sandbox_;
    std::int64_t load_event_ = 0;

    void add_load_flags() {
        auto& o = load_options_;
        load_->add_option("scenario", o.scenario, "onsale, seatmap, hold, join or streams")
            ->required();
        load_->add_option("--target", load_targets_, "http://HOST:PORT[,…]")->required();
        load_->add_option("--users", o.users, "simulated users")->check(CLI::Range(1, 10'000'000));
        load_->add_option("--duration", o.duration_s, "seconds the run may last")
            ->check(CLI::Range(1, 86'400));
        load_->add_option("--rate", o.rate, "users started per second (0: all at once)")
            ->check(CLI::Range(0.0, 1e7));
        load_->add_option("--decline-rate", o.decline_rate, "share of payments declined")
            ->check(CLI::Range(0.0, 1.0));
        load_->add_option("--abandon-rate", o.abandon_rate, "share of holds abandoned")
            ->check(CLI::Range(0.0, 1.0));
        load_->add_option("--cancel-rate", o.cancel_rate, "share of paid orders cancelled")
            ->check(CLI::Range(0.0, 1.0));
        load_->add_option("--sandbox", load_sandbox_,
                          "where users pay: a `ticketon toss-sandbox` (http://HOST:PORT); "
                          "default: each target's /sandbox/toss");
        load_->add_option("--event", load_event_, "an event on sale (else one is created)")
            ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
        load_->add_option("--seats", o.seats, "seats of the event the run creates")
            ->check(CLI::Range(1, 100'000));
        load_
            ->add_option("--admit-per-second", o.admit_per_second,
                         "its waiting room's rate (0: users / 20, at least 50)")
            ->check(CLI::Range(0, 1'000'000));
        load_->add_option("--manager-email", o.manager_email, "the event's manager")->required();
        load_->add_option("--manager-password", o.manager_password)->required();
        load_->add_option("--json", o.json_file, "write the figures here");
        load_->add_option("--chart", o.chart_file, "write an SVG chart here");
        load_
            ->add_option("--connections", o.connections,
                         "sockets open at once, streams included (keep it under the server's "
                         "server.max_connections and the file limits)")
            ->check(CLI::Range(2, 1'000'000));
        load_
            ->add_option("--streams-max", o.streams_max,
                         "queue streams open at once (at most 3/4 of --connections); the other "
                         "waiting users poll")
            ->check(CLI::Range(0, 1'000'000));
        load_->add_option("--seed", o.seed, "random seed");
    }

    std::expected<command, cli_exit> load_command() {
        command cmd;
        cmd.which = command::kind::load;
        cmd.load = load_options_;
        const auto& sc = cmd.load.scenario;
        if (sc != "onsale" && sc != "seatmap" && sc != "hold" && sc != "join" && sc != "streams")
            return std::unexpected(usage_error(fmt::format(
                "load: unknown scenario \"{}\" (onsale, seatmap, hold, join or streams)", sc)));
        std::string_view rest = load_targets_;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto one = rest.substr(0, comma);
            auto t = load::parse_target(one);
            if (!t)
                return std::unexpected(usage_error(fmt::format(
                    "load: --target {} is not http://ADDRESS:PORT (an IP address)", one)));
            cmd.load.targets.push_back(std::move(*t));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
        if (cmd.load.targets.empty())
            return std::unexpected(usage_error("load: --target is empty"));
        if (!load_sandbox_.empty()) {
            auto t = load::parse_target(load_sandbox_);
            if (!t)
                return std::unexpected(usage_error(
                    fmt::format("load: --sandbox {} is not http://ADDRESS:PORT (an IP address)",
                                load_sandbox_)));
            cmd.load.sandbox = std::move(*t);
        }
        if (load_event_ > 0) cmd.load.event_id = load_event_;
        return cmd;
    }
    config_flags serve_flags_;
    config_flags migrate_flags_;
    config_flags user_flags_;
    config_flags sandbox_flags_;
    user_create_args user_args_;
};

}  // namespace

std::expected<command, cli_exit> parse_command_line(int argc, const char* const* argv,
                                                    const env_lookup& env) {
    parser p;
    return p.parse(argc, argv, env);
}

}  // namespace tkt::app
