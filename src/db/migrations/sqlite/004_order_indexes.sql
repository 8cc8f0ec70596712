-- Indexes of orders that a hold and its release do not have to touch much (the hot writes).
--
-- orders_status indexed every order by status, so each status change moved an entry. The hot
-- look-ups by status are of live orders (the rebuild after a restart reads PENDING_PAYMENT, the
-- reconciler CONFIRMING every second), so a partial index over those two keeps it small: an
-- entry comes with a hold and goes when its order ends. Queries must repeat the index's WHERE
-- term to use it. The rebuild's one read of PAID orders at start-up scans the table.
DROP INDEX orders_status;
CREATE INDEX orders_live ON orders (status, next_check_at)
    WHERE status IN ('PENDING_PAYMENT', 'CONFIRMING');

-- The manager's order list reads an event's orders newest first; status is no part of the key,
-- so a status change leaves this index alone.
DROP INDEX orders_event;
CREATE INDEX orders_event ON orders (event_id, created_at);
