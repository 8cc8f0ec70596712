"""The booking core end to end: hold → pay at the Toss sandbox → confirm → tickets, and every
way a sale can go otherwise — declined, expired, paid late, tampered with, released, cancelled
and refunded, repeated (Idempotency-Key), over the per-user cap, before the sale, across a
restart (DESIGN.md §1, §5, §7). Each test builds its own event and users on a shared server."""

import time
import unittest

import harness
from harness import (API, reserved_layout, audit, buy, confirm, create_event, e2e_case, ga_layout, get_order,
                     hold, hold_ok, sandbox_pay, sandbox_status, seat_statuses, wait_order_status,
                     wait_until, zone_available)

PRICE = 50000


class booking_case(e2e_case):
    """A server shared by the class, with one manager; helpers that read what a user sees."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={"TICKETON_PAYMENT_PROVIDER": "sandbox"})
        cls.manager = cls.srv.create_user("MANAGER")

    def user(self):
        return self.srv.signup().access_token

    def event(self, **kwargs):
        return create_event(self.srv, self.manager.access_token, **kwargs)

    def statuses(self, event_id):
        return seat_statuses(self.srv, event_id)

    def order(self, token, order_id):
        return self.assertStatus(get_order(self.srv, token, order_id), 200, f"GET order {order_id}")

    def assertAuditClean(self, event_id):
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["violations"], [], f"audit {report!r}")
        self.assertEqual(report["sold"] + report["held"] + report["available"], report["capacity"],
                         f"audit {report!r}")
        return report

    def tickets(self, token):
        return self.assertStatus(self.srv.call("GET", f"{API}/tickets", token=token), 200,
                                 "GET /tickets")["items"]


class purchase_test(booking_case):
    def test_hold_pay_confirm_issues_tickets_and_sells_the_seats(self):
        event_id = self.event()
        buyer = self.user()
        h = self.assertStatus(hold(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"]), 201, "hold")
        for key in ("holdId", "orderId", "eventId", "amount", "currency", "expiresAt"):
            self.assertIn(key, h)
        self.assertEqual(h["seats"], ["A-1-1", "A-1-2"])
        self.assertEqual(h["amount"], 2 * PRICE)
        self.assertEqual(h["currency"], "KRW")
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-1-1"], seats["A-1-2"], seats["A-1-3"]), ("HELD", "HELD", "AVAILABLE"))
        self.assertEqual(self.order(buyer, h["orderId"])["status"], "PENDING_PAYMENT")

        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        order = self.assertStatus(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 200, "confirm")
        self.assertEqual(order["status"], "PAID")
        self.assertEqual(order["paymentKey"], key)
        self.assertEqual(sorted(t["seat"] for t in order["tickets"]), ["A-1-1", "A-1-2"])
        self.assertEqual([t["status"] for t in order["tickets"]], ["VALID", "VALID"])
        self.assertEqual(sandbox_status(self.srv, key), "DONE")

        seats = self.statuses(event_id)
        self.assertEqual((seats["A-1-1"], seats["A-1-2"]), ("SOLD", "SOLD"))
        mine = [t for t in self.tickets(buyer) if t["orderId"] == h["orderId"]]
        self.assertEqual(sorted(t["seat"] for t in mine), ["A-1-1", "A-1-2"])
        self.assertEqual(self.order(buyer, h["orderId"])["status"], "PAID")
        listed = self.assertStatus(self.srv.call("GET", f"{API}/orders", token=buyer), 200, "GET /orders")
        self.assertIn(h["orderId"], [o["id"] for o in listed["items"]])
        # Sold seats are not for sale again.
        self.assertProblem(hold(self.srv, self.user(), event_id, seats=["A-1-2"]), 409, "SEAT_UNAVAILABLE")
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], 2)

    def test_general_admission_purchase_takes_places_from_the_zone(self):
        event_id = self.event(layout=ga_layout(capacity=10, price=30000))
        buyer = self.user()
        order = buy(self.srv, buyer, event_id, zone="GA", quantity=3)
        self.assertEqual(order["amount"], 90000)
        self.assertEqual(len(order["tickets"]), 3)
        self.assertTrue(all(t["zone"] == "GA" and t["seat"] is None for t in order["tickets"]))
        self.assertEqual(zone_available(self.srv, event_id), 7)
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 3)

    def test_declined_payment_answers_402_and_frees_the_seats_at_once(self):
        event_id = self.event()
        buyer, other = self.user(), self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-2-1", "A-2-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="decline")
        body = self.assertProblem(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 402,
                                  "PAYMENT_DECLINED")
        self.assertEqual(body.get("orderId"), h["orderId"])
        # At once: no waiting for the hold to run out.
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-2-1"], seats["A-2-2"]), ("AVAILABLE", "AVAILABLE"))
        self.assertEqual(self.order(buyer, h["orderId"])["status"], "FAILED")
        self.assertEqual(self.order(buyer, h["orderId"])["tickets"], [])
        self.assertNotEqual(sandbox_status(self.srv, key), "DONE")
        # Somebody else can take the same seats right away.
        hold_ok(self.srv, other, event_id, seats=["A-2-1", "A-2-2"])
        self.assertAuditClean(event_id)

    def test_price_comes_from_the_grades_not_from_the_client(self):
        layout = {"seating": "RESERVED",
                  "grades": [{"name": "VIP", "price": 150000}, {"name": "R", "price": 50000}],
                  "sections": [{"name": "V", "grade": "VIP", "rows": [{"row": "1", "seats": 4}]},
                               {"name": "A", "grade": "R", "rows": [{"row": "1", "seats": 4}]}]}
        event_id = self.event(layout=layout)
        buyer = self.user()
        h = self.assertStatus(hold(self.srv, buyer, event_id, seats=["V-1-1", "A-1-1"],
                                   extra={"amount": 1, "price": 1, "totalAmount": 1}), 201, "hold")
        self.assertEqual(h["amount"], 200000)
        self.assertEqual(self.order(buyer, h["orderId"])["amount"], 200000)
        # Paying the client's price is refused; the grades' sum goes through.
        key = sandbox_pay(self.srv, h["orderId"], 1)
        self.assertProblem(confirm(self.srv, buyer, h["orderId"], key, 1), 400, "AMOUNT_MISMATCH")
        self.assertEqual(self.order(buyer, h["orderId"])["status"], "PENDING_PAYMENT")
        self.assertEqual(sandbox_status(self.srv, key), "READY")
        order = buy(self.srv, buyer, event_id, seats=["V-1-2"], extra={"price": 10})
        self.assertEqual(order["amount"], 150000)
        self.assertEqual([t["price"] for t in order["tickets"]], [150000])


    def test_a_row_of_another_grade_sells_at_its_grades_price(self):
        # Section A is R; its front row sells as VIP (a row's own grade, docs/api.md).
        layout = {"seating": "RESERVED",
                  "grades": [{"name": "VIP", "price": 150000}, {"name": "R", "price": 50000}],
                  "sections": [{"name": "A", "grade": "R",
                                "rows": [{"row": "1", "seats": 4, "grade": "VIP"},
                                         {"row": "2", "seats": 4}]}]}
        event_id = self.event(layout=layout)
        seat_map = self.assertStatus(self.srv.call("GET", f"events/{event_id}/seats"), 200)
        rows = seat_map["sections"][0]["rows"]
        self.assertEqual((rows[0]["grade"], rows[0]["price"]), ("VIP", 150000))
        self.assertNotIn("grade", rows[1])
        order = buy(self.srv, self.user(), event_id, seats=["A-1-1", "A-2-1"])
        self.assertEqual(order["amount"], 200000)
        self.assertEqual(sorted((t["seat"], t["grade"], t["price"]) for t in order["tickets"]),
                         [("A-1-1", "VIP", 150000), ("A-2-1", "R", 50000)])
        event = self.assertStatus(self.srv.call("GET", f"events/{event_id}"), 200)
        self.assertEqual((event["minPrice"], event["maxPrice"]), (50000, 150000))
        # A row's grade must be one of the event's.
        layout["sections"][0]["rows"][1]["grade"] = "S"
        self.assertProblem(self.srv.call("POST", "events", dict(
            layout, title="Bad row grade", venue="Hall", category="CONCERT",
            startsAt="2030-01-01T19:00:00Z", salesOpenAt="2029-12-01T09:00:00Z"),
            token=self.manager.access_token), 400, "VALIDATION_FAILED", field="sections[0].rows[1].grade")


class expiry_test(booking_case):
    def test_an_unpaid_hold_expires_by_itself(self):
        event_id = self.event(hold_seconds=1)
        buyer = self.user()
        # expiresAt has whole seconds, so a 1 s hold may already be gone by the next request:
        # only its end is asserted.
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-1"])
        freed = wait_until(lambda: self.statuses(event_id)["A-1-1"] == "AVAILABLE", 5.0, 0.1)
        self.assertTrue(freed, "the seat of an expired hold is still not AVAILABLE after 5 s")
        order = wait_order_status(self.srv, buyer, h["orderId"], "EXPIRED", 3.0)
        self.assertEqual(order["status"], "EXPIRED")
        hold_ok(self.srv, self.user(), event_id, seats=["A-1-1"])
        self.assertAuditClean(event_id)

    def test_a_late_payment_for_seats_still_free_takes_them_again(self):
        event_id = self.event(hold_seconds=1)
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-2", "A-1-3"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        self.assertTrue(wait_until(lambda: self.order(buyer, h["orderId"])["status"] == "EXPIRED", 5.0, 0.1),
                        "the hold did not expire")
        order = self.assertStatus(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 200, "late confirm")
        self.assertEqual(order["status"], "PAID")
        self.assertEqual(sorted(t["seat"] for t in order["tickets"]), ["A-1-2", "A-1-3"])
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-1-2"], seats["A-1-3"]), ("SOLD", "SOLD"))
        self.assertEqual(sandbox_status(self.srv, key), "DONE")
        self.assertAuditClean(event_id)

    def test_a_late_payment_for_seats_taken_meanwhile_is_refused_and_nothing_is_captured(self):
        event_id = self.event(hold_seconds=1)
        late, quick = self.user(), self.user()
        h = hold_ok(self.srv, late, event_id, seats=["A-2-3", "A-2-4"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        self.assertTrue(wait_until(lambda: self.statuses(event_id)["A-2-4"] == "AVAILABLE", 5.0, 0.1),
                        "the hold did not expire")
        hold_ok(self.srv, quick, event_id, seats=["A-2-4"])
        self.assertProblem(confirm(self.srv, late, h["orderId"], key, h["amount"]), 409, "HOLD_EXPIRED")
        # Toss was never asked to capture: no money moved.
        self.assertNotEqual(sandbox_status(self.srv, key), "DONE")
        order = self.order(late, h["orderId"])
        self.assertEqual(order["status"], "EXPIRED")
        self.assertEqual(order["tickets"], [])
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-2-3"], seats["A-2-4"]), ("AVAILABLE", "HELD"))
        self.assertAuditClean(event_id)


class tampering_test(booking_case):
    def test_confirm_with_another_amount_is_refused_and_nothing_is_paid(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-1"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        self.assertProblem(confirm(self.srv, buyer, h["orderId"], key, h["amount"] - 1000), 400,
                           "AMOUNT_MISMATCH")
        self.assertEqual(sandbox_status(self.srv, key), "READY")
        order = self.order(buyer, h["orderId"])
        self.assertEqual(order["status"], "PENDING_PAYMENT")
        self.assertEqual(order["tickets"], [])
        self.assertEqual(self.statuses(event_id)["A-1-1"], "HELD")
        # The honest confirm still works afterwards.
        paid = self.assertStatus(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 200, "confirm")
        self.assertEqual(paid["status"], "PAID")

    def test_a_payment_made_for_less_than_the_order_is_declined(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"] - 40000)
        body = self.assertProblem(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 402,
                                  "PAYMENT_DECLINED")
        self.assertEqual(body.get("orderId"), h["orderId"])
        self.assertNotEqual(sandbox_status(self.srv, key), "DONE")
        order = self.order(buyer, h["orderId"])
        self.assertEqual(order["status"], "FAILED")
        self.assertEqual(order["tickets"], [])
        self.assertEqual([t for t in self.tickets(buyer) if t["orderId"] == h["orderId"]], [])
        self.assertEqual(self.statuses(event_id)["A-1-2"], "AVAILABLE")
        self.assertAuditClean(event_id)


class ownership_test(booking_case):
    def test_another_users_order_hold_and_ticket_are_not_found(self):
        event_id = self.event()
        owner, stranger = self.user(), self.user()
        paid = buy(self.srv, owner, event_id, seats=["A-1-1"])
        h = hold_ok(self.srv, owner, event_id, seats=["A-1-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])

        self.assertProblem(get_order(self.srv, stranger, h["orderId"]), 404, "NOT_FOUND")
        self.assertProblem(get_order(self.srv, stranger, paid["id"]), 404, "NOT_FOUND")
        self.assertProblem(confirm(self.srv, stranger, h["orderId"], key, h["amount"]), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("POST", f"{API}/orders/{paid['id']}/cancel", {"reason": "mine now"},
                                         token=stranger), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("DELETE", f"{API}/holds/{h['holdId']}", token=stranger), 404,
                           "NOT_FOUND")
        ticket_id = paid["tickets"][0]["id"]
        self.assertProblem(self.srv.call("GET", f"{API}/tickets/{ticket_id}", token=stranger), 404, "NOT_FOUND")
        listed = self.assertStatus(self.srv.call("GET", f"{API}/orders", token=stranger), 200, "GET /orders")
        self.assertEqual(listed["items"], [])

        # Nothing the stranger tried had any effect.
        self.assertEqual(self.order(owner, paid["id"])["status"], "PAID")
        self.assertEqual(self.order(owner, h["orderId"])["status"], "PENDING_PAYMENT")
        self.assertEqual(sandbox_status(self.srv, key), "READY")
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "DONE")
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-1-1"], seats["A-1-2"]), ("SOLD", "HELD"))

    def test_releasing_a_hold_puts_its_seats_back(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-2-1", "A-2-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        listed = self.assertStatus(self.srv.call("GET", f"{API}/orders", token=buyer), 200, "GET /orders")
        self.assertEqual([(o["id"], o["status"]) for o in listed["items"]], [(h["orderId"], "PENDING_PAYMENT")])
        self.assertStatus(self.srv.call("DELETE", f"{API}/holds/{h['holdId']}", token=buyer), 204, "release")
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-2-1"], seats["A-2-2"]), ("AVAILABLE", "AVAILABLE"))
        self.assertEqual(self.order(buyer, h["orderId"])["status"], "CANCELLED")
        # The purchase history lists payment attempts and holds awaiting payment, not this one.
        listed = self.assertStatus(self.srv.call("GET", f"{API}/orders", token=buyer), 200, "GET /orders")
        self.assertEqual(listed["items"], [])
        # A released hold cannot be paid any more; a second release finds nothing to release.
        got = confirm(self.srv, buyer, h["orderId"], key, h["amount"])
        self.assertIn(got[0], (404, 409), f"confirm after release -> {got[0]} {got[2]!r}")
        self.assertNotEqual(sandbox_status(self.srv, key), "DONE")
        second = self.srv.call("DELETE", f"{API}/holds/{h['holdId']}", token=buyer)
        self.assertIn(second[0], (404, 409), f"second release -> {second[0]} {second[2]!r}")
        hold_ok(self.srv, self.user(), event_id, seats=["A-2-1", "A-2-2"])
        self.assertAuditClean(event_id)


class cancel_test(booking_case):
    def test_cancel_refunds_voids_tickets_and_puts_the_seat_back_on_sale(self):
        event_id = self.event()
        buyer = self.user()
        paid = buy(self.srv, buyer, event_id, seats=["A-1-3", "A-1-4"])
        cancelled = self.assertStatus(self.srv.call("POST", f"{API}/orders/{paid['id']}/cancel",
                                                    {"reason": "cannot come"}, token=buyer), 200, "cancel")
        self.assertEqual(cancelled["status"], "CANCELLED")
        self.assertEqual(sorted(t["status"] for t in cancelled["tickets"]), ["VOID", "VOID"])
        self.assertEqual(self.order(buyer, paid["id"])["status"], "CANCELLED")
        for t in paid["tickets"]:
            ticket = self.assertStatus(self.srv.call("GET", f"{API}/tickets/{t['id']}", token=buyer), 200,
                                       "GET ticket")
            self.assertEqual(ticket["status"], "VOID")
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "CANCELED")
        seats = self.statuses(event_id)
        self.assertEqual((seats["A-1-3"], seats["A-1-4"]), ("AVAILABLE", "AVAILABLE"))
        # A cancelled order cannot be paid again, and a void ticket does not get in.
        self.assertEqual(confirm(self.srv, buyer, paid["id"], paid["paymentKey"], paid["amount"])[0], 409)
        again = buy(self.srv, self.user(), event_id, seats=["A-1-3", "A-1-4"])
        self.assertEqual(again["status"], "PAID")
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], 2)

    def test_cancelling_a_general_admission_order_returns_its_places(self):
        event_id = self.event(layout=ga_layout(capacity=5))
        buyer = self.user()
        paid = buy(self.srv, buyer, event_id, zone="GA", quantity=2)
        self.assertEqual(zone_available(self.srv, event_id), 3)
        cancelled = self.assertStatus(self.srv.call("POST", f"{API}/orders/{paid['id']}/cancel",
                                                    {"reason": "refund"}, token=buyer), 200, "cancel")
        self.assertEqual(cancelled["status"], "CANCELLED")
        self.assertEqual(zone_available(self.srv, event_id), 5)
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "CANCELED")
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 0)

    def test_only_the_owner_or_the_events_manager_may_cancel(self):
        event_id = self.event()
        buyer, other_user = self.user(), self.user()
        other_manager = self.srv.create_user("MANAGER").access_token
        paid = buy(self.srv, buyer, event_id, seats=["A-2-1"])
        path = f"{API}/orders/{paid['id']}/cancel"
        self.assertProblem(self.srv.call("POST", path, {"reason": "x"}, token=other_user), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("POST", path, {"reason": "x"}, token=other_manager), 404, "NOT_FOUND")
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "DONE")
        self.assertEqual(self.order(buyer, paid["id"])["status"], "PAID")
        by_manager = self.assertStatus(self.srv.call("POST", path, {"reason": "event moved"},
                                                     token=self.manager.access_token), 200, "manager cancel")
        self.assertEqual(by_manager["status"], "CANCELLED")
        self.assertEqual(self.order(buyer, paid["id"])["status"], "CANCELLED")
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "CANCELED")
        self.assertEqual(self.statuses(event_id)["A-2-1"], "AVAILABLE")
        self.assertAuditClean(event_id)


class idempotency_test(booking_case):
    def test_the_same_key_and_body_replays_the_first_answer(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-1"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        idem = {"Idempotency-Key": f"confirm-{h['orderId']}"}
        first = confirm(self.srv, buyer, h["orderId"], key, h["amount"], headers=idem)
        body1 = self.assertStatus(first, 200, "first confirm")
        self.assertEqual(body1["status"], "PAID")
        self.assertIsNone(first[1].get("Idempotent-Replayed"))
        second = confirm(self.srv, buyer, h["orderId"], key, h["amount"], headers=idem)
        body2 = self.assertStatus(second, 200, "replayed confirm")
        self.assertEqual(second[1].get("Idempotent-Replayed"), "true")
        self.assertEqual(body2, body1)
        self.assertEqual(len([t for t in self.tickets(buyer) if t["orderId"] == h["orderId"]]), 1)

    def test_a_replayed_failure_is_the_same_failure(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="decline")
        idem = {"Idempotency-Key": f"decline-{h['orderId']}"}
        first = self.assertProblem(confirm(self.srv, buyer, h["orderId"], key, h["amount"], headers=idem),
                                   402, "PAYMENT_DECLINED")
        second = confirm(self.srv, buyer, h["orderId"], key, h["amount"], headers=idem)
        again = self.assertProblem(second, 402, "PAYMENT_DECLINED")
        self.assertEqual(second[1].get("Idempotent-Replayed"), "true")
        self.assertEqual(again, first)

    def test_the_same_key_with_another_body_is_a_conflict(self):
        event_id = self.event()
        buyer = self.user()
        a = hold_ok(self.srv, buyer, event_id, seats=["A-2-1"])
        b = hold_ok(self.srv, buyer, event_id, seats=["A-2-2"])
        key_a = sandbox_pay(self.srv, a["orderId"], a["amount"])
        key_b = sandbox_pay(self.srv, b["orderId"], b["amount"])
        idem = {"Idempotency-Key": "one-key-two-bodies"}
        self.assertStatus(confirm(self.srv, buyer, a["orderId"], key_a, a["amount"], headers=idem), 200, "first")
        self.assertProblem(confirm(self.srv, buyer, b["orderId"], key_b, b["amount"], headers=idem), 409,
                           "CONFLICT")
        self.assertEqual(self.order(buyer, b["orderId"])["status"], "PENDING_PAYMENT")
        self.assertEqual(sandbox_status(self.srv, key_b), "READY")
        # Without the reused key the second order pays normally.
        self.assertStatus(confirm(self.srv, buyer, b["orderId"], key_b, b["amount"]), 200, "second order")


class limits_test(booking_case):
    def test_at_most_four_seats_or_places_per_hold(self):
        event_id = self.event()
        buyer = self.user()
        self.assertProblem(hold(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2", "A-1-3", "A-1-4", "A-2-1"]),
                           422, "HOLD_LIMIT_EXCEEDED")
        self.assertTrue(all(s == "AVAILABLE" for s in self.statuses(event_id).values()))
        ga = self.event(layout=ga_layout(capacity=20))
        self.assertProblem(hold(self.srv, buyer, ga, zone="GA", quantity=5), 422, "HOLD_LIMIT_EXCEEDED")
        self.assertEqual(zone_available(self.srv, ga), 20)
        hold_ok(self.srv, buyer, ga, zone="GA", quantity=4)

    def test_held_plus_bought_is_capped_per_user(self):
        event_id = self.event()
        buyer = self.user()
        buy(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
        hold_ok(self.srv, buyer, event_id, seats=["A-1-3", "A-1-4"])
        self.assertProblem(hold(self.srv, buyer, event_id, seats=["A-2-1"]), 422, "HOLD_LIMIT_EXCEEDED")
        self.assertEqual(self.statuses(event_id)["A-2-1"], "AVAILABLE")
        # Somebody else is not affected by this user's count.
        hold_ok(self.srv, self.user(), event_id, seats=["A-2-1"])

    def test_the_per_user_cap_covers_general_admission(self):
        event_id = self.event(layout=ga_layout(capacity=50))
        buyer = self.user()
        buy(self.srv, buyer, event_id, zone="GA", quantity=2)
        hold_ok(self.srv, buyer, event_id, zone="GA", quantity=2)
        self.assertProblem(hold(self.srv, buyer, event_id, zone="GA", quantity=1), 422, "HOLD_LIMIT_EXCEEDED")
        self.assertEqual(zone_available(self.srv, event_id), 46)
        self.assertAuditClean(event_id)

    def test_a_released_or_declined_hold_no_longer_counts(self):
        event_id = self.event()
        buyer = self.user()
        first = hold_ok(self.srv, buyer, event_id, seats=["A-2-1", "A-2-2", "A-2-3", "A-2-4"])
        self.assertProblem(hold(self.srv, buyer, event_id, seats=["A-1-1"]), 422, "HOLD_LIMIT_EXCEEDED")
        self.assertStatus(self.srv.call("DELETE", f"{API}/holds/{first['holdId']}", token=buyer), 204, "release")
        second = hold_ok(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2", "A-1-3", "A-1-4"])
        key = sandbox_pay(self.srv, second["orderId"], second["amount"], outcome="decline")
        self.assertProblem(confirm(self.srv, buyer, second["orderId"], key, second["amount"]), 402,
                           "PAYMENT_DECLINED")
        hold_ok(self.srv, buyer, event_id, seats=["A-2-1", "A-2-2", "A-2-3", "A-2-4"])

    def test_holds_need_the_sale_to_be_open(self):
        scheduled = self.event(status="SCHEDULED")
        buyer = self.user()
        self.assertProblem(hold(self.srv, buyer, scheduled, seats=["A-1-1"]), 409, "SALES_NOT_OPEN")
        self.assertEqual(self.statuses(scheduled)["A-1-1"], "AVAILABLE")
        ga = self.event(layout=ga_layout(capacity=5), status="SCHEDULED")
        self.assertProblem(hold(self.srv, buyer, ga, zone="GA", quantity=1), 409, "SALES_NOT_OPEN")


class sold_out_test(booking_case):
    def event_status(self, event_id):
        status, _, body = self.srv.call("GET", f"{API}/events/{event_id}")
        self.assertEqual(status, 200, body)
        return body["status"]

    def test_selling_the_last_seat_makes_the_event_sold_out_and_a_refund_reopens_it(self):
        event_id = self.event(layout=reserved_layout(rows=1, seats=2))
        buyer = self.user()
        order = buy(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
        self.assertEqual(self.event_status(event_id), "SOLD_OUT")
        self.assertProblem(harness.hold(self.srv, self.user(), event_id, seats=["A-1-1"]), 409, "SOLD_OUT")
        status, _, body = self.srv.call("POST", f"{API}/orders/{order['id']}/cancel", {"reason": "ill"},
                                        token=buyer)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.event_status(event_id), "ON_SALE")
        harness.hold_ok(self.srv, self.user(), event_id, seats=["A-1-2"])
        self.assertAuditClean(event_id)


class stats_test(booking_case):
    """GET /manager/events/{id}/stats: the dashboard's figures, counted without reading every
    order; they agree with the order list's totals and the audit."""

    def test_the_figures_follow_each_kind_of_order(self):
        event_id = self.event()  # 2 rows of 4 at PRICE
        path = f"manager/events/{event_id}/stats"
        token = self.manager.access_token
        empty = self.assertStatus(self.srv.call("GET", path, token=token), 200)
        self.assertEqual((empty["capacity"], empty["available"], empty["sold"], empty["revenue"]),
                         (8, 8, 0, 0))
        buyer = self.user()
        buy(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
        refunded = buy(self.srv, self.user(), event_id, seats=["A-1-3"])
        self.assertStatus(self.srv.call("POST", f"{API}/orders/{refunded['id']}/cancel",
                                        {"reason": "cannot come"}, token=token), 200, "refund")
        hold_ok(self.srv, self.user(), event_id, seats=["A-2-1"])  # awaiting payment
        declined = hold_ok(self.srv, buyer, event_id, seats=["A-2-2"])
        key = sandbox_pay(self.srv, declined["orderId"], declined["amount"], outcome="decline")
        self.assertProblem(confirm(self.srv, buyer, declined["orderId"], key, declined["amount"]),
                           402, "PAYMENT_DECLINED")
        stats = self.assertStatus(self.srv.call("GET", path, token=token), 200)
        self.assertEqual(stats, {"eventId": event_id, "capacity": 8, "available": 5, "held": 1,
                                 "sold": 2, "paidOrders": 1, "ticketsSold": 2,
                                 "revenue": 2 * PRICE, "currency": "KRW", "awaitingPayment": 1,
                                 "failed": 1, "refunding": 0, "refunded": 1, "refundFailed": 0})
        totals = self.assertStatus(self.srv.call("GET", f"manager/events/{event_id}/orders",
                                                 token=token), 200)["totals"]
        for key in ("paidOrders", "ticketsSold", "revenue", "refunding", "refunded",
                    "refundFailed"):
            self.assertEqual(stats[key], totals[key], key)
        report = self.assertAuditClean(event_id)
        self.assertEqual((report["sold"], report["held"]), (stats["sold"], stats["held"]))

    def test_only_the_events_manager_or_an_admin_reads_them(self):
        event_id = self.event()
        self.assertProblem(self.srv.call("GET", f"manager/events/{event_id}/stats",
                                         token=self.user()), 403, "FORBIDDEN")
        # Another manager's event is not theirs to see, as its orders and audit are not.
        other_manager = self.srv.create_user("MANAGER")
        self.assertProblem(self.srv.call("GET", f"manager/events/{event_id}/stats",
                                         token=other_manager.access_token), 404, "NOT_FOUND")
        admin = self.srv.create_user("ADMIN")
        self.assertStatus(self.srv.call("GET", f"manager/events/{event_id}/stats",
                                        token=admin.access_token), 200)
        self.assertProblem(self.srv.call("GET", "manager/events/999999/stats",
                                         token=admin.access_token), 404, "NOT_FOUND")


class restart_test(e2e_case):
    """Sold seats stay sold and a pending hold stays held across a restart (same data dir)."""

    def test_sold_and_held_seats_survive_a_restart(self):
        with harness.server(env={"TICKETON_PAYMENT_PROVIDER": "sandbox"}) as srv:
            manager = srv.create_user("MANAGER").access_token
            buyer, holder, other = (srv.signup().access_token for _ in range(3))
            event_id = create_event(srv, manager, hold_seconds=300)
            ga = create_event(srv, manager, layout=ga_layout(capacity=6))
            paid = buy(srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
            pending = hold_ok(srv, holder, event_id, seats=["A-2-1"])
            buy(srv, buyer, ga, zone="GA", quantity=2)
            ga_pending = hold_ok(srv, holder, ga, zone="GA", quantity=1)

            srv.restart()

            seats = seat_statuses(srv, event_id)
            self.assertEqual((seats["A-1-1"], seats["A-1-2"], seats["A-2-1"], seats["A-2-2"]),
                             ("SOLD", "SOLD", "HELD", "AVAILABLE"))
            self.assertEqual(zone_available(srv, ga), 3)
            self.assertProblem(hold(srv, other, event_id, seats=["A-1-1"]), 409, "SEAT_UNAVAILABLE")
            self.assertProblem(hold(srv, other, event_id, seats=["A-2-1"]), 409, "SEAT_UNAVAILABLE")
            self.assertEqual(get_order(srv, buyer, paid["id"])[2]["status"], "PAID")
            self.assertEqual(get_order(srv, holder, pending["orderId"])[2]["status"], "PENDING_PAYMENT")
            # The pending hold can still be paid after the restart.
            key = sandbox_pay(srv, pending["orderId"], pending["amount"])
            order = self.assertStatus(confirm(srv, holder, pending["orderId"], key, pending["amount"]), 200,
                                      "confirm after restart")
            self.assertEqual(order["status"], "PAID")
            self.assertEqual(seat_statuses(srv, event_id)["A-2-1"], "SOLD")
            # The per-user count survived too: 2 bought + 1 held GA, so 2 more is one too many.
            self.assertProblem(hold(srv, holder, ga, zone="GA", quantity=4), 422, "HOLD_LIMIT_EXCEEDED")
            self.assertEqual(get_order(srv, holder, ga_pending["orderId"])[2]["status"], "PENDING_PAYMENT")
            for eid in (event_id, ga):
                report = audit(srv, manager, eid)
                self.assertEqual(report["violations"], [], f"audit {report!r}")
                self.assertEqual(report["sold"] + report["held"] + report["available"], report["capacity"])


if __name__ == "__main__":
    unittest.main()
