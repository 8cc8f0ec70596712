-- Notifications (DESIGN.md §7, issue 12), as migrations/sqlite/011_notifications.sql: the outbox
-- learns a notice's audience and whether a row was materialized; (outbox_id, user_id) is unique,
-- so a replayed dispatch never makes a notification twice.
ALTER TABLE outbox
    ADD COLUMN audience_event_id BIGINT NULL,  -- a NOTICE to the event's holders
    ADD COLUMN materialized INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id         BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT        NOT NULL,
    outbox_id  BIGINT        NOT NULL,
    type       VARCHAR(40)   NOT NULL,
    title      VARCHAR(200)  NOT NULL,
    body       VARCHAR(1000) NOT NULL,
    data_json  TEXT          NOT NULL,
    created_at VARCHAR(32)   NOT NULL,
    read_at    VARCHAR(32)   NULL,
    CONSTRAINT notifications_once UNIQUE (outbox_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
-- A user's list, newest first, and the catch-up of a stream, oldest first.
CREATE INDEX notifications_by_user ON notifications (user_id, id);
-- The unread count and the unread list (InnoDB ends every secondary index with the key, `id`).
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
-- The retention sweeper: read notifications by age (SQLite's is partial: read ones only).
CREATE INDEX notifications_read_age ON notifications (created_at);

-- A notice reaches every user holding a live ticket of the event.
CREATE INDEX tickets_event_user ON tickets (event_id, user_id);
