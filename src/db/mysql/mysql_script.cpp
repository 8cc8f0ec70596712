#include "db/mysql/mysql_script.hpp"

#include <cstddef>

namespace tkt::db {
namespace {

constexpr std::string_view blanks = " \t\r\n\f\v";

// The index just past the quoted text that starts at `i`. A doubled quote stands for itself
// and simply reopens the quote on the next round; a backslash is an ordinary character, as the
// engine's sessions run with NO_BACKSLASH_ESCAPES (standard SQL, as SQLite reads it).
std::size_t skip_quoted(std::string_view sql, std::size_t i) {
    const char quote = sql[i];
    const auto end = sql.find(quote, i + 1);
    return end == std::string_view::npos ? sql.size() : end + 1;
}

std::size_t skip_line(std::string_view sql, std::size_t i) {
    const auto end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
}

std::size_t skip_block(std::string_view sql, std::size_t i) {
    const auto end = sql.find("*/", i + 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
}

// `--` starts a comment in MySQL only when a blank (or the end) follows it.
bool dash_comment_at(std::string_view sql, std::size_t i) {
    return sql.substr(i, 2) == "--" &&
           (i + 2 == sql.size() || blanks.find(sql[i + 2]) != std::string_view::npos);
}

// Everything in [i, end) is blanks or comments.
bool only_comments(std::string_view sql) {
    std::size_t i = 0;
    while (i < sql.size()) {
        if (blanks.find(sql[i]) != std::string_view::npos) {
            ++i;
        } else if (sql[i] == '#' || dash_comment_at(sql, i)) {
            i = skip_line(sql, i);
        } else if (sql.substr(i, 2) == "/*") {
            i = skip_block(sql, i);
        } else {
            return false;
        }
    }
    return true;
}

std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(blanks);
    return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<std::string_view> split_sql_statements(std::string_view sql) {
    std::vector<std::string_view> out;
    auto keep = [&](std::string_view piece) {
        if (!only_comments(piece)) out.push_back(trimmed(piece));
    };
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            i = skip_quoted(sql, i);
        } else if (c == '#' || dash_comment_at(sql, i)) {
            i = skip_line(sql, i);
        } else if (sql.substr(i, 2) == "/*") {
            i = skip_block(sql, i);
        } else if (c == ';') {
            keep(sql.substr(start, i - start));
            start = ++i;
        } else {
            ++i;
        }
    }
    keep(sql.substr(start));
    return out;
}

}  // namespace tkt::db
