-- As migrations/sqlite/004_order_indexes.sql: the live orders by status (SQLite keeps only
-- PENDING_PAYMENT and CONFIRMING in it; MariaDB has no partial index, so this one holds every
-- order, and the queries' repeated WHERE term simply narrows the range), and an event's orders
-- by age instead of by status. One ALTER each, so a foreign key never lacks its index between
-- a drop and an add.
ALTER TABLE orders DROP INDEX orders_status, ADD INDEX orders_live (status, next_check_at);
ALTER TABLE orders DROP INDEX orders_event, ADD INDEX orders_event (event_id, created_at);
