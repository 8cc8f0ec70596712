-- CHECK constraints without IN lists. SQLite codes `x IN (…)` with more than two constants as a
-- temporary b-tree that every execution of the statement builds, fills and frees again: the
-- CHECK on orders.status made each hold's INSERT and each release's UPDATE open a throwaway
-- b-tree of seven rows (a third of the writer's time per hold and release, docs/benchmarks.md).
-- The same test spelled as ORs of equalities is a few comparisons. tickets.status (each ticket
-- issued, each check-in) gets the same; the other tables' IN checks run on rare writes only.
--
-- SQLite changes a CHECK only by rebuilding the table, as 006 rebuilt orders: `payments` and
-- `tickets` reference orders, so foreign keys are deferred while orders is dropped and filled
-- again; nothing references tickets.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE orders_before_007 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    id              VARCHAR(64)  PRIMARY KEY,
    hold_id         VARCHAR(64)  NOT NULL,  -- 'hld_' || substr(id, 5), or unique among the older ones (006)
    event_id        BIGINT       NOT NULL REFERENCES events (id),
    user_id         BIGINT       NOT NULL REFERENCES users (id),
    status          VARCHAR(20)  NOT NULL CHECK (status = 'PENDING_PAYMENT' OR status = 'CONFIRMING' OR
                        status = 'PAID' OR status = 'FAILED' OR status = 'EXPIRED' OR status = 'CANCELLED' OR
                        status = 'REFUNDED'),
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
INSERT INTO orders SELECT * FROM orders_before_007;
DROP TABLE orders_before_007;
CREATE UNIQUE INDEX orders_older_hold ON orders (hold_id) WHERE hold_id <> 'hld_' || substr(id, 5);
CREATE INDEX orders_user ON orders (user_id, created_at) WHERE confirming_at IS NOT NULL;
CREATE INDEX orders_event ON orders (event_id, created_at);
CREATE INDEX orders_live ON orders (status, user_id, next_check_at)
    WHERE status IN ('PENDING_PAYMENT', 'CONFIRMING');

CREATE TEMP TABLE tickets_before_007 AS SELECT * FROM tickets;
DROP TABLE tickets;
CREATE TABLE tickets (
    id         VARCHAR(64)  PRIMARY KEY,
    order_id   VARCHAR(64)  NOT NULL REFERENCES orders (id),
    event_id   BIGINT       NOT NULL REFERENCES events (id),
    user_id    BIGINT       NOT NULL REFERENCES users (id),
    seat       VARCHAR(64)  NULL,
    zone       VARCHAR(64)  NULL,
    grade      VARCHAR(64)  NOT NULL,
    price      BIGINT       NOT NULL,
    code       VARCHAR(400) NOT NULL UNIQUE,
    status     VARCHAR(8)   NOT NULL CHECK (status = 'VALID' OR status = 'USED' OR status = 'VOID'),
    used_at    VARCHAR(32)  NULL,
    created_at VARCHAR(32)  NOT NULL
);
INSERT INTO tickets SELECT * FROM tickets_before_007;
DROP TABLE tickets_before_007;
CREATE UNIQUE INDEX tickets_live_seat ON tickets (event_id, seat) WHERE seat IS NOT NULL AND status <> 'VOID';
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX tickets_order ON tickets (order_id);
