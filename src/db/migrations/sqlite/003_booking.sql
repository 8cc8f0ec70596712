-- Orders, payments, tickets and the outbox (src/booking). Times a person reads are RFC 3339 UTC
-- text; times the server compares are unix seconds (BIGINT).

-- One order per hold. Its status moves only forward, each step a compare-and-set on `status`:
--   PENDING_PAYMENT → CONFIRMING → PAID → CANCELLED
--   PENDING_PAYMENT → EXPIRED | CANCELLED (hold released) ; CONFIRMING → FAILED | REFUNDED
-- CONFIRMING is committed before the payment provider is called, so a crash can always be
-- finished by asking the provider (the reconciler).
CREATE TABLE orders (
    id              VARCHAR(64)  PRIMARY KEY,
    hold_id         VARCHAR(64)  NOT NULL UNIQUE,
    event_id        BIGINT       NOT NULL REFERENCES events (id),
    user_id         BIGINT       NOT NULL REFERENCES users (id),
    status          VARCHAR(20)  NOT NULL CHECK (status IN ('PENDING_PAYMENT', 'CONFIRMING', 'PAID',
                        'FAILED', 'EXPIRED', 'CANCELLED', 'REFUNDED')),
    seats_json      TEXT         NOT NULL,  -- ["A-1-1", ...] or [] for general admission
    zone            VARCHAR(64)  NULL,
    quantity        INTEGER      NOT NULL,
    amount          BIGINT       NOT NULL,
    currency        VARCHAR(8)   NOT NULL DEFAULT 'KRW',
    expires_at      BIGINT       NOT NULL,
    payment_key     VARCHAR(200) NULL,
    failure_code    VARCHAR(64)  NULL,
    failure_message VARCHAR(500) NULL,
    confirming_at   BIGINT       NULL,      -- when CONFIRMING began (the provider was called)
    next_check_at   BIGINT       NULL,      -- CONFIRMING: when the reconciler asks next
    created_at      VARCHAR(32)  NOT NULL,
    updated_at      VARCHAR(32)  NOT NULL,
    paid_at         VARCHAR(32)  NULL,
    cancelled_at    VARCHAR(32)  NULL
);
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_event ON orders (event_id, status);
CREATE INDEX orders_status ON orders (status, next_check_at);

CREATE TABLE payments (
    payment_key  VARCHAR(200) PRIMARY KEY,
    order_id     VARCHAR(64)  NOT NULL REFERENCES orders (id),
    amount       BIGINT       NOT NULL,
    status       VARCHAR(20)  NOT NULL,
    method       VARCHAR(64)  NULL,
    approved_at  VARCHAR(32)  NULL,
    created_at   VARCHAR(32)  NOT NULL,
    cancelled_at VARCHAR(32)  NULL
);
CREATE INDEX payments_order ON payments (order_id);

-- One ticket per seat (reserved) or per admission (general, seat NULL). The partial unique index
-- is the last guard against selling a seat twice: a second live ticket for a seat cannot commit.
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
    status     VARCHAR(8)   NOT NULL CHECK (status IN ('VALID', 'USED', 'VOID')),
    used_at    VARCHAR(32)  NULL,
    created_at VARCHAR(32)  NOT NULL
);
CREATE UNIQUE INDEX tickets_live_seat ON tickets (event_id, seat) WHERE seat IS NOT NULL AND status <> 'VOID';
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX tickets_order ON tickets (order_id);

-- Confirm requests by Idempotency-Key: the first answer is stored and replayed.
CREATE TABLE idempotency_keys (
    user_id      BIGINT       NOT NULL,
    idem_key     VARCHAR(200) NOT NULL,
    request_hash CHAR(64)     NOT NULL,
    status_code  INTEGER      NOT NULL,  -- 0 while the first request is in flight
    response     TEXT         NULL,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- Every state change a user must hear about, written in the same transaction as the change.
-- The notification dispatcher (a later issue) delivers and marks them.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT       NOT NULL,
    type          VARCHAR(40)  NOT NULL,
    title         VARCHAR(200) NOT NULL,
    body          VARCHAR(1000) NOT NULL,
    data_json     TEXT         NOT NULL,
    created_at    VARCHAR(32)  NOT NULL,
    dispatched_at VARCHAR(32)  NULL
);
CREATE INDEX outbox_pending ON outbox (dispatched_at, id);
