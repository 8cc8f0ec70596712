#include "db/mysql/mysql_url.hpp"

#include <charconv>

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace tkt::db {
namespace {

std::unexpected<error> refuse(std::string_view why) {
    return std::unexpected(error{
        errc::misuse,
        fmt::format("bad MySQL URL: {} (expected mysql://user:pass@host:port/database)", why)});
}

// Database names the server takes unquoted: letters, digits, `_` and `$`, at most 64.
bool plain_identifier(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (unsigned char c : s) {
        if (!(std::isalnum(c) || c == '_' || c == '$')) return false;
    }
    return true;
}

}  // namespace

expected<mysql_url> parse_mysql_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return refuse("not a URL");
    const auto& u = *parsed;
    if (u.scheme() != "mysql")
        return refuse(fmt::format("the scheme is '{}', not mysql", u.scheme()));
    if (!u.has_authority() || u.encoded_host().empty()) return refuse("no host");
    if (u.has_query() || u.has_fragment()) return refuse("no ?query or #fragment is understood");
    mysql_url out;
    out.host = u.host_type() == boost::urls::host_type::ipv6 ? u.host_address() : u.host();
    if (u.has_port()) {
        const auto text = u.port();
        unsigned port = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || port == 0 ||
            port > 65535) {
            return refuse(fmt::format("the port '{}' is not a number from 1 to 65535", text));
        }
        out.port = port;
    }
    if (!u.has_userinfo() || u.user().empty()) return refuse("no user");
    out.user = u.user();
    out.password = u.password();
    std::string path = u.path();
    if (path.starts_with('/')) path.erase(0, 1);
    if (path.empty()) return refuse("no database name after the port");
    if (!plain_identifier(path)) {
        return refuse(
            fmt::format("the database name '{}' must be 1 to 64 letters, digits, _ or $", path));
    }
    out.database = std::move(path);
    return out;
}

}  // namespace tkt::db
