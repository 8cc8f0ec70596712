#include "app/cli.hpp"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace tkt::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::expected<command, cli_exit> parse(
    std::initializer_list<const char*> args,
    const std::map<std::string, std::string, std::less<>>& env = {}) {
    std::vector<const char*> argv{"ticketon"};
    argv.insert(argv.end(), args.begin(), args.end());
    const env_lookup lookup = [&env](std::string_view name) -> std::optional<std::string> {
        const auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), lookup);
}

// A usage error is exit code 2 and exactly one line starting "ticketon: ".
void expect_usage_error(const std::expected<command, cli_exit>& r, std::string_view fragment) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, 2);
    EXPECT_THAT(r.error().message, StartsWith("ticketon: "));
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
    EXPECT_THAT(r.error().message, HasSubstr(fragment));
}

// A configuration file in the temporary directory, removed at the end of the test. Named after
// the process and the test: CTest runs each test in a process of its own, several at once.
class temp_config {
public:
    explicit temp_config(std::string_view text)
        : path_(std::filesystem::temp_directory_path() /
                ("ticketon-cli-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml")) {
        std::ofstream(path_) << text;
    }
    ~temp_config() { std::filesystem::remove(path_); }
    temp_config(const temp_config&) = delete;
    temp_config& operator=(const temp_config&) = delete;

    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

TEST(cli, serve_takes_flags_over_environment_over_file) {
    temp_config file(R"(
data_dir = "/from-file"
[server]
listen = "127.0.0.1:1111"
threads = 2
[db]
pool_size = 7
)");
    const auto path = file.path();
    const auto r = parse({"serve", "--config", path.c_str(), "--listen", "0.0.0.0:3333",
                          "--no-demo", "--roles", "api", "--redis", "redis://r:6379"},
                         {{"TICKETON_SERVER_LISTEN", "127.0.0.1:2222"},
                          {"TICKETON_SERVER_THREADS", "4"},
                          {"TICKETON_DATA_DIR", "/from-env"},
                          // The default provider, the sandbox, on 0.0.0.0.
                          {"TICKETON_PAYMENT_SANDBOX_PUBLIC", "true"}});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->which, command::kind::serve);
    EXPECT_EQ(r->cfg.server.listen.to_string(), "0.0.0.0:3333");  // flag
    EXPECT_EQ(r->cfg.server.threads, 4);                          // environment
    EXPECT_EQ(r->cfg.data_dir, "/from-env");                      // environment
    EXPECT_EQ(r->cfg.db.pool_size, 7);                            // file
    EXPECT_EQ(r->cfg.db.busy_timeout_ms, 5000);                   // default
    EXPECT_FALSE(r->cfg.demo);
    EXPECT_EQ(r->cfg.roles.to_string(), "api");
    EXPECT_EQ(r->cfg.redis.url, "redis://r:6379");
}

TEST(cli, migrate_takes_the_storage_flags) {
    temp_config file("[db]\nurl = \"sqlite:///file.db\"\n");
    const auto path = file.path();
    const auto r = parse({"migrate", "--config", path.c_str(), "--data-dir", "/d"});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->which, command::kind::migrate);
    EXPECT_EQ(r->cfg.data_dir, "/d");
    EXPECT_EQ(r->cfg.effective_db_url(), "sqlite:///file.db");
    const auto db_flag = parse({"migrate", "--config", path.c_str(), "--db", "sqlite:///flag.db"});
    ASSERT_TRUE(db_flag.has_value()) << db_flag.error().message;
    EXPECT_EQ(db_flag->cfg.effective_db_url(), "sqlite:///flag.db");
    expect_usage_error(parse({"migrate", "--listen", "127.0.0.1:1"}), "--listen");
}

TEST(cli, a_bad_flag_value_is_one_line_and_code_2) {
    expect_usage_error(parse({"serve", "--listen", "127.0.0.1:99999"}),
                       "invalid value for server.listen (--listen)");
    expect_usage_error(parse({"serve", "--roles", "api,web"}), "unknown role \"web\"");
    expect_usage_error(parse({"serve", "--db", "postgres://x"}), "db.url (--db)");
    expect_usage_error(parse({"serve", "--listen"}), "--listen");
    expect_usage_error(parse({"serve", "--bogus"}), "--bogus");
}

TEST(cli, a_bad_environment_value_is_a_usage_error) {
    expect_usage_error(parse({"serve"}, {{"TICKETON_SERVER_MAX_BODY_BYTES", "abc"}}),
                       "invalid value for server.max_body_bytes (TICKETON_SERVER_MAX_BODY_BYTES)");
}

TEST(cli, a_missing_explicit_config_file_is_a_usage_error) {
    const auto missing = std::filesystem::temp_directory_path() / "ticketon-cli-missing.toml";
    std::filesystem::remove(missing);
    const std::string path = missing.string();
    expect_usage_error(parse({"serve", "--config", path.c_str()}), "cannot read config file");
}

TEST(cli, a_bad_config_file_is_a_usage_error_naming_the_file) {
    temp_config file("[server]\nthraeds = 2\n");
    const auto path = file.path();
    expect_usage_error(parse({"serve", "--config", path.c_str()}),
                       "unknown key server.thraeds (" + path + ":2)");
}

TEST(cli, toss_sandbox_takes_listen_and_the_secret_key_from_the_config) {
    temp_config file("[payment.toss]\nsecret_key = \"test_sk_from_file\"\n");
    const auto path = file.path();
    const auto r = parse({"toss-sandbox", "--config", path.c_str(), "--listen", "127.0.0.1:9191"});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->which, command::kind::toss_sandbox);
    EXPECT_EQ(r->cfg.server.listen.to_string(), "127.0.0.1:9191");
    EXPECT_EQ(r->cfg.payment.toss.secret_key, "test_sk_from_file");
    expect_usage_error(parse({"toss-sandbox", "--listen", "nowhere"}), "listen");
    expect_usage_error(parse({"toss-sandbox", "--db", "sqlite:///x.db"}), "--db");
}

TEST(cli, the_sandbox_refuses_a_public_listen_address_unless_allowed) {
    const auto* why = "payment.sandbox_public";
    expect_usage_error(parse({"serve", "--listen", "0.0.0.0:8080"}), why);
    expect_usage_error(parse({"serve", "--listen", "[::]:8080"}), why);
    expect_usage_error(parse({"serve"}, {{"TICKETON_SERVER_LISTEN", "10.1.2.3:80"}}), why);
    expect_usage_error(parse({"toss-sandbox", "--listen", "0.0.0.0:9191"}), why);
    // A toss-sandbox runs the sandbox whatever payment.provider says.
    expect_usage_error(parse({"toss-sandbox", "--listen", "0.0.0.0:9191"},
                             {{"TICKETON_PAYMENT_PROVIDER", "toss"}}),
                       why);

    const std::map<std::string, std::string, std::less<>> allowed{
        {"TICKETON_PAYMENT_SANDBOX_PUBLIC", "true"}};
    EXPECT_TRUE(parse({"serve", "--listen", "0.0.0.0:8080"}, allowed));
    EXPECT_TRUE(parse({"toss-sandbox", "--listen", "0.0.0.0:9191"}, allowed));
    temp_config file("[payment]\nsandbox_public = true\n");
    const auto path = file.path();
    EXPECT_TRUE(parse({"serve", "--config", path.c_str(), "--listen", "0.0.0.0:8080"}));

    // Loopback listeners, and the real provider anywhere, are not this check's business.
    for (const auto* listen : {"127.0.0.1:8080", "127.0.0.9:8080", "[::1]:8080", "localhost:8080"})
        EXPECT_TRUE(parse({"serve", "--listen", listen})) << listen;
    EXPECT_TRUE(
        parse({"serve", "--listen", "0.0.0.0:8080"}, {{"TICKETON_PAYMENT_PROVIDER", "toss"}}));
    // Commands that do not listen do not care.
    EXPECT_TRUE(parse({"migrate"}, {{"TICKETON_SERVER_LISTEN", "0.0.0.0:8080"}}));
}

TEST(cli, unknown_or_missing_subcommand_is_code_2) {
    expect_usage_error(parse({"frobnicate"}), "unknown command \"frobnicate\"");
    expect_usage_error(parse({}), "a command is required");
    expect_usage_error(parse({"user"}), "user needs a command");
    expect_usage_error(parse({"user", "delete"}), "delete");
}

TEST(cli, user_create_requires_every_argument) {
    const auto ok = parse({"user", "create", "--email", "a@b.c", "--password", "pw123456", "--name",
                           "Ann", "--role", "MANAGER", "--data-dir", "/u"});
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    EXPECT_EQ(ok->which, command::kind::user_create);
    EXPECT_EQ(ok->user.email, "a@b.c");
    EXPECT_EQ(ok->user.password, "pw123456");
    EXPECT_EQ(ok->user.name, "Ann");
    EXPECT_EQ(ok->user.role, "MANAGER");
    EXPECT_EQ(ok->cfg.data_dir, "/u");

    expect_usage_error(
        parse({"user", "create", "--password", "p", "--name", "N", "--role", "USER"}), "--email");
    expect_usage_error(parse({"user", "create", "--email", "e", "--name", "N", "--role", "USER"}),
                       "--password");
    expect_usage_error(
        parse({"user", "create", "--email", "e", "--password", "p", "--role", "USER"}), "--name");
    expect_usage_error(parse({"user", "create", "--email", "e", "--password", "p", "--name", "N"}),
                       "--role");
}

TEST(cli, user_create_requires_a_valid_role) {
    expect_usage_error(parse({"user", "create", "--email", "e", "--password", "p", "--name", "N",
                              "--role", "ROOT"}),
                       "--role");
    expect_usage_error(parse({"user", "create", "--email", "e", "--password", "p", "--name", "N",
                              "--role", "admin"}),
                       "--role");
}

TEST(cli, help_exits_0_with_the_help_text) {
    const auto top = parse({"--help"});
    ASSERT_FALSE(top.has_value());
    EXPECT_EQ(top.error().code, 0);
    EXPECT_THAT(top.error().message, HasSubstr("serve"));
    EXPECT_THAT(top.error().message, HasSubstr("migrate"));
    const auto serve = parse({"serve", "--help"});
    ASSERT_FALSE(serve.has_value());
    EXPECT_EQ(serve.error().code, 0);
    EXPECT_THAT(serve.error().message, HasSubstr("--no-demo"));
}

TEST(cli, version_needs_no_configuration) {
    const auto r = parse({"version"}, {{"TICKETON_SERVER_THREADS", "not-a-number"}});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->which, command::kind::version);
}

TEST(Cli, LoadTakesItsScenarioTargetsAndRates) {
    auto r = parse({"load", "onsale", "--target", "http://127.0.0.1:8080,http://127.0.0.2:8081",
                    "--users", "500", "--rate", "50", "--decline-rate", "0.2", "--seats", "300",
                    "--manager-email", "m@example.com", "--manager-password", "pw"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->which, command::kind::load);
    ASSERT_EQ(r->load.targets.size(), 2u);
    EXPECT_EQ(r->load.targets[1].host, "127.0.0.2");
    EXPECT_EQ(r->load.targets[1].port, 8081);
    EXPECT_EQ(r->load.users, 500);
    EXPECT_DOUBLE_EQ(r->load.rate, 50);
    EXPECT_DOUBLE_EQ(r->load.decline_rate, 0.2);
    EXPECT_EQ(r->load.seats, 300);
    EXPECT_FALSE(r->load.event_id);
    auto with_event = parse({"load", "onsale", "--target", "http://127.0.0.1:8080", "--event", "7",
                             "--manager-email", "m@example.com", "--manager-password", "pw"});
    ASSERT_TRUE(with_event);
    EXPECT_EQ(with_event->load.event_id, 7);
}

TEST(Cli, LoadRefusesWhatItCannotRun) {
    expect_usage_error(parse({"load", "stadium", "--target", "http://127.0.0.1:1",
                              "--manager-email", "m", "--manager-password", "p"}),
                       "unknown scenario");
    expect_usage_error(parse({"load", "onsale", "--target", "https://127.0.0.1:1",
                              "--manager-email", "m", "--manager-password", "p"}),
                       "--target");
    expect_usage_error(parse({"load", "onsale", "--target", "http://127.0.0.1:1", "--decline-rate",
                              "1.5", "--manager-email", "m", "--manager-password", "p"}),
                       "decline-rate");
    expect_usage_error(parse({"load", "onsale", "--target", "http://127.0.0.1:1"}), "manager");
}

}  // namespace
}  // namespace tkt::app
