-- As migrations/sqlite/006_orders_by_id.sql, which rebuilds orders keyed by id alone (WITHOUT
-- ROWID) and drops the unique index of derived hold ids (`hld_<x>` of `ord_<x>`). InnoDB always
-- keeps a table in its primary key's order, so the first half has nothing to do here. The unique
-- key on hold_id stays: a derived hold id is unique with its order id, so the key refuses
-- nothing SQLite accepts, and it is the index the look-up of an older hold by its id uses.
DO 0;
