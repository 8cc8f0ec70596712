-- The order's money states (DESIGN.md §5, issue 10), as migrations/sqlite/009_money_states.sql:
-- REFUNDING and REFUND_FAILED join the states, `check_attempts` counts the reconciler's looks at
-- a REFUNDING order so its backoff survives a restart. MariaDB changes a CHECK and adds a column
-- in place.
ALTER TABLE orders
    DROP CONSTRAINT orders_status_known,
    ADD CONSTRAINT orders_status_known CHECK (status IN ('PENDING_PAYMENT', 'CONFIRMING', 'PAID',
        'FAILED', 'EXPIRED', 'CANCELLED', 'REFUNDED', 'REFUNDING', 'REFUND_FAILED')),
    ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0;
-- The refunds the reconciler has to finish, by when it looks next (SQLite: a partial index of
-- REFUNDING orders; here the status leads the key), and the orders a webhook's paymentKey names.
CREATE INDEX orders_refunding ON orders (status, next_check_at);
CREATE INDEX orders_payment_key ON orders (payment_key);
-- Idempotency keys are kept 24 hours; the reconciler forgets older ones through this index.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
