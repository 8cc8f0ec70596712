-- Notifications (DESIGN.md §7, issue 12): what each user has been told. The sale writes an
-- `outbox` row in the same transaction as each change a user must hear about; the dispatcher
-- turns every outbox row into notifications (one, or one per ticket holder of an event for a
-- manager's notice) in one transaction that also marks the row `materialized`, publishes them,
-- and only then sets `dispatched_at`. A crash between the two replays the publishing, never the
-- making: (outbox_id, user_id) is unique, and a materialized row is never materialized again.
ALTER TABLE outbox ADD COLUMN audience_event_id BIGINT NULL;  -- a NOTICE to the event's holders
ALTER TABLE outbox ADD COLUMN materialized INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT        NOT NULL,
    outbox_id  BIGINT        NOT NULL,
    type       VARCHAR(40)   NOT NULL,
    title      VARCHAR(200)  NOT NULL,
    body       VARCHAR(1000) NOT NULL,
    data_json  TEXT          NOT NULL,
    created_at VARCHAR(32)   NOT NULL,
    read_at    VARCHAR(32)   NULL
);
CREATE UNIQUE INDEX notifications_once ON notifications (outbox_id, user_id);
-- A user's list, newest first, and the catch-up of a stream, oldest first.
CREATE INDEX notifications_by_user ON notifications (user_id, id);
-- The unread count and the unread list (the rowid, `id`, ends every index).
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
-- The retention sweeper: read notifications by age.
CREATE INDEX notifications_read_age ON notifications (created_at) WHERE read_at IS NOT NULL;

-- A notice reaches every user holding a live ticket of the event.
CREATE INDEX tickets_event_user ON tickets (event_id, user_id);
