#pragma once
// The schema migrations compiled into the binary (src/db/migrations/<dialect>/NNN_name.sql,
// embedded by embed_migrations.cmake). Versions are strictly increasing within a dialect.
#include <span>
#include <string_view>

#include "db/database.hpp"

namespace tkt::db {

struct migration {
    int version = 0;
    std::string_view name;  // the file name without the number and `.sql`
    std::string_view sql;   // a script of one or more statements
};

// Every migration of `d`, in version order; empty when the dialect has none.
std::span<const migration> migrations(dialect d);

// Applies those of `list` not yet in `schema_migrations` (tests pass their own list; `migrate(db)`
// passes `migrations(db.kind())`). Each runs with its record in one transaction, so a failing
// migration leaves neither its changes nor its record. Returns the number applied.
expected<int> migrate(database& db, std::span<const migration> list);

}  // namespace tkt::db
