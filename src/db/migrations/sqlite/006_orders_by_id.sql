-- Orders keyed by their id alone (WITHOUT ROWID), and a hold's id derived from its order's id:
-- `hld_<x>` belongs to `ord_<x>` (booking::service::hold makes both from one time-sorted id).
-- A hold's INSERT and its release then touch two b-trees fewer (the rowid table's separate
-- primary-key index, the `hold_id` unique index), and a release finds its order by primary key.
-- Holds made before this migration keep their ids: a partial unique index covers exactly the
-- rows whose hold id is not derived from the order id (none are written any more).
--
-- SQLite changes a table's keys only by rebuilding it. `payments` and `tickets` reference
-- orders, and foreign keys cannot be switched off inside the migration's transaction, so they
-- are deferred: dropping the old table counts every referencing row as a violation, and
-- inserting the same ids into the new table counts them back, before the commit checks.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE orders_before_006 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    id              VARCHAR(64)  PRIMARY KEY,
    hold_id         VARCHAR(64)  NOT NULL,  -- 'hld_' || substr(id, 5), or unique among the older ones
    event_id        BIGINT       NOT NULL REFERENCES events (id),
    user_id         BIGINT       NOT NULL REFERENCES users (id),
    status          VARCHAR(20)  NOT NULL CHECK (status IN ('PENDING_PAYMENT', 'CONFIRMING', 'PAID',
                        'FAILED', 'EXPIRED', 'CANCELLED', 'REFUNDED')),
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
    next_check_at   BIGINT       NULL,
    created_at      VARCHAR(32)  NOT NULL,
    updated_at      VARCHAR(32)  NOT NULL,
    paid_at         VARCHAR(32)  NULL,
    cancelled_at    VARCHAR(32)  NULL
) WITHOUT ROWID;
INSERT INTO orders SELECT * FROM orders_before_006;
DROP TABLE orders_before_006;
CREATE UNIQUE INDEX orders_older_hold ON orders (hold_id) WHERE hold_id <> 'hld_' || substr(id, 5);
CREATE INDEX orders_user ON orders (user_id, created_at) WHERE confirming_at IS NOT NULL;
CREATE INDEX orders_event ON orders (event_id, created_at);
CREATE INDEX orders_live ON orders (status, user_id, next_check_at)
    WHERE status IN ('PENDING_PAYMENT', 'CONFIRMING');
