"""Tickets after the sale: a ticket bought end to end (event → hold → sandbox payment →
confirm), the owner's list and QR code, and one-time check-in at the gate (DESIGN.md §1
"Beyond the seed", §7 tickets and checkin rows)."""

import datetime
import unittest

import harness
from harness import API, e2e_case

PRICE = 50000


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def create_open_event(tc, srv, manager, rows=3, seats=4):
    """A small reserved-seating event of `manager`, created and opened now; returns its id."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    body = {
        "title": "Gate Test Night",
        "description": "check-in end to end",
        "venue": "Ticketon Hall",
        "category": "CONCERT",
        "startsAt": rfc3339(now + datetime.timedelta(days=30)),
        "salesOpenAt": rfc3339(now + datetime.timedelta(days=1)),
        "seating": "RESERVED",
        "grades": [{"name": "R", "price": PRICE}],
        "sections": [{"name": "A", "grade": "R",
                      "rows": [{"row": str(r), "seats": seats} for r in range(1, rows + 1)]}],
        "maxPerUser": 4,
        "holdSeconds": 300,
    }
    event = tc.assertStatus(srv.call("POST", f"{API}/events", body, token=manager.access_token),
                            201, "create event")
    opened = tc.assertStatus(srv.call("PATCH", f"{API}/events/{event['id']}",
                                      {"status": "ON_SALE"}, token=manager.access_token),
                             200, "open event")
    tc.assertEqual(opened["status"], "ON_SALE")
    return event["id"]


def buy(tc, srv, buyer, event_id, seats):
    """Holds `seats`, pays in the Toss sandbox and confirms; returns the PAID order."""
    hold = tc.assertStatus(srv.call("POST", f"{API}/events/{event_id}/holds", {"seats": seats},
                                    token=buyer.access_token), 201, f"hold {seats}")
    order_id, amount = hold["orderId"], hold["amount"]
    tc.assertEqual(amount, PRICE * len(seats))
    payment = tc.assertStatus(srv.call("POST", "/sandbox/toss/payments",
                                       {"orderId": order_id, "amount": amount}),
                              201, "sandbox payment")
    order = tc.assertStatus(srv.call("POST", f"{API}/payments/confirm",
                                     {"paymentKey": payment["paymentKey"], "orderId": order_id,
                                      "amount": amount}, token=buyer.access_token),
                            200, "confirm")
    tc.assertEqual(order["status"], "PAID")
    tc.assertEqual(len(order["tickets"]), len(seats))
    return order


class tickets_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={"TICKETON_PAYMENT_PROVIDER": "sandbox"})
        cls.manager = cls.srv.create_user("MANAGER")
        cls.other_manager = cls.srv.create_user("MANAGER")
        cls.admin = cls.srv.create_user("ADMIN")

    def setUp(self):
        # A fresh event per test keeps the seats and the per-user limit of one test from
        # touching another's.
        self.event_id = create_open_event(self, self.srv, self.manager)

    def my_tickets(self, who):
        body = self.assertStatus(self.srv.call("GET", f"{API}/tickets", token=who.access_token),
                                 200, "list tickets")
        return body["items"]

    def checkin(self, who, code):
        return self.srv.call("POST", f"{API}/checkin", {"code": code}, token=who.access_token)

    def test_bought_tickets_are_listed_with_signed_codes(self):
        buyer = self.srv.signup()
        order = buy(self, self.srv, buyer, self.event_id, ["A-1-1", "A-1-2"])
        items = self.my_tickets(buyer)
        mine = [t for t in items if t["orderId"] == order["id"]]
        self.assertEqual(sorted(t["seat"] for t in mine), ["A-1-1", "A-1-2"])
        for t in mine:
            self.assertEqual(t["eventId"], self.event_id)
            self.assertEqual(t["status"], "VALID")
            self.assertEqual(t["price"], PRICE)
            self.assertEqual(t["grade"], "R")
            self.assertIsNone(t["usedAt"])
            self.assertIsNone(t["zone"])
            self.assertIn("createdAt", t)
            self.assertTrue(t["code"].startswith(f"TKT1.{t['id']}.{self.event_id}."), t["code"])
            one = self.assertStatus(self.srv.call("GET", f"{API}/tickets/{t['id']}",
                                                  token=buyer.access_token), 200, "one ticket")
            self.assertEqual(one, t)
        # Another buyer sees none of them.
        self.assertEqual(self.my_tickets(self.srv.signup()), [])

    def test_qr_code_is_an_svg_image_for_the_owner_only(self):
        buyer = self.srv.signup()
        ticket = buy(self, self.srv, buyer, self.event_id, ["A-2-1"])["tickets"][0]
        status, headers, body = self.srv.call("GET", f"{API}/tickets/{ticket['id']}/qr.svg",
                                              token=buyer.access_token)
        self.assertEqual(status, 200, body)
        self.assertTrue((headers.get("Content-Type") or "").startswith("image/svg+xml"))
        self.assertTrue(body.startswith("<svg"), body[:80])
        self.assertIn("<path", body)
        stranger = self.srv.signup()
        self.assertProblem(self.srv.call("GET", f"{API}/tickets/{ticket['id']}/qr.svg",
                                         token=stranger.access_token), 404, "NOT_FOUND")

    def test_another_users_ticket_is_not_found(self):
        buyer = self.srv.signup()
        ticket = buy(self, self.srv, buyer, self.event_id, ["A-2-2"])["tickets"][0]
        stranger = self.srv.signup()
        self.assertProblem(self.srv.call("GET", f"{API}/tickets/{ticket['id']}",
                                         token=stranger.access_token), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", f"{API}/tickets/no-such-ticket",
                                         token=buyer.access_token), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", f"{API}/tickets"), 401, "UNAUTHORIZED")

    def test_checkin_admits_once_then_answers_already_used(self):
        buyer = self.srv.signup()
        ticket = buy(self, self.srv, buyer, self.event_id, ["A-3-1"])["tickets"][0]
        code = ticket["code"]
        first = self.assertStatus(self.checkin(self.manager, code), 200, "first scan")
        self.assertIs(first["admitted"], True)
        self.assertEqual(first["ticket"]["id"], ticket["id"])
        self.assertEqual(first["ticket"]["status"], "USED")
        used_at = first["usedAt"]
        self.assertRegex(used_at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        again = self.assertProblem(self.checkin(self.manager, code), 409, "ALREADY_USED")
        self.assertEqual(again["usedAt"], used_at)
        by_admin = self.assertProblem(self.checkin(self.admin, code), 409, "ALREADY_USED")
        self.assertEqual(by_admin["usedAt"], used_at)

        # The owner sees the ticket used, at the first scan's time.
        mine = self.assertStatus(self.srv.call("GET", f"{API}/tickets/{ticket['id']}",
                                               token=buyer.access_token), 200, "after scan")
        self.assertEqual(mine["status"], "USED")
        self.assertEqual(mine["usedAt"], used_at)

    def test_concurrent_scans_admit_exactly_once(self):
        buyer = self.srv.signup()
        code = buy(self, self.srv, buyer, self.event_id, ["A-3-2"])["tickets"][0]["code"]
        threads = [harness.in_thread(self.checkin, self.manager, code) for _ in range(10)]
        statuses = sorted(join()[0] for join in threads)
        self.assertEqual(statuses, [200] + [409] * 9)

    def test_only_the_events_manager_or_an_admin_may_check_in(self):
        buyer = self.srv.signup()
        tickets = buy(self, self.srv, buyer, self.event_id, ["A-3-3", "A-3-4"])["tickets"]
        code, other_code = tickets[0]["code"], tickets[1]["code"]
        self.assertProblem(self.checkin(buyer, code), 403, "FORBIDDEN")
        self.assertProblem(self.checkin(self.srv.signup(), code), 403, "FORBIDDEN")
        self.assertProblem(self.checkin(self.other_manager, code), 403, "FORBIDDEN")
        self.assertProblem(self.srv.call("POST", f"{API}/checkin", {"code": code}), 401,
                           "UNAUTHORIZED")
        # None of the refusals used the ticket up.
        self.assertStatus(self.checkin(self.manager, code), 200, "manager scan")
        self.assertStatus(self.checkin(self.admin, other_code), 200, "admin scan")

    def test_forged_and_malformed_codes_are_validation_errors(self):
        buyer = self.srv.signup()
        code = buy(self, self.srv, buyer, self.event_id, ["A-1-3"])["tickets"][0]["code"]
        forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
        for bad in ("", "hello", forged, code[:-1], code + ".x",
                    code.replace(f".{self.event_id}.", f".{self.event_id + 1}.")):
            self.assertProblem(self.checkin(self.manager, bad), 400, "VALIDATION_FAILED",
                               field="code", msg=repr(bad))
        self.assertProblem(self.srv.call("POST", f"{API}/checkin", {},
                                         token=self.manager.access_token),
                           400, "VALIDATION_FAILED", field="code")
        # The genuine code still admits.
        self.assertStatus(self.checkin(self.manager, code), 200, "genuine scan")


class ticket_codes_survive_restart_test(e2e_case):
    """The signing key is kept in the data dir: a code bought before a restart scans after it."""

    def test_code_bought_before_a_restart_checks_in_after_it(self):
        with harness.server(env={"TICKETON_PAYMENT_PROVIDER": "sandbox"}) as srv:
            manager = srv.create_user("MANAGER")
            event_id = create_open_event(self, srv, manager)
            buyer = srv.signup()
            ticket = buy(self, srv, buyer, event_id, ["A-1-1"])["tickets"][0]
            srv.restart()
            manager = srv.login(manager.email)
            buyer = srv.login(buyer.email)
            listed = self.assertStatus(srv.call("GET", f"{API}/tickets/{ticket['id']}",
                                                token=buyer.access_token), 200, "after restart")
            self.assertEqual(listed["code"], ticket["code"])
            self.assertStatus(srv.call("POST", f"{API}/checkin", {"code": ticket["code"]},
                                       token=manager.access_token), 200, "scan after restart")


if __name__ == "__main__":
    unittest.main()
