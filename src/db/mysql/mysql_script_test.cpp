#include "db/mysql/mysql_script.hpp"

#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace tkt::db {
namespace {

using list = std::vector<std::string_view>;

TEST(split_sql_statements, splits_on_semicolons_and_trims) {
    EXPECT_EQ(split_sql_statements("CREATE TABLE a (x INT);\n  CREATE INDEX i ON a (x) ;\n"),
              (list{"CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"}));
    EXPECT_EQ(split_sql_statements("SELECT 1"), (list{"SELECT 1"}));
}

TEST(split_sql_statements, quotes_and_comments_do_not_split) {
    EXPECT_EQ(split_sql_statements("INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)"),
              (list{"INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)"}));
    EXPECT_EQ(split_sql_statements("SELECT 'it''s; fine'"), (list{"SELECT 'it''s; fine'"}));
    // NO_BACKSLASH_ESCAPES: a backslash does not escape the quote after it.
    EXPECT_EQ(split_sql_statements("SELECT 'a\\'; SELECT 'b'"),
              (list{"SELECT 'a\\'", "SELECT 'b'"}));
    EXPECT_EQ(split_sql_statements("SELECT 1 /* a; b */ + 2; # c; d\nSELECT 3 -- e; f\n"),
              (list{"SELECT 1 /* a; b */ + 2", "# c; d\nSELECT 3 -- e; f"}));
}

TEST(split_sql_statements, blanks_and_comments_alone_are_no_statement) {
    EXPECT_TRUE(split_sql_statements("").empty());
    EXPECT_TRUE(split_sql_statements(" ;; \n").empty());
    EXPECT_EQ(split_sql_statements("INSERT INTO t (x) VALUES (1); -- the seat count"),
              (list{"INSERT INTO t (x) VALUES (1)"}));
    EXPECT_EQ(split_sql_statements("-- a file header\n-- more\nCREATE TABLE a (x INT);"),
              (list{"-- a file header\n-- more\nCREATE TABLE a (x INT)"}));
}

TEST(split_sql_statements, a_double_dash_without_a_blank_is_an_operator) {
    // MySQL reads `1--1` as 1 - (-1); only `-- ` starts a comment.
    EXPECT_EQ(split_sql_statements("SELECT 1--1; SELECT 2"), (list{"SELECT 1--1", "SELECT 2"}));
}

TEST(split_sql_statements, an_unterminated_quote_runs_to_the_end) {
    EXPECT_EQ(split_sql_statements("SELECT 'a; SELECT 2"), (list{"SELECT 'a; SELECT 2"}));
}

}  // namespace
}  // namespace tkt::db
