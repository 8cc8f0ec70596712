#include "common/config.hpp"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tkt {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fake environment the test fills in.
struct fake_env {
    std::map<std::string, std::string, std::less<>> vars;

    env_lookup lookup() const {
        return [this](std::string_view name) -> std::optional<std::string> {
            const auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    }
};

const std::string secret_a(32, 'a');
const std::string secret_b(40, 'b');

config load_ok(std::string_view toml, const fake_env& env = {},
               const config_overrides& flags = {}) {
    auto c = load_config(toml, env.lookup(), flags);
    EXPECT_TRUE(c.has_value()) << c.error();
    return c.value_or(config{});
}

std::string load_error(std::string_view toml, const fake_env& env = {},
                       const config_overrides& flags = {}) {
    auto c = load_config(toml, env.lookup(), flags);
    EXPECT_FALSE(c.has_value());
    if (c) return {};
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << "not one line: " << c.error();
    return c.error();
}

TEST(config, defaults_when_nothing_is_given) {
    const config c = load_ok("");
    EXPECT_EQ(c.data_dir, "./data");
    EXPECT_TRUE(c.roles.all());
    EXPECT_EQ(c.roles.to_string(), "all");
    EXPECT_TRUE(c.demo);
    EXPECT_EQ(c.server.listen.host, "127.0.0.1");
    EXPECT_EQ(c.server.listen.port, 8080);
    EXPECT_EQ(c.server.threads, 0);
    EXPECT_EQ(c.server.max_connections, 10000);
    EXPECT_EQ(c.server.max_body_bytes, 1048576);
    EXPECT_EQ(c.server.max_header_bytes, 16384);
    EXPECT_EQ(c.server.read_timeout_ms, 10000);
    EXPECT_EQ(c.server.idle_timeout_ms, 30000);
    EXPECT_EQ(c.server.shutdown_grace_ms, 10000);
    EXPECT_EQ(c.rate_limit.auth_per_minute, 60);
    EXPECT_EQ(c.rate_limit.auth_burst, 20);
    EXPECT_EQ(c.db.url, "");
    EXPECT_EQ(c.effective_db_url(), "sqlite://./data/ticketon.db");
    EXPECT_EQ(c.db.pool_size, 4);
    EXPECT_EQ(c.db.busy_timeout_ms, 5000);
    EXPECT_EQ(c.redis.url, "");
    EXPECT_EQ(c.auth.issuer, "ticketon");
    EXPECT_EQ(c.auth.access_ttl_seconds, 900);
    EXPECT_EQ(c.auth.refresh_ttl_seconds, 1209600);
    EXPECT_EQ(c.auth.lockout_threshold, 5);
    EXPECT_EQ(c.auth.lockout_seconds, 300);
    EXPECT_EQ(c.auth.account_cache_ms, 1000);
    EXPECT_EQ(c.auth.password_cost, password_cost_level::interactive);
    EXPECT_TRUE(c.auth.jwt_keys.empty());
    EXPECT_EQ(c.log.level, "info");
    EXPECT_EQ(c.payment.provider, payment_provider::sandbox);
    EXPECT_EQ(c.payment.toss.secret_key, "test_sk_sandbox");
    EXPECT_EQ(c.payment.toss.base_url, "https://api.tosspayments.com");
    EXPECT_FALSE(c.payment.sandbox_public);
    EXPECT_TRUE(c.server.trusted_proxies.empty());
}

TEST(config, the_file_sets_values) {
    const config c = load_ok(R"(
data_dir = "/var/lib/ticketon"
roles = "api,queue"
demo = false
[server]
listen = "0.0.0.0:9000"
max_body_bytes = 2048
[db]
pool_size = 16
[auth]
password_cost = "min"
[log]
level = "debug"
[payment]
provider = "toss"
[payment.toss]
base_url = "http://127.0.0.1:9100"
)");
    EXPECT_EQ(c.data_dir, "/var/lib/ticketon");
    EXPECT_EQ(c.effective_db_url(), "sqlite:///var/lib/ticketon/ticketon.db");
    EXPECT_TRUE(c.roles.api);
    EXPECT_TRUE(c.roles.queue);
    EXPECT_FALSE(c.roles.dispatcher);
    EXPECT_EQ(c.roles.to_string(), "api,queue");
    EXPECT_FALSE(c.demo);
    EXPECT_EQ(c.server.listen.to_string(), "0.0.0.0:9000");
    EXPECT_EQ(c.server.max_body_bytes, 2048);
    EXPECT_EQ(c.db.pool_size, 16);
    EXPECT_EQ(c.auth.password_cost, password_cost_level::min);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.payment.provider, payment_provider::toss);
    EXPECT_EQ(c.payment.toss.base_url, "http://127.0.0.1:9100");
}

TEST(config, environment_beats_the_file) {
    fake_env env;
    env.vars["TICKETON_SERVER_MAX_BODY_BYTES"] = "4096";
    env.vars["TICKETON_AUTH_PASSWORD_COST"] = "moderate";
    env.vars["TICKETON_PAYMENT_TOSS_SECRET_KEY"] = "live_sk_x";
    env.vars["TICKETON_DEMO"] = "false";
    const config c = load_ok("demo = true\n[server]\nmax_body_bytes = 2048\nthreads = 3\n", env);
    EXPECT_EQ(c.server.max_body_bytes, 4096);
    EXPECT_EQ(c.server.threads, 3);  // not in the environment, so the file's value stays
    EXPECT_EQ(c.auth.password_cost, password_cost_level::moderate);
    EXPECT_EQ(c.payment.toss.secret_key, "live_sk_x");
    EXPECT_FALSE(c.demo);
}

TEST(config, flags_beat_the_environment) {
    fake_env env;
    env.vars["TICKETON_SERVER_LISTEN"] = "127.0.0.1:7000";
    env.vars["TICKETON_DATA_DIR"] = "/env";
    env.vars["TICKETON_DB_URL"] = "sqlite:///env.db";
    env.vars["TICKETON_ROLES"] = "queue";
    config_overrides flags;
    flags.listen = "[::1]:0";
    flags.data_dir = "/flag";
    flags.db_url = "mysql://u:p@db:3306/t";
    flags.redis_url = "redis://a:6379,redis://b:6379";
    flags.roles = "dispatcher";
    flags.demo = false;
    const config c = load_ok("[server]\nlisten = \"127.0.0.1:6000\"\n", env, flags);
    EXPECT_EQ(c.server.listen.host, "::1");
    EXPECT_EQ(c.server.listen.port, 0);
    EXPECT_EQ(c.server.listen.to_string(), "[::1]:0");
    EXPECT_EQ(c.data_dir, "/flag");
    EXPECT_EQ(c.effective_db_url(), "mysql://u:p@db:3306/t");
    EXPECT_EQ(c.redis.url, "redis://a:6379,redis://b:6379");
    EXPECT_EQ(c.roles.to_string(), "dispatcher");
    EXPECT_FALSE(c.demo);
}

TEST(config, a_non_integer_names_the_key_and_the_variable) {
    fake_env env;
    env.vars["TICKETON_SERVER_MAX_BODY_BYTES"] = "abc";
    EXPECT_EQ(load_error("", env),
              "invalid value for server.max_body_bytes (TICKETON_SERVER_MAX_BODY_BYTES): "
              "expected a positive integer, got \"abc\"");
}

TEST(config, a_string_where_the_file_needs_an_integer_is_refused) {
    EXPECT_EQ(load_error("\n[db]\npool_size = \"8\"\n"),
              "invalid value for db.pool_size (ticketon.toml:3): expected a positive integer, "
              "got \"8\"");
}

TEST(config, integers_are_range_checked) {
    EXPECT_THAT(load_error("[server]\nthreads = 1025\n"),
                HasSubstr("server.threads (ticketon.toml:2): expected an integer in 0..1024"));
    EXPECT_THAT(load_error("[db]\npool_size = 0\n"), HasSubstr("db.pool_size"));
    fake_env env;
    env.vars["TICKETON_DB_POOL_SIZE"] = "257";
    EXPECT_THAT(load_error("", env),
                HasSubstr("db.pool_size (TICKETON_DB_POOL_SIZE): expected an integer in 1..256, "
                          "got \"257\""));
    env.vars = {{"TICKETON_SERVER_THREADS", "-1"}};
    EXPECT_THAT(load_error("", env), HasSubstr("server.threads (TICKETON_SERVER_THREADS)"));
    env.vars = {{"TICKETON_SERVER_THREADS", "99999999999999999999"}};
    EXPECT_THAT(load_error("", env), HasSubstr("expected a non-negative integer"));
}

TEST(config, a_bad_listen_address_is_refused) {
    for (const char* bad : {"8080", "localhost", "127.0.0.1:", "127.0.0.1:65536", ":80", "::1:80",
                            "[zz]:80", "a b:80", "127.0.0.1:8o"}) {
        config_overrides flags;
        flags.listen = bad;
        EXPECT_THAT(load_error("", {}, flags),
                    HasSubstr("invalid value for server.listen (--listen)"))
            << bad;
    }
    config_overrides flags;
    flags.listen = "localhost:65535";
    EXPECT_EQ(load_ok("", {}, flags).server.listen.port, 65535);
}

TEST(config, a_bad_role_is_refused) {
    for (const char* bad : {"", "api,", "api,web", "ALL", "all,api"}) {
        config_overrides flags;
        flags.roles = bad;
        EXPECT_THAT(load_error("", {}, flags), HasSubstr("invalid value for roles (--roles)"))
            << bad;
    }
    EXPECT_THAT(load_error("roles = \"api,wbe\"\n"),
                HasSubstr("roles (ticketon.toml:1): unknown role \"wbe\""));
}

TEST(config, a_bad_password_cost_is_refused) {
    EXPECT_EQ(load_error("[auth]\npassword_cost = \"fast\"\n"),
              "invalid value for auth.password_cost (ticketon.toml:2): expected one of "
              "interactive, moderate or min, got \"fast\"");
}

TEST(config, bad_choices_and_strings_are_refused) {
    EXPECT_THAT(load_error("[log]\nlevel = \"verbose\"\n"), HasSubstr("log.level"));
    EXPECT_THAT(load_error("[payment]\nprovider = \"paypal\"\n"), HasSubstr("payment.provider"));
    EXPECT_THAT(load_error("data_dir = \"\"\n"), HasSubstr("data_dir"));
    EXPECT_THAT(load_error("demo = \"yes\"\n"), HasSubstr("demo (ticketon.toml:1): expected true"));
    EXPECT_THAT(load_error("[db]\nurl = \"postgres://x\"\n"), HasSubstr("db.url"));
    EXPECT_THAT(load_error("[redis]\nurl = \"redis://a,b\"\n"), HasSubstr("redis.url"));
    fake_env env;
    env.vars["TICKETON_DEMO"] = "maybe";
    EXPECT_THAT(load_error("", env), HasSubstr("demo (TICKETON_DEMO)"));
}

TEST(config, a_short_jwt_secret_is_refused_without_showing_it) {
    const std::string err =
        load_error("[[auth.jwt_keys]]\nkid = \"k1\"\nsecret = \"tooshortsecret\"\n");
    EXPECT_THAT(err, HasSubstr("invalid value for auth.jwt_keys (ticketon.toml:1)"));
    EXPECT_THAT(err, HasSubstr("at least 32 bytes"));
    EXPECT_THAT(err, Not(HasSubstr("tooshortsecret")));
    fake_env env;
    env.vars["TICKETON_AUTH_JWT_KEYS"] = "k1:" + secret_a + ",k2:short";
    EXPECT_THAT(load_error("", env),
                HasSubstr("invalid value for auth.jwt_keys (TICKETON_AUTH_JWT_KEYS): secret of key "
                          "\"k2\" must be at least 32 bytes"));
}

TEST(config, ticket_keys_come_from_the_file_or_the_environment_and_bad_ones_are_not_shown) {
    const std::string a = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY";  // 32 bytes
    const std::string b = "YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODk";
    auto from_file = load_ok("[booking]\nticket_keys = [\"" + a + "\", \"" + b + "\"]\n");
    EXPECT_EQ(from_file.booking.ticket_keys, (std::vector<std::string>{a, b}));
    fake_env env;
    env.vars["TICKETON_BOOKING_TICKET_KEYS"] = b + ", " + a;
    auto from_env = load_ok("", env);
    EXPECT_EQ(from_env.booking.ticket_keys, (std::vector<std::string>{b, a}));
    const std::string err = load_error("[booking]\nticket_keys = [\"" + a + "\", \"tooshort\"]\n");
    EXPECT_THAT(err, HasSubstr("booking.ticket_keys"));
    EXPECT_THAT(err, HasSubstr("key 2 is not 32 bytes"));
    EXPECT_THAT(err, Not(HasSubstr("tooshort")));
    EXPECT_TRUE(load_ok("").booking.ticket_keys.empty());
}

TEST(config, unknown_keys_are_refused) {
    EXPECT_EQ(load_error("[server]\nmax_body_byte = 10\n"),
              "unknown key server.max_body_byte (ticketon.toml:2)");
    EXPECT_THAT(load_error("[servr]\nthreads = 1\n"),
                HasSubstr("unknown key servr (ticketon.toml:1)"));
    EXPECT_THAT(load_error("datadir = \"x\"\n"), HasSubstr("unknown key datadir"));
    EXPECT_THAT(load_error("[[auth.jwt_keys]]\nkid = \"k\"\nsecret = \"" + secret_a +
                           "\"\nsecrte = \"x\"\n"),
                HasSubstr("unknown key \"secrte\""));
    EXPECT_THAT(load_error("server = 1\n"), HasSubstr("invalid value for server"));
}

TEST(config, the_config_file_name_given_appears_in_errors) {
    config_overrides flags;
    flags.config_file = "/etc/ticketon/prod.toml";
    EXPECT_THAT(load_error("[server]\nthreads = \"x\"\n", {}, flags),
                HasSubstr("(/etc/ticketon/prod.toml:2)"));
}

TEST(config, a_toml_syntax_error_is_one_line_with_a_position) {
    EXPECT_THAT(load_error("[server\nthreads = 1\n"), HasSubstr("cannot parse ticketon.toml:1:"));
}

TEST(config, http_base_url_only_for_loopback) {
    EXPECT_EQ(load_error("[payment.toss]\nbase_url = \"http://api.tosspayments.com\"\n"),
              "invalid value for payment.toss.base_url (ticketon.toml:2): expected https:// for a "
              "host that is not loopback, got \"http://api.tosspayments.com\"");
    fake_env env;
    env.vars["TICKETON_PAYMENT_TOSS_BASE_URL"] = "ftp://127.0.0.1/";
    EXPECT_THAT(load_error("", env),
                HasSubstr("payment.toss.base_url (TICKETON_PAYMENT_TOSS_BASE_URL)"));
    for (const char* ok : {"http://localhost:9100", "http://127.0.0.2", "http://[::1]:80/v1",
                           "https://toss.example"}) {
        env.vars["TICKETON_PAYMENT_TOSS_BASE_URL"] = ok;
        EXPECT_EQ(load_ok("", env).payment.toss.base_url, ok);
    }
}

TEST(config, the_widget_takes_a_client_key_never_a_secret_key) {
    const config c = load_ok("");
    EXPECT_EQ(c.payment.toss.client_key, "");
    EXPECT_EQ(c.payment.toss.widget_url, "https://js.tosspayments.com/v2/standard");
    fake_env env;
    for (const char* ok : {"test_gck_docs_Ovk5rk1EwkEbP0W43n07xlzm", "live_gck_abc-DEF_1"}) {
        env.vars["TICKETON_PAYMENT_TOSS_CLIENT_KEY"] = ok;
        EXPECT_EQ(load_ok("", env).payment.toss.client_key, ok);
    }
    // Secret keys, an API (not widget) client key, no mode, a character no key has.
    for (const char* bad :
         {"test_sk_secret", "live_gsk_secret", "test_ck_api", "gck_no_mode", "test_gck_<x>"}) {
        env.vars["TICKETON_PAYMENT_TOSS_CLIENT_KEY"] = bad;
        const auto error = load_error("", env);
        EXPECT_THAT(error, HasSubstr("payment.toss.client_key (TICKETON_PAYMENT_TOSS_CLIENT_KEY): "
                                     "expected a Toss payment widget client key"));
        EXPECT_THAT(error, Not(HasSubstr(bad))) << "a secret key in the wrong place is not shown";
    }
    env.vars.erase("TICKETON_PAYMENT_TOSS_CLIENT_KEY");
    EXPECT_THAT(load_error("[payment.toss]\nwidget_url = \"http://js.example/v2/standard\"\n"),
                HasSubstr("payment.toss.widget_url"));
    env.vars["TICKETON_PAYMENT_TOSS_WIDGET_URL"] = "http://127.0.0.1:9100/v2/standard";
    EXPECT_EQ(load_ok("", env).payment.toss.widget_url, "http://127.0.0.1:9100/v2/standard");
}

std::vector<std::string> as_text(const std::vector<cidr>& blocks) {
    std::vector<std::string> out;
    for (const auto& b : blocks) out.push_back(b.to_string());
    return out;
}

TEST(config, trusted_proxies_from_the_file_and_the_environment) {
    const config c =
        load_ok("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"2001:db8::/32\", \"127.0.0.1\"]\n");
    EXPECT_EQ(as_text(c.server.trusted_proxies),
              (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32"}));
    fake_env env;
    env.vars["TICKETON_SERVER_TRUSTED_PROXIES"] = "192.168.0.0/16, ::1/128,0.0.0.0/0";
    EXPECT_EQ(
        as_text(
            load_ok("[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\n", env).server.trusted_proxies),
        (std::vector<std::string>{"192.168.0.0/16", "::1/128", "0.0.0.0/0"}));
    // An empty value trusts nobody, overriding the file.
    env.vars["TICKETON_SERVER_TRUSTED_PROXIES"] = "";
    EXPECT_TRUE(load_ok("[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\n", env)
                    .server.trusted_proxies.empty());
    EXPECT_TRUE(load_ok("[server]\ntrusted_proxies = []\n").server.trusted_proxies.empty());
}

TEST(config, a_malformed_trusted_proxy_names_the_setting) {
    fake_env env;
    for (const auto* bad : {"10.0.0.0/33", "10.0.0.0/8,", "proxy.example", "10.0.0.1/8",
                            "10.0.0.0/8;10.1.0.0/16", "::/129"}) {
        env.vars["TICKETON_SERVER_TRUSTED_PROXIES"] = bad;
        EXPECT_THAT(load_error("", env), HasSubstr("invalid value for server.trusted_proxies "
                                                   "(TICKETON_SERVER_TRUSTED_PROXIES)"))
            << bad;
    }
    env.vars["TICKETON_SERVER_TRUSTED_PROXIES"] = "10.0.0.0/8,10.0.0.1/8";
    EXPECT_EQ(load_error("", env),
              "invalid value for server.trusted_proxies (TICKETON_SERVER_TRUSTED_PROXIES): "
              "\"10.0.0.1/8\": bits set after the prefix (did you mean 10.0.0.0/8?)");
    EXPECT_THAT(load_error("[server]\ntrusted_proxies = [\"10.0.0.0/8\", 7]\n"),
                HasSubstr("server.trusted_proxies (ticketon.toml:2): expected an array of CIDR"));
    EXPECT_THAT(load_error("[server]\ntrusted_proxies = [\"300.0.0.0/8\"]\n"),
                HasSubstr("\"300.0.0.0/8\": not a CIDR block"));
    // Control characters are escaped: the reason stays one line.
    env.vars["TICKETON_SERVER_TRUSTED_PROXIES"] = "10.0.0.0/8\n";
    EXPECT_THAT(load_error("", env), HasSubstr("\\x0a"));
}

TEST(config, sandbox_public_from_the_file_and_the_environment) {
    EXPECT_TRUE(load_ok("[payment]\nsandbox_public = true\n").payment.sandbox_public);
    EXPECT_FALSE(load_ok("[payment]\nsandbox_public = false\n").payment.sandbox_public);
    fake_env env;
    env.vars["TICKETON_PAYMENT_SANDBOX_PUBLIC"] = "true";
    EXPECT_TRUE(load_ok("[payment]\nsandbox_public = false\n", env).payment.sandbox_public);
    env.vars["TICKETON_PAYMENT_SANDBOX_PUBLIC"] = "maybe";
    EXPECT_THAT(load_error("", env),
                HasSubstr("payment.sandbox_public (TICKETON_PAYMENT_SANDBOX_PUBLIC)"));
    EXPECT_THAT(load_error("[payment]\nsandbox_public = \"yes\"\n"),
                HasSubstr("payment.sandbox_public (ticketon.toml:2)"));
}

TEST(config, the_sandbox_listens_on_loopback_unless_made_public) {
    const auto with_listen = [](std::string_view host, bool sandbox_public) {
        config c;
        c.server.listen.host = std::string(host);
        c.payment.sandbox_public = sandbox_public;
        return check_sandbox_listen(c);
    };
    for (const auto* host : {"127.0.0.1", "127.8.9.10", "::1", "localhost"})
        EXPECT_TRUE(with_listen(host, false)) << host;
    for (const auto* host : {"0.0.0.0", "::", "10.0.0.5", "192.168.1.20", "2001:db8::1",
                             "ticketon.example", "128.0.0.1"}) {
        const auto refused = with_listen(host, false);
        ASSERT_FALSE(refused) << host;
        EXPECT_THAT(refused.error(), HasSubstr("payment.sandbox_public"));
        EXPECT_THAT(refused.error(), HasSubstr(host));
        EXPECT_EQ(refused.error().find('\n'), std::string::npos);
        EXPECT_TRUE(with_listen(host, true)) << host;
    }
    // The default configuration is loopback.
    EXPECT_TRUE(check_sandbox_listen(load_ok("")));
}

TEST(config, jwt_keys_from_the_file) {
    const config c =
        load_ok("[[auth.jwt_keys]]\nkid = \"k1\"\nsecret = \"" + secret_a +
                "\"\n[[auth.jwt_keys]]\nkid = \"k2\"\nsecret = \"" + secret_b + "\"\n");
    ASSERT_EQ(c.auth.jwt_keys.size(), 2u);
    EXPECT_EQ(c.auth.jwt_keys[0].kid, "k1");  // the first one signs
    EXPECT_EQ(c.auth.jwt_keys[0].secret, secret_a);
    EXPECT_EQ(c.auth.jwt_keys[1].kid, "k2");
    EXPECT_EQ(c.auth.jwt_keys[1].secret, secret_b);
}

TEST(config, jwt_keys_from_the_environment_replace_the_file) {
    fake_env env;
    env.vars["TICKETON_AUTH_JWT_KEYS"] = "new:" + secret_b + ",old:" + secret_a;
    const config c =
        load_ok("[[auth.jwt_keys]]\nkid = \"k1\"\nsecret = \"" + secret_a + "\"\n", env);
    ASSERT_EQ(c.auth.jwt_keys.size(), 2u);
    EXPECT_EQ(c.auth.jwt_keys[0].kid, "new");
    EXPECT_EQ(c.auth.jwt_keys[0].secret, secret_b);
    EXPECT_EQ(c.auth.jwt_keys[1].kid, "old");
    env.vars["TICKETON_AUTH_JWT_KEYS"] = "k1:" + secret_a + ",k1:" + secret_b;
    EXPECT_THAT(load_error("", env), HasSubstr("kid \"k1\" appears twice"));
    env.vars["TICKETON_AUTH_JWT_KEYS"] = secret_a;
    EXPECT_THAT(load_error("", env), HasSubstr("expected kid:secret pairs"));
}

TEST(config, no_oauth2_provider_unless_one_has_a_client_id) {
    const config c = load_ok("");
    EXPECT_TRUE(c.auth.oauth2.empty());
    EXPECT_EQ(c.auth.oauth2_redirect, "");
    EXPECT_EQ(c.auth.oauth2_timeout_ms, 5000);
    EXPECT_EQ(c.server.public_url, "");
}

TEST(config, oauth2_providers_from_the_file) {
    const config c = load_ok(R"(
[server]
public_url = "https://tickets.example.com/"
[auth]
oauth2_redirect = "https://tickets.example.com/app/login"
[auth.oauth2.kakao]
client_id = "kakao-id"
client_secret = "kakao-secret"
[auth.oauth2.corp_sso]
client_id = "corp"
issuer = "https://sso.example.com/"
scopes = ["openid", "email"]
email_verified_field = "verified"
)");
    EXPECT_EQ(c.server.public_url, "https://tickets.example.com");
    EXPECT_EQ(c.auth.oauth2_redirect, "https://tickets.example.com/app/login");
    // The file's providers come in the order of their names.
    ASSERT_EQ(c.auth.oauth2.size(), 2u);
    EXPECT_EQ(c.auth.oauth2[0].name, "corp_sso");
    EXPECT_EQ(c.auth.oauth2[0].issuer, "https://sso.example.com");
    EXPECT_EQ(c.auth.oauth2[0].scopes, (std::vector<std::string>{"openid", "email"}));
    EXPECT_EQ(c.auth.oauth2[0].email_verified_field, "verified");
    EXPECT_EQ(c.auth.oauth2[1].name, "kakao");
    EXPECT_EQ(c.auth.oauth2[1].client_id, "kakao-id");
    EXPECT_EQ(c.auth.oauth2[1].client_secret, "kakao-secret");
}

TEST(config, oauth2_providers_from_the_environment) {
    fake_env env;
    env.vars["TICKETON_AUTH_OAUTH2_GOOGLE_CLIENT_ID"] = "g-id";
    env.vars["TICKETON_AUTH_OAUTH2_GOOGLE_CLIENT_SECRET"] = "g-secret";
    env.vars["TICKETON_AUTH_OAUTH2_PROVIDERS"] = "my_idp";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_CLIENT_ID"] = "mine";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_AUTHORIZE_URL"] = "http://127.0.0.1:9/authorize";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_TOKEN_URL"] = "http://127.0.0.1:9/token";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_USERINFO_URL"] = "http://127.0.0.1:9/me";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_SCOPES"] = "read:user, user:email";
    env.vars["TICKETON_AUTH_OAUTH2_MY_IDP_SUBJECT_FIELD"] = "data.id";
    // The environment beats the file, key by key.
    const config c = load_ok("[auth.oauth2.google]\nclient_id = \"file-id\"\n", env);
    ASSERT_EQ(c.auth.oauth2.size(), 2u);
    EXPECT_EQ(c.auth.oauth2[0].name, "google");
    EXPECT_EQ(c.auth.oauth2[0].client_id, "g-id");
    EXPECT_EQ(c.auth.oauth2[0].client_secret, "g-secret");
    EXPECT_EQ(c.auth.oauth2[1].name, "my_idp");
    EXPECT_EQ(c.auth.oauth2[1].token_url, "http://127.0.0.1:9/token");
    EXPECT_EQ(c.auth.oauth2[1].scopes, (std::vector<std::string>{"read:user", "user:email"}));
    EXPECT_EQ(c.auth.oauth2[1].subject_field, "data.id");
}

TEST(config, bad_oauth2_providers_are_refused_without_showing_secrets) {
    EXPECT_THAT(load_error("[auth.oauth2.kakao]\nclient_secret = \"s3cr3t\"\n"),
                HasSubstr("auth.oauth2.kakao: client_id is required"));
    EXPECT_THAT(load_error("[auth.oauth2.corp]\nclient_id = \"x\"\n"),
                HasSubstr("set issuer (OpenID Connect discovery)"));
    EXPECT_THAT(load_error("[auth.oauth2.corp]\nclient_id = \"x\"\nissuer = "
                           "\"http://sso.example.com\"\n"),
                HasSubstr("https:// for a host that is not loopback"));
    EXPECT_THAT(load_error("[auth.oauth2.Bad-Name]\nclient_id = \"x\"\n"),
                HasSubstr("a provider name is"));
    EXPECT_THAT(load_error("[auth.oauth2.kakao]\nclient_id = \"x\"\ncolour = \"red\"\n"),
                HasSubstr("unknown key auth.oauth2.kakao.colour"));
    fake_env env;
    env.vars["TICKETON_AUTH_OAUTH2_NAVER_CLIENT_ID"] = "n";
    env.vars["TICKETON_AUTH_OAUTH2_NAVER_CLIENT_SECRET"] = "";
    const auto err = load_error("", env);
    EXPECT_THAT(err, HasSubstr("TICKETON_AUTH_OAUTH2_NAVER_CLIENT_SECRET"));
    EXPECT_THAT(load_error("[auth.oauth2.kakao]\nclient_id = \"x\"\nclient_secret = 12345\n"),
                Not(HasSubstr("12345")));
    EXPECT_THAT(load_error("[auth]\noauth2_redirect = \"https://x.example/#frag\"\n"),
                HasSubstr("without a fragment"));
}

TEST(config, reading_a_missing_file) {
    const auto missing = std::filesystem::temp_directory_path() / "ticketon-h-cfg-missing.toml";
    std::filesystem::remove(missing);
    EXPECT_EQ(read_config_file(missing, file_presence::optional).value_or("x"), "");
    const auto err = read_config_file(missing, file_presence::required);
    ASSERT_FALSE(err.has_value());
    EXPECT_THAT(err.error(), HasSubstr("cannot read config file"));
}

TEST(config, reading_a_present_file) {
    const auto path = std::filesystem::temp_directory_path() / "ticketon-h-cfg-present.toml";
    std::ofstream(path) << "demo = false\n";
    EXPECT_EQ(read_config_file(path, file_presence::required).value_or(""), "demo = false\n");
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace tkt
