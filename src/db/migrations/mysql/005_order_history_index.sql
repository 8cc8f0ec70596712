-- As migrations/sqlite/005_order_history_index.sql. SQLite narrows orders_user to the orders
-- with a payment attempt (a partial index); MariaDB has none, so orders_user keeps every order
-- and the purchase history's `confirming_at IS NOT NULL` filters the rows instead. The live
-- orders index gains the user, for a user's holds awaiting payment.
ALTER TABLE orders DROP INDEX orders_live, ADD INDEX orders_live (status, user_id, next_check_at);
