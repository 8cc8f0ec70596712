-- The order's money states (DESIGN.md §5, issue 10). Every move of money is a state of the order,
-- won by one compare-and-set on `status` before the payment provider is called:
--   PAID ─cancel─► REFUNDING ─► CANCELLED          (a user's, manager's or event's cancellation)
--   CONFIRMING (or an order no longer payable) ─► REFUNDING ─► REFUNDED   (captured, no ticket)
--   REFUNDING ─► REFUND_FAILED                      (the provider refused the refund for good)
-- REFUNDING is committed before the provider is asked to refund; the reconciler finishes any
-- order left in it (crash, timeout, outage) with backoff: `check_attempts` counts its looks so the
-- backoff survives a restart.
--
-- SQLite changes a CHECK only by rebuilding the table (as 006 and 007 did): payments and tickets
-- reference orders, so foreign keys are deferred while orders is dropped and filled again.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE orders_before_009 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    id              VARCHAR(64)  PRIMARY KEY,
    hold_id         VARCHAR(64)  NOT NULL,  -- 'hld_' || substr(id, 5), or unique among the older ones (006)
    event_id        BIGINT       NOT NULL REFERENCES events (id),
    user_id         BIGINT       NOT NULL REFERENCES users (id),
    status          VARCHAR(20)  NOT NULL CHECK (status = 'PENDING_PAYMENT' OR status = 'CONFIRMING' OR
                        status = 'PAID' OR status = 'FAILED' OR status = 'EXPIRED' OR status = 'CANCELLED' OR
                        status = 'REFUNDED' OR status = 'REFUNDING' OR status = 'REFUND_FAILED'),
    seats_json      TEXT         NOT NULL,
    zone            VARCHAR(64)  NULL,
    quantity        INTEGER      NOT NULL,
    amount          BIGINT       NOT NULL,
    currency        VARCHAR(8)   NOT NULL DEFAULT 'KRW',
    expires_at      BIGINT       NOT NULL,
    payment_key     VARCHAR(200) NULL,
    failure_code    VARCHAR(64)  NULL,
    failure_message VARCHAR(500) NULL,
    confirming_at   BIGINT       NULL,
    next_check_at   BIGINT       NULL,      -- CONFIRMING, REFUNDING: when the reconciler looks next
    created_at      VARCHAR(32)  NOT NULL,
    updated_at      VARCHAR(32)  NOT NULL,
    paid_at         VARCHAR(32)  NULL,
    cancelled_at    VARCHAR(32)  NULL,
    check_attempts  INTEGER      NOT NULL DEFAULT 0  -- the reconciler's looks at a REFUNDING order
) WITHOUT ROWID;
INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, zone, quantity, amount,
                    currency, expires_at, payment_key, failure_code, failure_message, confirming_at,
                    next_check_at, created_at, updated_at, paid_at, cancelled_at)
    SELECT id, hold_id, event_id, user_id, status, seats_json, zone, quantity, amount, currency,
           expires_at, payment_key, failure_code, failure_message, confirming_at, next_check_at,
           created_at, updated_at, paid_at, cancelled_at
    FROM orders_before_009;
DROP TABLE orders_before_009;
CREATE UNIQUE INDEX orders_older_hold ON orders (hold_id) WHERE hold_id <> 'hld_' || substr(id, 5);
CREATE INDEX orders_user ON orders (user_id, created_at) WHERE confirming_at IS NOT NULL;
CREATE INDEX orders_event ON orders (event_id, created_at) WHERE confirming_at IS NOT NULL;
CREATE INDEX orders_live ON orders (status, user_id, next_check_at)
    WHERE status IN ('PENDING_PAYMENT', 'CONFIRMING');
-- The refunds the reconciler has to finish, by when it looks next; and the orders a webhook's
-- paymentKey names. Neither holds a hold awaiting payment, so a hold's INSERT writes neither.
CREATE INDEX orders_refunding ON orders (next_check_at) WHERE status = 'REFUNDING';
CREATE INDEX orders_payment_key ON orders (payment_key) WHERE payment_key IS NOT NULL;
-- Idempotency keys are kept 24 hours; the reconciler forgets older ones through this index.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
