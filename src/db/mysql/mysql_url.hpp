#pragma once
// `mysql://user:pass@host:port/db` (DESIGN.md §8), parsed without I/O. The user and password
// may be percent-encoded (a password with `@`, `:` or `/` must be); the port defaults to 3306.
// Every refusal says what was wrong in one line, for `ticketon` to print before exiting 2.
#include <string>
#include <string_view>

#include "db/database.hpp"

namespace tkt::db {

struct mysql_url {
    std::string host;
    unsigned port = 3306;
    std::string user;
    std::string password;
    std::string database;
};

// errc::misuse with the reason when `url` is not a usable MySQL URL.
expected<mysql_url> parse_mysql_url(std::string_view url);

}  // namespace tkt::db
