-- As migrations/sqlite/007_checks_without_in_lists.sql, which rewrites the CHECKs on orders and
-- tickets status as ORs of equalities because SQLite evaluates `IN (…)` through a temporary
-- b-tree on every write. MariaDB evaluates an IN list of constants directly; the checks accept
-- the same values either way, so nothing changes here.
DO 0;
