-- The per-user index holds the orders a user's purchase history lists (GET /orders), not every
-- hold. An on-sale's holds come from different users, so each hold's entry in a per-user index
-- lands on a leaf page of its own: that index was the costliest part of a hold's write (about a
-- WAL page per hold). Now a hold enters it only once a payment was attempted (confirming_at is
-- set when the order becomes CONFIRMING and stays set after: PAID, FAILED, REFUNDED, CANCELLED
-- after payment). A hold released or expired before any payment attempt never enters it; its
-- order is still read by id.
DROP INDEX orders_user;
CREATE INDEX orders_user ON orders (user_id, created_at) WHERE confirming_at IS NOT NULL;

-- A user's holds awaiting payment are listed from the live orders, which carry the user now:
-- this index only holds live orders (a hold enters it and leaves when its order ends), so it
-- stays small however many orders the database has. Queries must repeat its WHERE term.
DROP INDEX orders_live;
CREATE INDEX orders_live ON orders (status, user_id, next_check_at)
    WHERE status IN ('PENDING_PAYMENT', 'CONFIRMING');
