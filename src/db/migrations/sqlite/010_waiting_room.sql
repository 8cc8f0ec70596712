-- The waiting room's journal (DESIGN.md §6, issue 11) for the embedded deployment, whose rooms
-- live in memory: after a restart everyone who had joined keeps their seq and the head does
-- not move back. One row per room (its head and the last seq it issued) and one per person in
-- it (seq 0: the pre-queue; admitted_until set once admitted, unix milliseconds). A member's
-- row is written when they join, rewritten when the pre-queue is drawn or they are admitted,
-- and deleted when they leave the room.
CREATE TABLE queue_rooms (
    event_id  BIGINT  PRIMARY KEY REFERENCES events (id),
    opened    INTEGER NOT NULL DEFAULT 0,
    head      BIGINT  NOT NULL DEFAULT 0,
    last_seq  BIGINT  NOT NULL DEFAULT 0
);
CREATE TABLE queue_members (
    event_id        BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    seq             BIGINT NOT NULL DEFAULT 0,
    admitted_until  BIGINT NULL,
    PRIMARY KEY (event_id, user_id)
);
