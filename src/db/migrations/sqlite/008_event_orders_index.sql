-- An event's orders index holds the orders with a payment attempt only (confirming_at set, as
-- orders_user since 005), not every hold: a hold's INSERT then writes the orders table and
-- orders_live, and no index that keeps every hold an on-sale ever made. The manager's list of an
-- event's orders and the audit read both halves: payment attempts from here, holds awaiting
-- payment from orders_live (store::orders_of_event). A hold released or expired before any
-- payment attempt is listed in neither, as in the purchase history; it is still read by id.
DROP INDEX orders_event;
CREATE INDEX orders_event ON orders (event_id, created_at) WHERE confirming_at IS NOT NULL;
