#pragma once
// Splitting SQL text into statements for the MySQL engine, without I/O. exec() runs exactly one
// statement (a prepared statement cannot hold two) and exec_script() runs a migration statement
// by statement, so that an error names the statement that failed. Semicolons inside quotes
// ('…', "…", `…`) and comments (-- …, # …, /* … */) do not split; comments and blanks between
// statements are dropped, except those in front of a statement, which stay with it.
#include <string_view>
#include <vector>

namespace tkt::db {

// The statements of `sql` in order, each without its terminating `;` and surrounding blanks.
// Text after an unterminated quote or comment belongs to the last statement (the server then
// reports the syntax error).
std::vector<std::string_view> split_sql_statements(std::string_view sql);

}  // namespace tkt::db
