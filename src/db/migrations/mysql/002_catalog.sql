-- Events (src/catalog), as migrations/sqlite/002_catalog.sql. Times are RFC 3339 UTC text with
-- whole seconds, which sort and compare correctly as text. The layout is one JSON document
-- (MEDIUMTEXT: a stadium's layout may pass TEXT's 64 KiB). The columns the listing searches
-- with LIKE are case-insensitive, as SQLite's LIKE is for ASCII.

CREATE TABLE events (
    id             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    manager_id     BIGINT        NOT NULL,
    title          VARCHAR(800)  COLLATE utf8mb4_unicode_nopad_ci NOT NULL,
    description    TEXT          COLLATE utf8mb4_unicode_nopad_ci NOT NULL,
    venue          VARCHAR(800)  COLLATE utf8mb4_unicode_nopad_ci NOT NULL,
    location       VARCHAR(800)  COLLATE utf8mb4_unicode_nopad_ci NOT NULL DEFAULT '',
    thumbnail_url  VARCHAR(2048) NOT NULL DEFAULT '',
    category       VARCHAR(16)   NOT NULL DEFAULT 'ETC',
    age_limit      INTEGER       NOT NULL DEFAULT 0,
    starts_at      VARCHAR(32)   NOT NULL,
    sales_open_at  VARCHAR(32)   NOT NULL,
    sales_close_at VARCHAR(32)   NULL,
    seating        VARCHAR(16)   NOT NULL,
    status         VARCHAR(16)   NOT NULL DEFAULT 'DRAFT',
    max_per_user   INTEGER       NOT NULL DEFAULT 4,
    hold_seconds   INTEGER       NOT NULL DEFAULT 300,
    min_price      BIGINT        NOT NULL DEFAULT 0,
    max_price      BIGINT        NOT NULL DEFAULT 0,
    capacity       BIGINT        NOT NULL DEFAULT 0,
    layout_json    MEDIUMTEXT    NOT NULL,
    -- Bumped by every update; writers update only the revision they read (optimistic locking).
    revision       BIGINT        NOT NULL DEFAULT 1,
    created_at     VARCHAR(32)   NOT NULL,
    updated_at     VARCHAR(32)   NOT NULL,
    CONSTRAINT events_category_known
        CHECK (category IN ('CONCERT', 'MUSICAL', 'EXHIBITION', 'SPORTS', 'FAN_MEETING', 'ETC')),
    CONSTRAINT events_seating_known CHECK (seating IN ('RESERVED', 'GENERAL')),
    CONSTRAINT events_status_known
        CHECK (status IN ('DRAFT', 'SCHEDULED', 'ON_SALE', 'SOLD_OUT', 'CLOSED', 'CANCELLED')),
    CONSTRAINT events_manager_fk FOREIGN KEY (manager_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE INDEX events_status_starts ON events (status, starts_at);
CREATE INDEX events_starts ON events (starts_at);
CREATE INDEX events_manager ON events (manager_id);
