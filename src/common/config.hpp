#pragma once
// The server's configuration: every setting, its default, and how it is loaded (DESIGN.md §9).
//
// Precedence, lowest first: the defaults below < ticketon.toml < TICKETON_* environment variables
// < command-line flags. A key's environment name is its TOML path upper-cased and joined by `_`
// behind the prefix TICKETON_ (`server.max_body_bytes` is TICKETON_SERVER_MAX_BODY_BYTES).
//
// `load_config` is sans-io: it receives the file's text, a function that looks up environment
// variables and the flag values, so tests drive it without touching the process. Every value is
// validated as it is read; the first bad one ends loading with a one-line error naming the key
// and where the value came from. Unknown keys in the file are errors too, so a typo never goes
// unnoticed. `read_config_file` is the only function here that does I/O. All of it is safe to
// call from any thread; a loaded `config` is plain data.
#include <array>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.hpp"

namespace tkt {

// Which parts of the system this process runs (`roles = "all"` or a list like "api,queue").
struct role_set {
    bool api = true;
    bool queue = true;
    bool dispatcher = true;

    bool all() const { return api && queue && dispatcher; }
    // "all", or the members joined by commas in a fixed order.
    std::string to_string() const;
};

struct host_port {
    // A name, an IPv4 address, or an IPv6 address without its brackets.
    std::string host = "127.0.0.1";
    // 0 asks the operating system for any free port.
    std::uint16_t port = 8080;

    // "host:port", with brackets around an IPv6 host.
    std::string to_string() const;
};

// Parses "HOST:PORT" ("[::1]:8080" for IPv6); the error says what was wrong.
std::expected<host_port, std::string> parse_host_port(std::string_view text);

struct server_config {
    host_port listen;
    // I/O threads; 0 means one per core.
    int threads = 0;
    int max_connections = 10000;
    std::int64_t max_body_bytes = 1048576;
    int max_header_bytes = 16384;
    // A request, once its first byte has arrived, must be complete within this.
    int read_timeout_ms = 10000;
    // How long a keep-alive connection may sit idle between requests.
    int idle_timeout_ms = 30000;
    // How long shutdown waits for requests in flight before closing connections.
    int shutdown_grace_ms = 10000;
    // Proxies whose X-Forwarded-For names the client (http/forwarded.hpp); empty: none, the
    // TCP peer is the client.
    std::vector<cidr> trusted_proxies;
    // The URL users reach (scheme://host[:port], no trailing '/'), for redirects and links;
    // empty: http:// and the address the server listens on.
    std::string public_url;
    // Empty: the web UI is served from the files built into the binary. A folder (web/ of a
    // checkout): read from there on each request instead, so a change shows on reload. For
    // development only: the files are read on the I/O threads.
    std::string web_dir;
};

// Per client IP, on signup, login and refresh.
struct rate_limit_config {
    int auth_per_minute = 60;
    int auth_burst = 20;
    // POST /payments/webhook, for all callers together (each call may cost a Toss read).
    int webhook_per_minute = 6000;
    int webhook_burst = 200;
};

struct db_config {
    // Empty means SQLite in the data directory; see config::effective_db_url().
    std::string url;
    int pool_size = 4;
    int busy_timeout_ms = 5000;
    int write_batch_max = 512;  // writes per group commit (db::database::write)
};

// The payment reconciler (src/booking): how long an order whose payment the provider never
// captured may stay CONFIRMING before it fails and its seats go back.
struct booking_config {
    int unknown_grace_seconds = 60;
    // The longest pause between two attempts to finish a refund the provider did not answer.
    int refund_backoff_max_seconds = 300;
    // When the reconciler first asks about a payment being confirmed or refunded: after the
    // call's own deadline (5 s), so that it does not race a call still waiting for its answer.
    int first_check_seconds = 6;
    // How often the reconciler looks for payments to settle.
    int reconcile_interval_ms = 1000;
    // Ticket signing keys (base64url 32-byte seeds): the first signs, all verify. Empty: the
    // key file in data_dir (one node). Never logged.
    std::vector<std::string> ticket_keys;
};

// The waiting room (DESIGN.md §6).
struct queue_config {
    // How often the admission ticker moves each room's head.
    int tick_ms = 100;
    // How long someone with no open stream keeps their place in line.
    int grace_seconds = 300;
};

// Notifications (DESIGN.md §7, issue 12).
struct notifications_config {
    // How often the dispatcher looks at the outbox (a notice wakes it at once).
    int poll_ms = 50;
    // Read notifications older than this (and dispatched outbox rows) are deleted.
    std::int64_t retention_seconds = 30LL * 86'400;
    // How often the retention sweeper runs.
    int sweep_interval_ms = 60'000;
};

struct redis_config {
    // Empty means in-process engines; several comma-separated URLs mean a Cluster.
    std::string url;
};

// Named after libsodium's presets; `min` exists for tests and load runs only.
enum class password_cost_level { interactive, moderate, min };

struct jwt_key {
    std::string kid;
    // At least 32 bytes.
    std::string secret;
};

// One OAuth2 / OpenID Connect provider, `[auth.oauth2.<name>]` (DESIGN.md §9), as the operator
// set it. What `kakao`, `naver` and `google` leave unset comes from the presets built into
// src/auth/oauth_provider. `client_secret` is never logged nor shown in an error.
struct oauth2_provider_config {
    // Lower-case letters, digits and '_', at most 32: it appears in URLs and variable names.
    std::string name;
    std::string client_id;
    std::string client_secret;
    // Set: OpenID Connect, endpoints and keys from `<issuer>/.well-known/openid-configuration`.
    std::string issuer;
    std::string authorize_url;
    std::string token_url;
    std::string userinfo_url;
    // Empty: the preset's, or "openid email profile" with an issuer.
    std::vector<std::string> scopes;
    // Dotted paths into the profile (`kakao_account.email`); empty: the preset's or the OIDC
    // claim (sub, email, email_verified, name).
    std::string subject_field;
    std::string email_field;
    std::string email_verified_field;
    std::string name_field;
};

// The providers whose endpoints and fields are built in.
inline constexpr std::array<std::string_view, 3> builtin_oauth2_providers = {"kakao", "naver",
                                                                             "google"};

struct auth_config {
    std::string issuer = "ticketon";
    std::int64_t access_ttl_seconds = 900;
    std::int64_t refresh_ttl_seconds = 1209600;
    int lockout_threshold = 5;
    int lockout_seconds = 300;
    // How long a node trusts what it last read of an account (role, disabled); 0: not at all.
    int account_cache_ms = 1000;
    password_cost_level password_cost = password_cost_level::interactive;
    // The first key signs, every key verifies, so keys can be rotated without logging users
    // out. Empty when nothing was configured: the caller decides what that means.
    std::vector<jwt_key> jwt_keys;
    // Every provider with a client id: the file's in the order of their names, then those
    // named only in the environment.
    std::vector<oauth2_provider_config> oauth2;
    // Where a browser goes after a social login, the tokens in the fragment; empty: the public
    // URL's root.
    std::string oauth2_redirect;
    // The deadline of each call to a provider (discovery, keys, token, profile).
    int oauth2_timeout_ms = 5000;
};

struct log_config {
    // One of trace, debug, info, warn, error, off (already validated).
    std::string level = "info";
};

enum class payment_provider { sandbox, toss };

struct toss_config {
    std::string secret_key = "test_sk_sandbox";
    // https, or http for a loopback host (the local Toss sandbox).
    std::string base_url = "https://api.tosspayments.com";
    // The payment widget's client key (test_gck_… or live_gck_…; its pair's secret key is the
    // gsk one). Set with provider = toss: the web UI's checkout then loads the widget from
    // `widget_url` and pays there; "" = no widget (the UI says payments are not set up).
    std::string client_key;
    // Where browsers load the widget SDK from: Toss's, or the sandbox's stand-in
    // (http://127.0.0.1:PORT/v2/standard of `ticketon toss-sandbox`).
    std::string widget_url = "https://js.tosspayments.com/v2/standard";
};

struct payment_config {
    payment_provider provider = payment_provider::sandbox;
    toss_config toss;
    // Whether the Toss sandbox may listen on an address that is not loopback (see
    // check_sandbox_listen).
    bool sandbox_public = false;
};

struct config {
    std::string data_dir = "./data";
    role_set roles;
    // Seed a demo event when the database is new.
    bool demo = true;
    server_config server;
    rate_limit_config rate_limit;
    db_config db;
    redis_config redis;
    booking_config booking;
    queue_config queue;
    notifications_config notifications;
    auth_config auth;
    log_config log;
    payment_config payment;

    // db.url, or SQLite in the data directory when it is empty: "sqlite://<data_dir>/ticketon.db".
    std::string effective_db_url() const;
};

// Looks an environment variable up by name; std::nullopt when it is not set.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// The real process environment, for main().
env_lookup process_env();

// The values given on the command line; an empty optional means the flag was not given.
struct config_overrides {
    // The --config path. load_config does not read it; it only names the file in errors.
    std::optional<std::string> config_file;
    std::optional<std::string> data_dir;   // --data-dir
    std::optional<std::string> roles;      // --roles
    std::optional<std::string> listen;     // --listen
    std::optional<std::string> db_url;     // --db
    std::optional<std::string> redis_url;  // --redis
    std::optional<bool> demo;              // --no-demo sets false
};

// The file read when --config is not given.
inline constexpr std::string_view default_config_file = "ticketon.toml";

std::expected<config, std::string> load_config(std::string_view toml_text, const env_lookup& env,
                                               const config_overrides& flags);

// Whether the Toss sandbox may serve on server.listen, for the commands that run it (`serve`
// with payment.provider = "sandbox", `toss-sandbox`). The sandbox approves any payment it is
// asked to and its fault-injection routes change how it answers every client, so it listens on
// a loopback host only (127.0.0.0/8, ::1, localhost) unless payment.sandbox_public is true.
// The error is a one-line reason naming that setting.
std::expected<void, std::string> check_sandbox_listen(const config& cfg);

enum class file_presence { required, optional };

// The text of the configuration file. A missing optional file reads as empty text; a missing
// required one (given with --config) is an error, as is any other failure to read.
std::expected<std::string, std::string> read_config_file(const std::filesystem::path& path,
                                                         file_presence presence);

std::string_view to_string(password_cost_level level);
std::string_view to_string(payment_provider provider);

}  // namespace tkt
