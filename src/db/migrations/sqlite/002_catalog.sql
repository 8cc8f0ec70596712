-- Events (src/catalog). Times are RFC 3339 UTC text with whole seconds ("2027-01-15T19:00:00Z"),
-- which sort and compare correctly as text, so range filters need no conversion. The layout
-- (grades, sections or zones, waiting room) is one JSON document: it is read and written as a
-- whole, and the columns a listing filters on (prices, capacity) are stored beside it. Indexed
-- text columns are VARCHAR with a length so the same statements suit MySQL.

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    manager_id     BIGINT        NOT NULL REFERENCES users (id),
    title          VARCHAR(800)  NOT NULL,
    description    TEXT          NOT NULL,
    venue          VARCHAR(800)  NOT NULL,
    location       VARCHAR(800)  NOT NULL DEFAULT '',
    thumbnail_url  VARCHAR(2048) NOT NULL DEFAULT '',
    category       VARCHAR(16)   NOT NULL DEFAULT 'ETC'
        CHECK (category IN ('CONCERT', 'MUSICAL', 'EXHIBITION', 'SPORTS', 'FAN_MEETING', 'ETC')),
    age_limit      INTEGER       NOT NULL DEFAULT 0,
    starts_at      VARCHAR(32)   NOT NULL,
    sales_open_at  VARCHAR(32)   NOT NULL,
    sales_close_at VARCHAR(32)   NULL,
    seating        VARCHAR(16)   NOT NULL CHECK (seating IN ('RESERVED', 'GENERAL')),
    status         VARCHAR(16)   NOT NULL DEFAULT 'DRAFT'
        CHECK (status IN ('DRAFT', 'SCHEDULED', 'ON_SALE', 'SOLD_OUT', 'CLOSED', 'CANCELLED')),
    max_per_user   INTEGER       NOT NULL DEFAULT 4,
    hold_seconds   INTEGER       NOT NULL DEFAULT 300,
    min_price      BIGINT        NOT NULL DEFAULT 0,
    max_price      BIGINT        NOT NULL DEFAULT 0,
    capacity       BIGINT        NOT NULL DEFAULT 0,
    layout_json    TEXT          NOT NULL,
    -- Bumped by every update; writers update only the revision they read (optimistic locking).
    revision       BIGINT        NOT NULL DEFAULT 1,
    created_at     VARCHAR(32)   NOT NULL,
    updated_at     VARCHAR(32)   NOT NULL
);

CREATE INDEX events_status_starts ON events (status, starts_at);
CREATE INDEX events_starts ON events (starts_at);
CREATE INDEX events_manager ON events (manager_id);
