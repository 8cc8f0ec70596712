#include "common/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <boost/url/parse.hpp>

#include "common/encoding.hpp"
#include "common/ip_address.hpp"

static_assert(TOML_EXCEPTIONS, "load_config reports toml::parse_error, which needs exceptions");

namespace tkt {
namespace {

// A configuration value before validation, with where it came from.
struct raw_value {
    // "ticketon.toml:3", "TICKETON_SERVER_THREADS" or "--listen", for error messages.
    std::string source;
    // Set for values from the file, which keep their TOML type.
    const toml::node* node = nullptr;
    // Set for values from the environment or the command line, which are always text.
    std::string text;
};

// Why a value was refused, without the key and source (the caller adds those).
using reason = std::string;
using check_result = std::expected<void, reason>;

struct setting {
    std::string_view path;
    std::function<check_result(config&, const raw_value&)> apply;
};

// Control characters are escaped so that an error message always stays on one line.
std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// The value as shown after "got" in an error.
std::string describe(const raw_value& v) {
    if (v.node == nullptr) return quote(v.text);
    const toml::node& n = *v.node;
    if (const auto* s = n.as_string()) return quote(s->get());
    if (const auto* i = n.as_integer()) return std::to_string(i->get());
    if (const auto* f = n.as_floating_point()) return fmt::format("{}", f->get());
    if (const auto* b = n.as_boolean()) return b->get() ? "true" : "false";
    if (n.is_table()) return "a table";
    if (n.is_array()) return "an array";
    return "a date or time";
}

check_result refuse(std::string_view expected, const raw_value& v) {
    return std::unexpected(fmt::format("expected {}, got {}", expected, describe(v)));
}

std::expected<std::int64_t, reason> read_integer(const raw_value& v, std::int64_t min,
                                                 std::int64_t max) {
    const std::string_view kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    std::int64_t n = 0;
    if (v.node != nullptr) {
        const auto* i = v.node->as_integer();
        if (i == nullptr) return std::unexpected(refuse(kind, v).error());
        n = i->get();
    } else {
        const char* first = v.text.data();
        const char* last = first + v.text.size();
        const auto [end, ec] = std::from_chars(first, last, n);
        if (ec != std::errc{} || end != last || v.text.empty()) {
            return std::unexpected(refuse(kind, v).error());
        }
    }
    if (n < min || n > max) {
        return std::unexpected(refuse(fmt::format("an integer in {}..{}", min, max), v).error());
    }
    return n;
}

std::expected<std::string, reason> read_string(const raw_value& v) {
    if (v.node == nullptr) return v.text;
    if (const auto* s = v.node->as_string()) return s->get();
    return std::unexpected(refuse("a string", v).error());
}

std::expected<bool, reason> read_bool(const raw_value& v) {
    if (v.node != nullptr) {
        if (const auto* b = v.node->as_boolean()) return b->get();
    } else {
        static constexpr std::array<std::string_view, 4> yes = {"true", "1", "yes", "on"};
        static constexpr std::array<std::string_view, 4> no = {"false", "0", "no", "off"};
        if (std::ranges::find(yes, v.text) != yes.end()) return true;
        if (std::ranges::find(no, v.text) != no.end()) return false;
    }
    return std::unexpected(refuse("true or false", v).error());
}

// Reads a string that must be one of `choices`, returning its index.
template <std::size_t N>
std::expected<std::size_t, reason> read_choice(const raw_value& v,
                                               const std::array<std::string_view, N>& choices) {
    const auto text = read_string(v);
    if (text) {
        const auto it = std::ranges::find(choices, *text);
        if (it != choices.end()) return static_cast<std::size_t>(it - choices.begin());
    }
    std::string expected = "one of ";
    for (std::size_t i = 0; i < N; ++i) {
        expected += (i == 0 ? "" : i + 1 == N ? " or " : ", ");
        expected += choices[i];
    }
    return std::unexpected(refuse(expected, v).error());
}

// Settings are built from an accessor (config& -> field*) so one table drives the file, the
// environment and the flags alike.
template <class Get>
setting integer_setting(std::string_view path, std::int64_t min, std::int64_t max, Get get) {
    return {path, [=](config& c, const raw_value& v) -> check_result {
                const auto n = read_integer(v, min, max);
                if (!n) return std::unexpected(n.error());
                auto& field = *get(c);
                field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
                return {};
            }};
}

// `check` refuses a well-typed string that is still wrong (an empty name, a bad URL).
template <class Get, class Check>
setting string_setting(std::string_view path, Get get, Check check) {
    return {path, [=](config& c, const raw_value& v) -> check_result {
                auto s = read_string(v);
                if (!s) return std::unexpected(s.error());
                if (auto ok = check(*s, v); !ok) return ok;
                *get(c) = std::move(*s);
                return {};
            }};
}

check_result non_empty(const std::string& s, const raw_value& v) {
    if (s.empty()) return refuse("a non-empty string", v);
    return {};
}

// ---- Values with a shape of their own ----

std::expected<role_set, reason> parse_roles(std::string_view text) {
    if (text == "all") return role_set{};
    role_set roles{.api = false, .queue = false, .dispatcher = false};
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view member = text.substr(start, comma - start);
        if (member == "api") {
            roles.api = true;
        } else if (member == "queue") {
            roles.queue = true;
        } else if (member == "dispatcher") {
            roles.dispatcher = true;
        } else {
            return std::unexpected(fmt::format(
                "unknown role {} (expected all, or a comma list of api, queue, dispatcher)",
                quote(member)));
        }
        start = comma + 1;
    }
    return roles;
}

bool is_host_name(std::string_view host) {
    return !host.empty() && std::ranges::all_of(host, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
    });
}

bool is_ipv6_literal(std::string_view host) {
    return host.find(':') != std::string_view::npos && std::ranges::all_of(host, [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
           });
}

// Plain http would send the Toss secret key in the clear, so it is allowed only to the local
// sandbox.
check_result check_base_url(const std::string& s, const raw_value& v) {
    const auto url = boost::urls::parse_absolute_uri(s);
    if (!url || url->host().empty() || (url->scheme() != "https" && url->scheme() != "http")) {
        return refuse("an https:// URL (http:// only for a loopback host)", v);
    }
    if (!is_https_or_loopback_url(s)) {
        return refuse("https:// for a host that is not loopback", v);
    }
    return {};
}

// A Toss client key goes into every checkout page: a secret key there would be a leak. The
// payment widget takes only a widget key (gck; an API key, ck, is refused by Toss's SDK).
check_result check_client_key(const std::string& s, const raw_value& v) {
    if (s.empty()) return {};
    const bool mode = s.starts_with("test_") || s.starts_with("live_");
    const std::string_view rest = mode ? std::string_view(s).substr(5) : std::string_view();
    if (!mode || !rest.starts_with("gck_") || !std::ranges::all_of(rest, [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
        })) {
        // Not echoed: it may be a secret key put in the wrong place.
        static_cast<void>(v);
        return std::unexpected(
            reason{"expected a Toss payment widget client key (test_gck_… or live_gck_…); the "
                   "value given is not shown"});
    }
    return {};
}

// A URL users open: http or https, any host, no query or fragment; a trailing '/' is dropped.
check_result check_public_url(std::string& s, const raw_value& v) {
    while (s.ends_with('/')) s.pop_back();
    const auto url = boost::urls::parse_absolute_uri(s);
    if (!url || url->host().empty() || (url->scheme() != "https" && url->scheme() != "http") ||
        url->has_query() || url->has_fragment()) {
        return refuse("an http:// or https:// URL without query or fragment", v);
    }
    return {};
}

// Where a browser is sent back to; the tokens go in its fragment, so it must have none.
check_result check_web_url(const std::string& s, const raw_value& v) {
    const auto url = boost::urls::parse_absolute_uri(s);
    if (!url || url->host().empty() || (url->scheme() != "https" && url->scheme() != "http") ||
        url->has_fragment()) {
        return refuse("an http:// or https:// URL without a fragment", v);
    }
    return {};
}

// URLs may carry passwords, so errors name the expected form rather than echo the value.
check_result check_db_url(const std::string& s, const raw_value&) {
    if (s.empty() || s.starts_with("sqlite://") || s.starts_with("mysql://")) return {};
    return std::unexpected(
        reason{"expected sqlite:///path/file.db or mysql://user:pass@host:port/db"});
}

check_result check_redis_url(const std::string& s, const raw_value&) {
    for (std::size_t start = 0; !s.empty() && start <= s.size();) {
        const std::size_t comma = std::min(s.find(',', start), s.size());
        if (!std::string_view{s}.substr(start, comma - start).starts_with("redis://")) {
            return std::unexpected(
                reason{"expected redis://host:port, or several comma-separated"});
        }
        start = comma + 1;
    }
    return {};
}

check_result check_jwt_key(const jwt_key& key, const std::vector<jwt_key>& earlier) {
    if (key.kid.empty()) return std::unexpected(reason{"a key has an empty kid"});
    if (std::ranges::any_of(earlier, [&](const jwt_key& k) { return k.kid == key.kid; })) {
        return std::unexpected(fmt::format("kid {} appears twice", quote(key.kid)));
    }
    // HS256 needs at least as many key bytes as the hash has; the secret itself is never shown.
    if (key.secret.size() < 32) {
        return std::unexpected(fmt::format("secret of key {} must be at least 32 bytes, got {}",
                                           quote(key.kid), key.secret.size()));
    }
    return {};
}

// The environment form: "k1:secret1,k2:secret2".
std::expected<std::vector<jwt_key>, reason> parse_jwt_keys_text(std::string_view text) {
    std::vector<jwt_key> keys;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view item = text.substr(start, comma - start);
        const std::size_t colon = item.find(':');
        if (colon == std::string_view::npos) {
            return std::unexpected(reason{"expected kid:secret pairs separated by commas"});
        }
        jwt_key key{std::string(item.substr(0, colon)), std::string(item.substr(colon + 1))};
        if (auto ok = check_jwt_key(key, keys); !ok) return std::unexpected(ok.error());
        keys.push_back(std::move(key));
        start = comma + 1;
    }
    return keys;
}

// The file form: [[auth.jwt_keys]] tables with exactly `kid` and `secret`.
std::expected<std::vector<jwt_key>, reason> parse_jwt_keys_toml(const raw_value& v) {
    const auto* array = v.node->as_array();
    if (array == nullptr) return std::unexpected(refuse("an array of tables", v).error());
    std::vector<jwt_key> keys;
    for (const toml::node& entry : *array) {
        const auto* table = entry.as_table();
        if (table == nullptr) return std::unexpected(refuse("an array of tables", v).error());
        for (const auto& [name, value] : *table) {
            if (name != "kid" && name != "secret") {
                return std::unexpected(fmt::format("unknown key {} in a key", quote(name.str())));
            }
        }
        const auto kid = (*table)["kid"].value<std::string>();
        const auto secret = (*table)["secret"].value<std::string>();
        if (!kid || !secret) {
            return std::unexpected(reason{"every key needs a string kid and a string secret"});
        }
        jwt_key key{*kid, *secret};
        if (auto ok = check_jwt_key(key, keys); !ok) return std::unexpected(ok.error());
        keys.push_back(std::move(key));
    }
    return keys;
}

// The file form is an array of strings; the environment's (and a string in the file) is one
// string, comma-separated (items trimmed of spaces). `what` names the expected items.
std::expected<std::vector<std::string>, reason> read_string_list(const raw_value& v,
                                                                 std::string_view what) {
    std::vector<std::string> items;
    if (const auto* array = v.node != nullptr ? v.node->as_array() : nullptr) {
        for (const toml::node& entry : *array) {
            const auto text = entry.value<std::string>();
            if (!text) return std::unexpected(refuse(what, v).error());
            items.push_back(*text);
        }
    } else {
        const auto text = read_string(v);
        if (!text) return std::unexpected(refuse(what, v).error());
        for (std::size_t start = 0; !text->empty() && start <= text->size();) {
            const std::size_t comma = std::min(text->find(',', start), text->size());
            std::string_view item = std::string_view{*text}.substr(start, comma - start);
            while (item.starts_with(' ')) item.remove_prefix(1);
            while (item.ends_with(' ')) item.remove_suffix(1);
            items.emplace_back(item);
            start = comma + 1;
        }
    }
    return items;
}

// An empty list trusts nobody.
std::expected<std::vector<cidr>, reason> parse_cidr_list(const raw_value& v) {
    auto items = read_string_list(v, "an array of CIDR strings");
    if (!items) return std::unexpected(items.error());
    std::vector<cidr> blocks;
    for (const auto& item : *items) {
        auto block = parse_cidr(item);
        if (!block) return std::unexpected(fmt::format("{}: {}", quote(item), block.error()));
        blocks.push_back(*block);
    }
    return blocks;
}

// Ticket signing keys: base64url 32-byte seeds, the first signs. Errors never echo a key.
setting ticket_keys_setting() {
    return {"booking.ticket_keys", [](config& c, const raw_value& v) -> check_result {
                auto keys = read_string_list(v, "an array of base64url key strings");
                if (!keys) return std::unexpected(keys.error());
                for (std::size_t i = 0; i < keys->size(); ++i) {
                    const auto seed = base64url_decode((*keys)[i]);
                    if (!seed || seed->size() != 32) {
                        return std::unexpected(fmt::format(
                            "key {} is not 32 bytes in base64url without padding (head -c32 "
                            "/dev/urandom | basenc --base64url | tr -d =)",
                            i + 1));
                    }
                }
                c.booking.ticket_keys = std::move(*keys);
                return {};
            }};
}

setting jwt_keys_setting() {
    return {"auth.jwt_keys", [](config& c, const raw_value& v) -> check_result {
                auto keys =
                    v.node != nullptr ? parse_jwt_keys_toml(v) : parse_jwt_keys_text(v.text);
                if (!keys) return std::unexpected(keys.error());
                c.auth.jwt_keys = std::move(*keys);
                return {};
            }};
}

// ---- The table of settings ----

void add_top_level_settings(std::vector<setting>& out) {
    out.push_back(string_setting(
        "data_dir", [](config& c) { return &c.data_dir; }, non_empty));
    out.push_back({"roles", [](config& c, const raw_value& v) -> check_result {
                       const auto text = read_string(v);
                       if (!text) return std::unexpected(text.error());
                       const auto roles = parse_roles(*text);
                       if (!roles) return std::unexpected(roles.error());
                       c.roles = *roles;
                       return {};
                   }});
    out.push_back({"demo", [](config& c, const raw_value& v) -> check_result {
                       const auto b = read_bool(v);
                       if (!b) return std::unexpected(b.error());
                       c.demo = *b;
                       return {};
                   }});
}

void add_server_settings(std::vector<setting>& out) {
    out.push_back({"server.listen", [](config& c, const raw_value& v) -> check_result {
                       const auto text = read_string(v);
                       if (!text) return std::unexpected(text.error());
                       const auto hp = parse_host_port(*text);
                       if (!hp) return refuse("HOST:PORT with a port in 0..65535", v);
                       c.server.listen = *hp;
                       return {};
                   }});
    constexpr std::int64_t hour_ms = 3'600'000;
    out.push_back(
        integer_setting("server.threads", 0, 1024, [](config& c) { return &c.server.threads; }));
    out.push_back(integer_setting("server.max_connections", 1, 1'000'000,
                                  [](config& c) { return &c.server.max_connections; }));
    out.push_back(integer_setting("server.max_body_bytes", 1, std::int64_t{1} << 30,
                                  [](config& c) { return &c.server.max_body_bytes; }));
    out.push_back(integer_setting("server.max_header_bytes", 1024, 1 << 20,
                                  [](config& c) { return &c.server.max_header_bytes; }));
    out.push_back(integer_setting("server.read_timeout_ms", 1, hour_ms,
                                  [](config& c) { return &c.server.read_timeout_ms; }));
    out.push_back(integer_setting("server.idle_timeout_ms", 1, hour_ms,
                                  [](config& c) { return &c.server.idle_timeout_ms; }));
    out.push_back(integer_setting("server.shutdown_grace_ms", 0, hour_ms,
                                  [](config& c) { return &c.server.shutdown_grace_ms; }));
    out.push_back(string_setting(
        "server.public_url", [](config& c) { return &c.server.public_url; }, check_public_url));
    out.push_back(string_setting(
        "server.web_dir", [](config& c) { return &c.server.web_dir; },
        [](const std::string&, const raw_value&) -> check_result { return {}; }));
    out.push_back({"server.trusted_proxies", [](config& c, const raw_value& v) -> check_result {
                       auto blocks = parse_cidr_list(v);
                       if (!blocks) return std::unexpected(blocks.error());
                       c.server.trusted_proxies = std::move(*blocks);
                       return {};
                   }});
    out.push_back(integer_setting("rate_limit.auth_per_minute", 1, 1'000'000,
                                  [](config& c) { return &c.rate_limit.auth_per_minute; }));
    out.push_back(integer_setting("rate_limit.auth_burst", 1, 1'000'000,
                                  [](config& c) { return &c.rate_limit.auth_burst; }));
    out.push_back(integer_setting("rate_limit.webhook_per_minute", 1, 1'000'000,
                                  [](config& c) { return &c.rate_limit.webhook_per_minute; }));
    out.push_back(integer_setting("rate_limit.webhook_burst", 1, 1'000'000,
                                  [](config& c) { return &c.rate_limit.webhook_burst; }));
}

void add_storage_settings(std::vector<setting>& out) {
    out.push_back(string_setting(
        "db.url", [](config& c) { return &c.db.url; }, check_db_url));
    out.push_back(
        integer_setting("db.pool_size", 1, 256, [](config& c) { return &c.db.pool_size; }));
    out.push_back(integer_setting("db.busy_timeout_ms", 0, 600'000,
                                  [](config& c) { return &c.db.busy_timeout_ms; }));
    out.push_back(integer_setting("db.write_batch_max", 1, 100'000,
                                  [](config& c) { return &c.db.write_batch_max; }));
    out.push_back(string_setting(
        "redis.url", [](config& c) { return &c.redis.url; }, check_redis_url));
    out.push_back(ticket_keys_setting());
    out.push_back(integer_setting("booking.unknown_grace_seconds", 1, 86'400,
                                  [](config& c) { return &c.booking.unknown_grace_seconds; }));
    out.push_back(integer_setting("booking.refund_backoff_max_seconds", 2, 86'400,
                                  [](config& c) { return &c.booking.refund_backoff_max_seconds; }));
    out.push_back(integer_setting("booking.first_check_seconds", 0, 3600,
                                  [](config& c) { return &c.booking.first_check_seconds; }));
    out.push_back(
        integer_setting("queue.tick_ms", 10, 10'000, [](config& c) { return &c.queue.tick_ms; }));
    out.push_back(integer_setting("queue.grace_seconds", 1, 86'400,
                                  [](config& c) { return &c.queue.grace_seconds; }));
    out.push_back(integer_setting("notifications.poll_ms", 10, 60'000,
                                  [](config& c) { return &c.notifications.poll_ms; }));
    out.push_back(integer_setting("notifications.retention_seconds", 1, 10LL * 365 * 86'400,
                                  [](config& c) { return &c.notifications.retention_seconds; }));
    out.push_back(integer_setting("notifications.sweep_interval_ms", 100, 86'400'000,
                                  [](config& c) { return &c.notifications.sweep_interval_ms; }));
    out.push_back(integer_setting("booking.reconcile_interval_ms", 10, 600'000,
                                  [](config& c) { return &c.booking.reconcile_interval_ms; }));
}

void add_auth_settings(std::vector<setting>& out) {
    constexpr std::int64_t day_s = 86'400;
    out.push_back(string_setting(
        "auth.issuer", [](config& c) { return &c.auth.issuer; }, non_empty));
    out.push_back(integer_setting("auth.access_ttl_seconds", 1, day_s,
                                  [](config& c) { return &c.auth.access_ttl_seconds; }));
    out.push_back(integer_setting("auth.refresh_ttl_seconds", 1, 366 * day_s,
                                  [](config& c) { return &c.auth.refresh_ttl_seconds; }));
    out.push_back(integer_setting("auth.lockout_threshold", 1, 1000,
                                  [](config& c) { return &c.auth.lockout_threshold; }));
    out.push_back(integer_setting("auth.lockout_seconds", 1, day_s,
                                  [](config& c) { return &c.auth.lockout_seconds; }));
    out.push_back(integer_setting("auth.account_cache_ms", 0, 60'000,
                                  [](config& c) { return &c.auth.account_cache_ms; }));
    out.push_back({"auth.password_cost", [](config& c, const raw_value& v) -> check_result {
                       static constexpr std::array<std::string_view, 3> names = {"interactive",
                                                                                 "moderate", "min"};
                       const auto i = read_choice(v, names);
                       if (!i) return std::unexpected(i.error());
                       c.auth.password_cost = static_cast<password_cost_level>(*i);
                       return {};
                   }});
    out.push_back(jwt_keys_setting());
    out.push_back(string_setting(
        "auth.oauth2_redirect", [](config& c) { return &c.auth.oauth2_redirect; }, check_web_url));
    out.push_back(integer_setting("auth.oauth2_timeout_ms", 100, 60'000,
                                  [](config& c) { return &c.auth.oauth2_timeout_ms; }));
}

void add_other_settings(std::vector<setting>& out) {
    out.push_back({"log.level", [](config& c, const raw_value& v) -> check_result {
                       static constexpr std::array<std::string_view, 6> names = {
                           "trace", "debug", "info", "warn", "error", "off"};
                       const auto i = read_choice(v, names);
                       if (!i) return std::unexpected(i.error());
                       c.log.level = std::string(names[*i]);
                       return {};
                   }});
    out.push_back({"payment.provider", [](config& c, const raw_value& v) -> check_result {
                       static constexpr std::array<std::string_view, 2> names = {"sandbox", "toss"};
                       const auto i = read_choice(v, names);
                       if (!i) return std::unexpected(i.error());
                       c.payment.provider = static_cast<payment_provider>(*i);
                       return {};
                   }});
    out.push_back({"payment.sandbox_public", [](config& c, const raw_value& v) -> check_result {
                       const auto b = read_bool(v);
                       if (!b) return std::unexpected(b.error());
                       c.payment.sandbox_public = *b;
                       return {};
                   }});
    out.push_back(string_setting(
        "payment.toss.secret_key", [](config& c) { return &c.payment.toss.secret_key; },
        non_empty));
    out.push_back(string_setting(
        "payment.toss.base_url", [](config& c) { return &c.payment.toss.base_url; },
        check_base_url));
    out.push_back(string_setting(
        "payment.toss.client_key", [](config& c) { return &c.payment.toss.client_key; },
        check_client_key));
    out.push_back(string_setting(
        "payment.toss.widget_url", [](config& c) { return &c.payment.toss.widget_url; },
        check_base_url));
}

const std::vector<setting>& all_settings() {
    static const std::vector<setting> settings = [] {
        std::vector<setting> out;
        add_top_level_settings(out);
        add_server_settings(out);
        add_storage_settings(out);
        add_auth_settings(out);
        add_other_settings(out);
        return out;
    }();
    return settings;
}

const setting* find_setting(std::string_view path) {
    const auto& settings = all_settings();
    const auto it = std::ranges::find(settings, path, &setting::path);
    return it == settings.end() ? nullptr : &*it;
}

constexpr std::array<std::string_view, 9> sections = {
    "server", "rate_limit", "db", "redis", "booking", "auth", "log", "payment", "payment.toss"};

std::string env_name(std::string_view path) {
    std::string name = "TICKETON_";
    for (const char c : path) {
        name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

std::string invalid(std::string_view path, const raw_value& v, std::string_view why) {
    return fmt::format("invalid value for {} ({}): {}", path, v.source, why);
}

// ---- The three sources ----

std::string file_position(std::string_view file, const toml::node& node) {
    return fmt::format("{}:{}", file, node.source().begin.line);
}

// ---- OAuth2 providers: [auth.oauth2.<name>] and TICKETON_AUTH_OAUTH2_<NAME>_<KEY> ----

constexpr std::array<std::string_view, 11> oauth2_keys = {
    "client_id",    "client_secret", "issuer",        "authorize_url",        "token_url",
    "userinfo_url", "scopes",        "subject_field", "email_verified_field", "email_field",
    "name_field"};

bool is_provider_name(std::string_view name) {
    return !name.empty() && name.size() <= 32 && std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

oauth2_provider_config& provider_named(config& c, std::string_view name) {
    for (auto& p : c.auth.oauth2) {
        if (p.name == name) return p;
    }
    oauth2_provider_config p;
    p.name = std::string(name);
    c.auth.oauth2.push_back(std::move(p));
    return c.auth.oauth2.back();
}

// Scopes: an array of strings in the file; one string, separated by spaces or commas, anywhere.
std::expected<std::vector<std::string>, reason> read_scopes(const raw_value& v) {
    std::vector<std::string> out;
    if (const auto* array = v.node != nullptr ? v.node->as_array() : nullptr) {
        for (const toml::node& entry : *array) {
            const auto text = entry.value<std::string>();
            if (!text || text->empty() || text->find(' ') != std::string::npos)
                return std::unexpected(refuse("an array of scope names", v).error());
            out.push_back(*text);
        }
        return out;
    }
    const auto text = read_string(v);
    if (!text) return std::unexpected(refuse("an array of scope names", v).error());
    std::string item;
    for (const char ch : *text + " ") {
        if (ch == ' ' || ch == ',') {
            if (!item.empty()) out.push_back(std::move(item));
            item.clear();
        } else {
            item += ch;
        }
    }
    return out;
}

check_result apply_oauth2_key(oauth2_provider_config& p, std::string_view key, const raw_value& v) {
    if (key == "scopes") {
        auto scopes = read_scopes(v);
        if (!scopes) return std::unexpected(scopes.error());
        p.scopes = std::move(*scopes);
        return {};
    }
    if (key == "client_secret") {
        // The secret itself never appears in an error.
        const auto text = v.node != nullptr ? v.node->value<std::string>() : v.text;
        if (!text || text->empty()) return std::unexpected(reason{"expected a non-empty string"});
        p.client_secret = *text;
        return {};
    }
    auto text = read_string(v);
    if (!text) return std::unexpected(text.error());
    if (key.ends_with("_url") || key == "issuer") {
        while (key == "issuer" && text->ends_with('/')) text->pop_back();
        if (auto ok = check_base_url(*text, v); !ok) return ok;
    } else if (auto ok = non_empty(*text, v); !ok) {
        return ok;
    }
    std::string* fields[] = {&p.client_id,     &p.client_secret, &p.issuer,
                             &p.authorize_url, &p.token_url,     &p.userinfo_url,
                             nullptr,          &p.subject_field, &p.email_verified_field,
                             &p.email_field,   &p.name_field};
    const auto at =
        static_cast<std::size_t>(std::ranges::find(oauth2_keys, key) - oauth2_keys.begin());
    *fields[at] = std::move(*text);
    return {};
}

std::expected<void, std::string> apply_oauth2_tables(config& c, const toml::node& node,
                                                     std::string_view file) {
    const raw_value whole{file_position(file, node), &node, {}};
    const auto* providers = node.as_table();
    if (providers == nullptr)
        return std::unexpected(invalid("auth.oauth2", whole, refuse("a table", whole).error()));
    for (const auto& [name, sub] : *providers) {
        const std::string path = fmt::format("auth.oauth2.{}", name.str());
        const raw_value at{file_position(file, sub), &sub, {}};
        if (!is_provider_name(name.str()))
            return std::unexpected(invalid(path, at, "a provider name is 1 to 32 of a-z, 0-9, _"));
        const auto* table = sub.as_table();
        if (table == nullptr)
            return std::unexpected(invalid(path, at, refuse("a table", at).error()));
        auto& p = provider_named(c, name.str());
        for (const auto& [key, value] : *table) {
            const std::string key_path = fmt::format("{}.{}", path, key.str());
            const raw_value v{file_position(file, value), &value, {}};
            if (std::ranges::find(oauth2_keys, key.str()) == oauth2_keys.end())
                return std::unexpected(fmt::format("unknown key {} ({})", key_path, v.source));
            if (auto ok = apply_oauth2_key(p, key.str(), v); !ok)
                return std::unexpected(invalid(key_path, v, ok.error()));
        }
    }
    return {};
}

// The environment cannot be listed through env_lookup, so it is asked about the providers it
// may name: the built-in ones, those of the file, and those TICKETON_AUTH_OAUTH2_PROVIDERS lists.
std::expected<void, std::string> apply_oauth2_env(config& c, const env_lookup& env) {
    std::vector<std::string> names(builtin_oauth2_providers.begin(),
                                   builtin_oauth2_providers.end());
    for (const auto& p : c.auth.oauth2) names.push_back(p.name);
    if (auto listed = env("TICKETON_AUTH_OAUTH2_PROVIDERS")) {
        const raw_value v{"TICKETON_AUTH_OAUTH2_PROVIDERS", nullptr, *listed};
        auto more = read_scopes(v);
        if (!more) return std::unexpected(invalid("auth.oauth2 providers", v, more.error()));
        for (const auto& name : *more) {
            if (!is_provider_name(name))
                return std::unexpected(invalid("auth.oauth2 providers", v,
                                               "a provider name is 1 to 32 of a-z, 0-9, _"));
            names.push_back(name);
        }
    }
    for (const auto& name : names) {
        for (const auto key : oauth2_keys) {
            const std::string path = fmt::format("auth.oauth2.{}.{}", name, key);
            std::string var = env_name(path);
            auto text = env(var);
            if (!text) continue;
            const raw_value v{std::move(var), nullptr, std::move(*text)};
            if (auto ok = apply_oauth2_key(provider_named(c, name), key, v); !ok)
                return std::unexpected(invalid(path, v, ok.error()));
        }
    }
    return {};
}

// Once every source is in: a provider needs a client id, and one without a preset needs an
// issuer or its own endpoints.
std::expected<void, std::string> check_oauth2(const config& c) {
    for (const auto& p : c.auth.oauth2) {
        if (p.client_id.empty())
            return std::unexpected(fmt::format("auth.oauth2.{}: client_id is required", p.name));
        const bool builtin =
            std::ranges::find(builtin_oauth2_providers, p.name) != builtin_oauth2_providers.end();
        if (builtin || !p.issuer.empty()) continue;
        if (p.authorize_url.empty() || p.token_url.empty() || p.userinfo_url.empty()) {
            return std::unexpected(
                fmt::format("auth.oauth2.{}: set issuer (OpenID Connect discovery), or "
                            "authorize_url, token_url and userinfo_url",
                            p.name));
        }
    }
    return {};
}

std::expected<void, std::string> apply_table(config& c, const toml::table& table,
                                             std::string_view prefix, std::string_view file) {
    for (const auto& [key, node] : table) {
        const std::string path =
            prefix.empty() ? std::string(key.str()) : fmt::format("{}.{}", prefix, key.str());
        const raw_value v{file_position(file, node), &node, {}};
        if (path == "auth.oauth2") {
            if (auto ok = apply_oauth2_tables(c, node, file); !ok) return ok;
            continue;
        }
        if (std::ranges::find(sections, path) != sections.end()) {
            const auto* sub = node.as_table();
            if (sub == nullptr)
                return std::unexpected(invalid(path, v, refuse("a table", v).error()));
            if (auto ok = apply_table(c, *sub, path, file); !ok) return ok;
            continue;
        }
        const setting* s = find_setting(path);
        if (s == nullptr)
            return std::unexpected(fmt::format("unknown key {} ({})", path, v.source));
        if (auto ok = s->apply(c, v); !ok) return std::unexpected(invalid(path, v, ok.error()));
    }
    return {};
}

std::expected<void, std::string> apply_file(config& c, std::string_view toml_text,
                                            std::string_view file) {
    toml::table root;
    try {
        root = toml::parse(toml_text, file);
    } catch (const toml::parse_error& e) {
        std::string what{e.description()};
        std::ranges::replace(what, '\n', ' ');
        return std::unexpected(fmt::format("cannot parse {}:{}:{}: {}", file, e.source().begin.line,
                                           e.source().begin.column, what));
    }
    return apply_table(c, root, "", file);
}

std::expected<void, std::string> apply_env(config& c, const env_lookup& env) {
    for (const setting& s : all_settings()) {
        std::string name = env_name(s.path);
        auto text = env(name);
        if (!text) continue;
        const raw_value v{std::move(name), nullptr, std::move(*text)};
        if (auto ok = s.apply(c, v); !ok) return std::unexpected(invalid(s.path, v, ok.error()));
    }
    return {};
}

std::expected<void, std::string> apply_flags(config& c, const config_overrides& flags) {
    const std::optional<std::string> demo =
        flags.demo ? std::optional<std::string>{*flags.demo ? "true" : "false"} : std::nullopt;
    const std::array<
        std::tuple<std::string_view, std::string_view, const std::optional<std::string>*>, 6>
        given = {{{"data_dir", "--data-dir", &flags.data_dir},
                  {"roles", "--roles", &flags.roles},
                  {"server.listen", "--listen", &flags.listen},
                  {"db.url", "--db", &flags.db_url},
                  {"redis.url", "--redis", &flags.redis_url},
                  {"demo", "--no-demo", &demo}}};
    for (const auto& [path, flag, value] : given) {
        if (!value->has_value()) continue;
        const raw_value v{std::string(flag), nullptr, **value};
        if (auto ok = find_setting(path)->apply(c, v); !ok) {
            return std::unexpected(invalid(path, v, ok.error()));
        }
    }
    return {};
}

}  // namespace

std::string role_set::to_string() const {
    if (all()) return "all";
    std::string out;
    for (const auto& [on, name] :
         {std::pair{api, "api"}, std::pair{queue, "queue"}, std::pair{dispatcher, "dispatcher"}}) {
        if (!on) continue;
        if (!out.empty()) out += ',';
        out += name;
    }
    return out;
}

std::string host_port::to_string() const {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

std::expected<host_port, std::string> parse_host_port(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::unexpected("missing :PORT");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        if (!is_ipv6_literal(host)) return std::unexpected("bad IPv6 address");
    } else if (!is_host_name(host)) {
        return std::unexpected("bad host (IPv6 addresses go in brackets)");
    }
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535) {
        return std::unexpected("port must be in 0..65535");
    }
    return host_port{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string config::effective_db_url() const {
    if (!db.url.empty()) return db.url;
    return "sqlite://" + (std::filesystem::path(data_dir) / "ticketon.db").string();
}

env_lookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        // getenv needs a terminated string; the environment is not modified after start-up.
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

std::expected<config, std::string> load_config(std::string_view toml_text, const env_lookup& env,
                                               const config_overrides& flags) {
    config c;
    const std::string file = flags.config_file.value_or(std::string(default_config_file));
    if (auto ok = apply_file(c, toml_text, file); !ok) return std::unexpected(ok.error());
    if (auto ok = apply_env(c, env); !ok) return std::unexpected(ok.error());
    if (auto ok = apply_oauth2_env(c, env); !ok) return std::unexpected(ok.error());
    if (auto ok = apply_flags(c, flags); !ok) return std::unexpected(ok.error());
    if (auto ok = check_oauth2(c); !ok) return std::unexpected(ok.error());
    return c;
}

std::expected<void, std::string> check_sandbox_listen(const config& cfg) {
    if (cfg.payment.sandbox_public || is_loopback_host(cfg.server.listen.host)) return {};
    return std::unexpected(fmt::format(
        "the Toss sandbox will not listen on {}, which is not a loopback address: anyone who "
        "reaches it could approve payments and inject faults; set payment.sandbox_public = true "
        "(TICKETON_PAYMENT_SANDBOX_PUBLIC) to serve it there anyway",
        quote(cfg.server.listen.host)));
}

std::expected<std::string, std::string> read_config_file(const std::filesystem::path& path,
                                                         file_presence presence) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        if (presence == file_presence::optional) return std::string{};
        return std::unexpected(
            fmt::format("cannot read config file {}: no such file", path.string()));
    }
    if (std::filesystem::is_directory(status)) {
        return std::unexpected(
            fmt::format("cannot read config file {}: is a directory", path.string()));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::unexpected(
            fmt::format("cannot read config file {}: {}", path.string(), std::strerror(errno)));
    }
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad())
        return std::unexpected(
            fmt::format("cannot read config file {}: read error", path.string()));
    return text;
}

std::string_view to_string(password_cost_level level) {
    static constexpr std::array<std::string_view, 3> names = {"interactive", "moderate", "min"};
    return names.at(static_cast<std::size_t>(level));
}

std::string_view to_string(payment_provider provider) {
    return provider == payment_provider::toss ? "toss" : "sandbox";
}

}  // namespace tkt
