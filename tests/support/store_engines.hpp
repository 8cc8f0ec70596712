#pragma once
// For store tests that must pass on every engine of the Database port (STYLE.md: one
// conformance suite per port): a value-parameterized fixture's parameter, the names that end
// each case (`…/sqlite`, `…/mariadb`), and a fresh database of either engine.
//
//   class my_store : public ::testing::TestWithParam<testing::db_engine> { … };
//   INSTANTIATE_TEST_SUITE_P(on, my_store, testing::all_db_engines(), testing::db_engine_name);
//   …  testing::engine_database db(GetParam());  ASSERT_TRUE(db.open({.size = 1}));
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/testing/temp_dir.hpp"
#include "db/database.hpp"
#include "mariadb_server.hpp"

namespace tkt::testing {

enum class db_engine { sqlite, mariadb };

inline std::string db_engine_name(const ::testing::TestParamInfo<db_engine>& info) {
    return info.param == db_engine::sqlite ? "sqlite" : "mariadb";
}

inline auto all_db_engines() {
    return ::testing::Values(db_engine::sqlite, db_engine::mariadb);
}

// A database of one engine that no other test sees: a file in a temp dir (SQLite) or a
// database of its own on the run's MariaDB server, removed with this object.
class engine_database {
public:
    explicit engine_database(db_engine e) : engine_(e) {}

    // Opens (another) pool on the database; the first call creates it.
    db::expected<std::unique_ptr<db::database>> open(db::pool_options options) {
        if (engine_ == db_engine::mariadb) {
            if (scratch_ == nullptr) scratch_ = std::make_unique<scratch_database>();
            return db::open_database(scratch_->url(), options);
        }
        return db::open_database("sqlite://" + (dir_.path() / "store.db").string(), options);
    }
    db_engine engine() const { return engine_; }
    // The SQLite file (for a test that opens it beside the pool).
    std::filesystem::path sqlite_path() const { return dir_.path() / "store.db"; }

private:
    db_engine engine_;
    temp_dir dir_{"store"};
    std::unique_ptr<scratch_database> scratch_;
};

}  // namespace tkt::testing
