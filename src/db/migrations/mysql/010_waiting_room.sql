-- The waiting room's journal (DESIGN.md §6, issue 11), as migrations/sqlite/010_waiting_room.sql:
-- one row per room (its head and the last seq it issued) and one per person in it (seq 0: the
-- pre-queue; admitted_until set once admitted, unix milliseconds).
CREATE TABLE queue_rooms (
    event_id  BIGINT  NOT NULL PRIMARY KEY,
    opened    INTEGER NOT NULL DEFAULT 0,
    head      BIGINT  NOT NULL DEFAULT 0,
    last_seq  BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT queue_rooms_event_fk FOREIGN KEY (event_id) REFERENCES events (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE TABLE queue_members (
    event_id        BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    seq             BIGINT NOT NULL DEFAULT 0,
    admitted_until  BIGINT NULL,
    PRIMARY KEY (event_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
