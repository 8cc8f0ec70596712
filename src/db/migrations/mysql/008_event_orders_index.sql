-- As migrations/sqlite/008_event_orders_index.sql, which narrows orders_event to the orders with
-- a payment attempt (a partial index). MariaDB has no partial index: orders_event keeps every
-- order of an event, and the manager's list and the audit, which repeat `confirming_at IS NOT
-- NULL`, filter on it. Nothing to change.
DO 0;
