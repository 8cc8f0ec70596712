"""Races on the booking core: many users (each on their own connection) going for the same
seats, the same zone, one user around the per-user cap, payments settling while others hold and
release — then the invariants of DESIGN.md §5 through the manager's audit. The last class
proves, one by one, that the defects of the Spring Boot original (DESIGN.md §1) are gone."""

import threading
import time
import unittest
from collections import Counter

import harness
from harness import (API, audit, buy, confirm, create_event, e2e_case, ga_layout, get_order, hold,
                     hold_ok, reserved_layout, sandbox_pay, sandbox_status, seat_statuses,
                     wait_until, zone_available)

JOIN_TIMEOUT_S = 30.0


def race(n, fn):
    """Runs fn(i, conn) in n threads that start together, each with its own keep-alive
    connection; returns the n results in index order (an exception is re-raised)."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def run(i, conn):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_S)
            results[i] = fn(i, conn)
        except BaseException as e:  # handed to the caller below
            errors.append(e)

    conns = [None] * n
    threads = []
    try:
        for i in range(n):
            conns[i] = harness.client(race.port)
            threads.append(threading.Thread(target=run, args=(i, conns[i]), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_TIMEOUT_S)
            if t.is_alive():
                raise AssertionError("a racing request did not finish")
    finally:
        for c in conns:
            if c is not None:
                c.close()
    if errors:
        raise errors[0]
    return results


def hold_on(conn, token, event_id, **body):
    return conn.call("POST", f"{API}/events/{event_id}/holds", body, token=token)


class races_case(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={"TICKETON_PAYMENT_PROVIDER": "sandbox"})
        cls.manager = cls.srv.create_user("MANAGER")

    def setUp(self):
        race.port = self.srv.port

    def users(self, n):
        return [self.srv.signup().access_token for _ in range(n)]

    def event(self, **kwargs):
        return create_event(self.srv, self.manager.access_token, **kwargs)

    def assertAuditClean(self, event_id):
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["violations"], [], f"audit {report!r}")
        self.assertEqual(report["sold"] + report["held"] + report["available"], report["capacity"],
                         f"audit {report!r}")
        return report

    def assertProblemCode(self, response, status, code, msg=""):
        got, _, body = response
        self.assertEqual((got, body.get("code") if isinstance(body, dict) else body), (status, code),
                         f"{msg} -> {got} {body!r}")


class hold_races_test(races_case):
    def test_thirty_users_race_for_the_same_two_seats_and_one_wins(self):
        event_id = self.event()
        tokens = self.users(30)
        seats = ["A-1-2", "A-1-3"]
        answers = race(30, lambda i, c: hold_on(c, tokens[i], event_id, seats=seats))
        won = [i for i, a in enumerate(answers) if a[0] == 201]
        self.assertEqual(len(won), 1, f"winners: {[answers[i][2] for i in won]!r}")
        for i, a in enumerate(answers):
            if i not in won:
                self.assertProblemCode(a, 409, "SEAT_UNAVAILABLE", f"user {i}")
                self.assertEqual(sorted(a[2].get("seats") or seats), seats)
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual((statuses["A-1-2"], statuses["A-1-3"]), ("HELD", "HELD"))
        self.assertEqual(self.assertAuditClean(event_id)["held"], 2)
        # The winner pays; the seats are sold to that user only.
        winner = answers[won[0]][2]
        key = sandbox_pay(self.srv, winner["orderId"], winner["amount"])
        paid = self.assertStatus(confirm(self.srv, tokens[won[0]], winner["orderId"], key, winner["amount"]),
                                 200, "winner confirm")
        self.assertEqual(sorted(t["seat"] for t in paid["tickets"]), seats)
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 2)

    def test_overlapping_holds_are_all_or_nothing(self):
        event_id = self.event()
        tokens = self.users(12)
        # Pairs that overlap their neighbours: A-1-1+A-1-2, A-1-2+A-1-3, …, around one row of 4.
        row = ["A-1-1", "A-1-2", "A-1-3", "A-1-4"]
        pairs = [[row[i % 4], row[(i + 1) % 4]] for i in range(12)]
        answers = race(12, lambda i, c: hold_on(c, tokens[i], event_id, seats=pairs[i]))
        held = [pairs[i] for i, a in enumerate(answers) if a[0] == 201]
        for i, a in enumerate(answers):
            if a[0] != 201:
                self.assertProblemCode(a, 409, "SEAT_UNAVAILABLE", f"user {i}")
        flat = [s for p in held for s in p]
        self.assertEqual(len(flat), len(set(flat)), f"a seat in two holds: {held!r}")
        self.assertGreaterEqual(len(held), 1)
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual({s for s in row if statuses[s] == "HELD"}, set(flat))
        self.assertEqual(self.assertAuditClean(event_id)["held"], len(flat))

    def test_forty_users_race_for_a_zone_of_ten(self):
        event_id = self.event(layout=ga_layout(capacity=10))
        tokens = self.users(40)
        quantity = [1 + i % 2 for i in range(40)]
        answers = race(40, lambda i, c: hold_on(c, tokens[i], event_id, zone="GA", quantity=quantity[i]))
        taken = 0
        for i, a in enumerate(answers):
            if a[0] == 201:
                self.assertEqual(a[2]["quantity"], quantity[i])
                taken += quantity[i]
            else:
                self.assertProblemCode(a, 409, "SOLD_OUT", f"user {i}")
        # Nothing is given back during the race, so a refused ask of 1 means nothing was left
        # then or later; 20 asks of 1 cannot all fit in 10: the zone ends exactly full.
        self.assertEqual(taken, 10)
        self.assertEqual(zone_available(self.srv, event_id), 10 - taken)
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["held"], taken)

    def test_one_user_firing_ten_holds_at_once_gets_exactly_four_seats(self):
        event_id = self.event(layout=reserved_layout(rows=3, seats=4), max_per_user=4)
        token = self.srv.signup().access_token
        seats = [f"A-{r}-{n}" for r in (1, 2, 3) for n in (1, 2, 3, 4)][:10]
        answers = race(10, lambda i, c: hold_on(c, token, event_id, seats=[seats[i]]))
        won = [a for a in answers if a[0] == 201]
        self.assertEqual(len(won), 4, [a[0] for a in answers])
        for a in answers:
            if a[0] != 201:
                self.assertProblemCode(a, 422, "HOLD_LIMIT_EXCEEDED")
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual(sum(1 for s in statuses.values() if s == "HELD"), 4)
        self.assertEqual(self.assertAuditClean(event_id)["held"], 4)

    def test_one_user_firing_ten_zone_holds_at_once_gets_exactly_four_places(self):
        event_id = self.event(layout=ga_layout(capacity=30), max_per_user=4)
        token = self.srv.signup().access_token
        answers = race(10, lambda i, c: hold_on(c, token, event_id, zone="GA", quantity=1))
        self.assertEqual(sum(1 for a in answers if a[0] == 201), 4, [a[0] for a in answers])
        for a in answers:
            if a[0] != 201:
                self.assertProblemCode(a, 422, "HOLD_LIMIT_EXCEEDED")
        self.assertEqual(zone_available(self.srv, event_id), 26)
        self.assertAuditClean(event_id)


class settle_races_test(races_case):
    def test_paying_declining_releasing_and_abandoning_at_once_keeps_the_books(self):
        event_id = self.event(layout=reserved_layout(rows=4, seats=4))
        tokens = self.users(8)
        seats = [[f"A-{r}-1", f"A-{r}-2"] for r in (1, 2, 3, 4)] + [[f"A-{r}-3", f"A-{r}-4"] for r in (1, 2, 3, 4)]
        actions = ["pay", "decline", "release", "abandon"] * 2

        def shop(i, conn):
            status, _, h = hold_on(conn, tokens[i], event_id, seats=seats[i])
            if status != 201:
                return ("hold", status, h)
            act = actions[i]
            if act == "release":
                status, _, body = conn.call("DELETE", f"{API}/holds/{h['holdId']}", token=tokens[i])
                return (act, status, body)
            if act == "abandon":
                return (act, 201, h)
            key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="decline" if act == "decline" else None)
            status, _, body = conn.call("POST", f"{API}/payments/confirm",
                                        {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]},
                                        token=tokens[i])
            return (act, status, body)

        results = race(8, shop)
        expected = {"pay": 200, "decline": 402, "release": 204, "abandon": 201}
        for i, (act, status, body) in enumerate(results):
            self.assertEqual((act, status), (actions[i], expected[actions[i]]), f"user {i}: {body!r}")
        statuses = seat_statuses(self.srv, event_id)
        for i, act in enumerate(actions):
            want = {"pay": "SOLD", "decline": "AVAILABLE", "release": "AVAILABLE", "abandon": "HELD"}[act]
            self.assertEqual([statuses[s] for s in seats[i]], [want, want], f"user {i} ({act})")
        report = self.assertAuditClean(event_id)
        self.assertEqual((report["sold"], report["held"], report["available"], report["capacity"]),
                         (4, 4, 8, 16))
        totals = self.assertStatus(self.srv.call("GET", f"{API}/manager/events/{event_id}/orders",
                                                 token=self.manager.access_token), 200, "event orders")
        # Payment attempts and holds awaiting payment; the released holds are no orders to list.
        self.assertEqual(Counter(o["status"] for o in totals["items"]),
                         Counter({"PAID": 2, "FAILED": 2, "PENDING_PAYMENT": 2}))

    def test_a_double_clicked_confirm_pays_once(self):
        event_id = self.event()
        token = self.srv.signup().access_token
        h = hold_ok(self.srv, token, event_id, seats=["A-2-1", "A-2-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        body = {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]}
        answers = race(6, lambda i, c: c.call("POST", f"{API}/payments/confirm", body, token=token))
        codes = Counter(a[0] for a in answers)
        self.assertGreaterEqual(codes[200], 1, answers)
        self.assertEqual(set(codes) - {200, 409}, set(), [(a[0], a[2]) for a in answers])
        for a in answers:
            if a[0] == 200:
                self.assertEqual(a[2]["status"], "PAID")
        order = self.assertStatus(get_order(self.srv, token, h["orderId"]), 200, "order")
        self.assertEqual(order["status"], "PAID")
        self.assertEqual(len(order["tickets"]), 2)
        tickets = self.assertStatus(self.srv.call("GET", f"{API}/tickets", token=token), 200, "tickets")["items"]
        self.assertEqual(len([t for t in tickets if t["orderId"] == h["orderId"]]), 2)
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 2)


class original_defects_test(races_case):
    """Each defect of the Spring Boot original (DESIGN.md §1), shown to be gone."""

    def test_two_users_can_never_both_hold_and_pay_for_one_seat(self):
        # The late payer's hold has expired; at the same moment a second user holds and pays
        # for the same seat. Whoever wins, the seat is sold once and the loser is not charged.
        event_id = self.event(hold_seconds=1)
        seats = ["A-1-1", "A-1-2", "A-1-3", "A-1-4"]
        late = self.users(4)
        quick = self.users(4)
        pending = []
        for i, seat in enumerate(seats):
            h = hold_ok(self.srv, late[i], event_id, seats=[seat])
            pending.append((h, sandbox_pay(self.srv, h["orderId"], h["amount"])))
        self.assertTrue(wait_until(lambda: all(seat_statuses(self.srv, event_id)[s] == "AVAILABLE" for s in seats),
                                   5.0, 0.1), "the holds did not expire")

        def go(i, conn):
            k = i // 2
            if i % 2 == 0:
                h, key = pending[k]
                status, _, body = conn.call("POST", f"{API}/payments/confirm",
                                            {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]},
                                            token=late[k])
                return ("late", k, status, body, key)
            status, _, h = hold_on(conn, quick[k], event_id, seats=[seats[k]])
            if status != 201:
                return ("quick", k, status, h, None)
            key = sandbox_pay(self.srv, h["orderId"], h["amount"])
            status, _, body = conn.call("POST", f"{API}/payments/confirm",
                                        {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]},
                                        token=quick[k])
            return ("quick", k, status, body, key)

        results = race(8, go)
        for k, seat in enumerate(seats):
            mine = [r for r in results if r[1] == k]
            paid = [r for r in mine if r[2] == 200]
            self.assertEqual(len(paid), 1, f"seat {seat}: {[(r[0], r[2], r[3]) for r in mine]!r}")
            for who, _, status, body, key in mine:
                if status == 200:
                    self.assertEqual([t["seat"] for t in body["tickets"]], [seat])
                    self.assertEqual(sandbox_status(self.srv, key), "DONE")
                else:
                    self.assertIn(status, (409,), f"{who} on {seat}: {status} {body!r}")
                    self.assertIn(body.get("code"), ("HOLD_EXPIRED", "SEAT_UNAVAILABLE"), body)
                    if key is not None:
                        self.assertIn(sandbox_status(self.srv, key), ("READY", "CANCELED"),
                                      f"{who} on {seat} was charged without a ticket")
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual({statuses[s] for s in seats}, {"SOLD"})
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 4)

    def test_a_declined_payment_frees_its_seats_at_once(self):
        event_id = self.event(layout=reserved_layout(rows=2, seats=4))
        tokens = self.users(8)
        seats = [f"A-{r}-{n}" for r in (1, 2) for n in (1, 2, 3, 4)]
        holds = [hold_ok(self.srv, tokens[i], event_id, seats=[seats[i]]) for i in range(8)]
        keys = [sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="decline") for h in holds]
        answers = race(8, lambda i, c: c.call("POST", f"{API}/payments/confirm",
                                             {"paymentKey": keys[i], "orderId": holds[i]["orderId"],
                                              "amount": holds[i]["amount"]}, token=tokens[i]))
        for a in answers:
            self.assertProblemCode(a, 402, "PAYMENT_DECLINED")
        self.assertEqual(set(seat_statuses(self.srv, event_id).values()), {"AVAILABLE"})
        # One other user can now take four of them straight away (the original kept them locked).
        taker = self.srv.signup().access_token
        buy(self.srv, taker, event_id, seats=seats[:4])
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 4)

    def test_the_server_computes_the_price(self):
        event_id = self.event(layout=ga_layout(capacity=10, price=77000))
        token = self.srv.signup().access_token
        h = hold_ok(self.srv, token, event_id, zone="GA", quantity=2, extra={"amount": 100, "price": 50})
        self.assertEqual(h["amount"], 154000)
        key = sandbox_pay(self.srv, h["orderId"], 100)
        got = confirm(self.srv, token, h["orderId"], key, 100)
        self.assertProblemCode(got, 400, "AMOUNT_MISMATCH")
        self.assertEqual(sandbox_status(self.srv, key), "READY")
        self.assertEqual(get_order(self.srv, token, h["orderId"])[2]["status"], "PENDING_PAYMENT")

    def test_a_user_cannot_cancel_another_users_payment(self):
        event_id = self.event()
        victim, attacker = self.users(2)
        paid = buy(self.srv, victim, event_id, seats=["A-2-3"])
        tries = race(5, lambda i, c: c.call("POST", f"{API}/orders/{paid['id']}/cancel", {"reason": "mine"},
                                           token=attacker))
        for t in tries:
            self.assertProblemCode(t, 404, "NOT_FOUND")
        self.assertEqual(get_order(self.srv, victim, paid["id"])[2]["status"], "PAID")
        self.assertEqual(sandbox_status(self.srv, paid["paymentKey"]), "DONE")
        self.assertEqual(seat_statuses(self.srv, event_id)["A-2-3"], "SOLD")

    def test_the_four_ticket_cap_applies_to_general_admission(self):
        event_id = self.event(layout=ga_layout(capacity=40))
        token = self.srv.signup().access_token
        self.assertProblemCode(hold(self.srv, token, event_id, zone="GA", quantity=5), 422, "HOLD_LIMIT_EXCEEDED")
        buy(self.srv, token, event_id, zone="GA", quantity=3)
        answers = race(4, lambda i, c: hold_on(c, token, event_id, zone="GA", quantity=1))
        self.assertEqual(sum(1 for a in answers if a[0] == 201), 1, [a[0] for a in answers])
        for a in answers:
            if a[0] != 201:
                self.assertProblemCode(a, 422, "HOLD_LIMIT_EXCEEDED")
        self.assertEqual(zone_available(self.srv, event_id), 36)
        self.assertAuditClean(event_id)


class signup_races_test(races_case):
    """Sign-ups go through the group-committing writer, each in its own savepoint: many at once
    for one email, committed in one batch or several, make exactly one account."""

    def test_many_sign_ups_of_one_email_at_once_make_one_account(self):
        for _ in range(5):
            email = harness.unique_email("race")
            answers = race(16, lambda i, conn: conn.call(
                "POST", f"{API}/auth/signup",
                {"email": email, "password": harness.DEFAULT_PASSWORD, "name": f"Racer {i}"}))
            self.assertEqual(Counter(status for status, _, _ in answers), Counter({201: 1, 409: 15}),
                             answers)
            for status, _, body in answers:
                if status == 409:
                    self.assertEqual(body["code"], "CONFLICT", body)
            winner = next(body for status, _, body in answers if status == 201)
            me = self.srv.login(email)
            self.assertEqual(me.id, winner["user"]["id"])


if __name__ == "__main__":
    unittest.main()
