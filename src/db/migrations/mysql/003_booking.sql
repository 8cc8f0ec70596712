-- Orders, payments, tickets and the outbox (src/booking), as migrations/sqlite/003_booking.sql.
-- Times a person reads are RFC 3339 UTC text; times the server compares are unix seconds.

-- One order per hold; its status moves only forward, each step a compare-and-set on `status`
-- (see the SQLite file for the states).
CREATE TABLE orders (
    id              VARCHAR(64)  NOT NULL PRIMARY KEY,
    hold_id         VARCHAR(64)  NOT NULL,
    event_id        BIGINT       NOT NULL,
    user_id         BIGINT       NOT NULL,
    status          VARCHAR(20)  NOT NULL,
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
    cancelled_at    VARCHAR(32)  NULL,
    CONSTRAINT orders_hold UNIQUE (hold_id),
    CONSTRAINT orders_status_known CHECK (status IN ('PENDING_PAYMENT', 'CONFIRMING', 'PAID',
        'FAILED', 'EXPIRED', 'CANCELLED', 'REFUNDED')),
    CONSTRAINT orders_event_fk FOREIGN KEY (event_id) REFERENCES events (id),
    CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_event ON orders (event_id, status);
CREATE INDEX orders_status ON orders (status, next_check_at);

CREATE TABLE payments (
    payment_key  VARCHAR(200) NOT NULL PRIMARY KEY,
    order_id     VARCHAR(64)  NOT NULL,
    amount       BIGINT       NOT NULL,
    status       VARCHAR(20)  NOT NULL,
    method       VARCHAR(64)  NULL,
    approved_at  VARCHAR(32)  NULL,
    created_at   VARCHAR(32)  NOT NULL,
    cancelled_at VARCHAR(32)  NULL,
    CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX payments_order ON payments (order_id);

-- One ticket per seat (reserved) or per admission (general, seat NULL). The unique key on
-- (event_id, live_seat) is the last guard against selling a seat twice: a second live ticket
-- for a seat cannot commit. MariaDB has no partial index, so the key covers a generated column
-- that holds the seat while the ticket is live and NULL once it is VOID (or has no seat); a
-- unique key admits any number of NULLs, as SQLite's partial index leaves those rows out.
CREATE TABLE tickets (
    id         VARCHAR(64)  NOT NULL PRIMARY KEY,
    order_id   VARCHAR(64)  NOT NULL,
    event_id   BIGINT       NOT NULL,
    user_id    BIGINT       NOT NULL,
    seat       VARCHAR(64)  NULL,
    zone       VARCHAR(64)  NULL,
    grade      VARCHAR(64)  NOT NULL,
    price      BIGINT       NOT NULL,
    code       VARCHAR(400) NOT NULL,
    status     VARCHAR(8)   NOT NULL,
    used_at    VARCHAR(32)  NULL,
    created_at VARCHAR(32)  NOT NULL,
    live_seat  VARCHAR(64)  AS (CASE WHEN status <> 'VOID' THEN seat END) PERSISTENT,
    CONSTRAINT tickets_code UNIQUE (code),
    CONSTRAINT tickets_live_seat UNIQUE (event_id, live_seat),
    CONSTRAINT tickets_status_known CHECK (status IN ('VALID', 'USED', 'VOID')),
    CONSTRAINT tickets_order_fk FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT tickets_event_fk FOREIGN KEY (event_id) REFERENCES events (id),
    CONSTRAINT tickets_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX tickets_order ON tickets (order_id);

-- Confirm requests by Idempotency-Key: the first answer is stored and replayed.
CREATE TABLE idempotency_keys (
    user_id      BIGINT       NOT NULL,
    idem_key     VARCHAR(200) NOT NULL,
    request_hash CHAR(64)     NOT NULL,
    status_code  INTEGER      NOT NULL,  -- 0 while the first request is in flight
    response     MEDIUMTEXT   NULL,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, idem_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- Every state change a user must hear about, written in the same transaction as the change.
-- AUTO_INCREMENT never hands out an id twice (InnoDB keeps its counter across restarts since
-- MariaDB 10.2.4), as SQLite's AUTOINCREMENT.
CREATE TABLE outbox (
    id            BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       BIGINT        NOT NULL,
    type          VARCHAR(40)   NOT NULL,
    title         VARCHAR(200)  NOT NULL,
    body          VARCHAR(1000) NOT NULL,
    data_json     TEXT          NOT NULL,
    created_at    VARCHAR(32)   NOT NULL,
    dispatched_at VARCHAR(32)   NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX outbox_pending ON outbox (dispatched_at, id);
