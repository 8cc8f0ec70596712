"""Money is never lost (issue 10, DESIGN.md §5 "Money"): every move of money is a state of the
order won by one compare-and-set before Toss is called, and whatever a crash, a timeout or an
outage leaves in between is finished by the reconciler.

Every path that can settle or cancel the same order races here, many rounds, against the built
binary and its Toss sandbox over real HTTP, and each round ends with the order and the payment
at Toss agreeing (PAID and DONE, or refunded and CANCELED, never mixed), a refund asked of Toss
once (the sandbox counts the cancel requests that reach a payment), and a clean audit. Buyers
connect from their own loopback addresses (127.0.0.2, …), Toss's webhooks from 127.0.0.250.
"""

import threading
import time
import unittest

import harness
from harness import (API, audit, call, confirm, create_event, e2e_case, hold_ok, reserved_layout,
                     sandbox_faults, sandbox_pay, sandbox_payment, wait_until)

JOIN_TIMEOUT_S = 60.0
TOSS_ADDRESS = "127.0.0.250"
# The reconciler looks every 100 ms and at once (no grace for the caller's own call), so it races
# the user's confirm and cancel on every round; a refund Toss did not answer is asked again
# within two seconds.
MONEY_ENV = {
    "TICKETON_PAYMENT_PROVIDER": "sandbox",
    "TICKETON_BOOKING_FIRST_CHECK_SECONDS": "0",
    "TICKETON_BOOKING_RECONCILE_INTERVAL_MS": "100",
    "TICKETON_BOOKING_REFUND_BACKOFF_MAX_SECONDS": "2",
    "TICKETON_RATE_LIMIT_WEBHOOK_BURST": "100000",
    "TICKETON_RATE_LIMIT_WEBHOOK_PER_MINUTE": "1000000",
}
ROUNDS = 200
FINAL = ("PAID", "REFUNDED", "CANCELLED", "FAILED", "REFUND_FAILED")


def source_of(i):
    """The loopback address person `i` connects from."""
    return f"127.0.{1 + i // 200}.{2 + i % 200}"


def together(*fns):
    """Runs the functions in threads that start together; returns their results in order."""
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)
    errors = []

    def run(i, fn):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_S)
            results[i] = fn()
        except BaseException as e:  # handed to the caller below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT_S)
        if t.is_alive():
            raise AssertionError("a racing request did not finish")
    if errors:
        raise errors[0]
    return results


def in_batches(n, size, fn):
    """fn(i) for i in range(n), `size` at a time in threads; the results in order."""
    results = [None] * n
    for start in range(0, n, size):
        batch = range(start, min(n, start + size))
        out = together(*[(lambda i=i: fn(i)) for i in batch])
        for i, r in zip(batch, out):
            results[i] = r
    return results


class money_case(e2e_case):
    env = MONEY_ENV

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env=cls.env)
        cls.manager = cls.srv.create_user("MANAGER")

    def setUp(self):
        sandbox_faults(self.srv, confirmDelayMs=0, confirm5xx=0, dropConfirmResponse=0, cancel5xx=0,
                       cancelRefuse=0, dropCancelResponse=0, outage=0)

    # -- people and events ---------------------------------------------------------------------

    def buyers(self, n):
        """n buyers (tokens) and the address each connects from."""
        return [(self.srv.signup().access_token, source_of(i)) for i in range(n)]

    def event(self, seats, **kwargs):
        rows = (seats + 9) // 10
        return create_event(self.srv, self.manager.access_token,
                            layout=reserved_layout(rows=rows, seats=10), **kwargs)

    @staticmethod
    def seat(i):
        return f"A-{1 + i // 10}-{1 + i % 10}"

    # -- money ----------------------------------------------------------------------------------

    def as_buyer(self, buyer, method, path, body=None):
        token, source = buyer
        return call(self.srv.port, method, f"{API}/{path}", body, token=token, source=source,
                    timeout=30)

    def pay(self, buyer, event_id, i):
        """Holds seat i and pays for it at the sandbox: (hold, paymentKey)."""
        h = hold_ok(self.srv, buyer[0], event_id, seats=[self.seat(i)])
        return h, sandbox_pay(self.srv, h["orderId"], h["amount"])

    def buy(self, buyer, event_id, i):
        """A PAID order of one seat."""
        h, key = self.pay(buyer, event_id, i)
        status, _, body = self.as_buyer(buyer, "POST", "payments/confirm",
                                        {"paymentKey": key, "orderId": h["orderId"],
                                         "amount": h["amount"]})
        self.assertEqual((status, body.get("status")), (200, "PAID"), body)
        return body

    def webhook(self, payment_key, order_id=None):
        data = {"paymentKey": payment_key, "status": "DONE"}
        if order_id is not None:
            data["orderId"] = order_id
        return call(self.srv.port, "POST", f"{API}/payments/webhook",
                    {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2030-01-01T00:00:00.000000",
                     "data": data}, source=TOSS_ADDRESS, timeout=30)

    def toss(self, payment_key):
        """(status, cancel requests) of the payment at the sandbox."""
        status, _, body = sandbox_payment(self.srv, payment_key)
        self.assertEqual(status, 200, body)
        return body["status"], body["sandbox"]["cancelRequests"]

    def order(self, buyer, order_id):
        status, _, body = self.as_buyer(buyer, "GET", f"orders/{order_id}")
        self.assertEqual(status, 200, body)
        return body

    def settled(self, buyer, order_id, timeout_s=20.0):
        """The order once it is in a final state (fails if it is not within the time)."""
        last = {}

        def probe():
            last["order"] = self.order(buyer, order_id)
            return last["order"]["status"] in FINAL

        wait_until(probe, timeout_s, 0.05)
        self.assertIn(last["order"]["status"], FINAL, f"not settled: {last['order']!r}")
        return last["order"]

    def assertAgrees(self, order, payment_key, seats=1):
        """The order and the payment at Toss tell the same story (invariant 2)."""
        toss_status, cancel_requests = self.toss(payment_key)
        live = [t for t in order["tickets"] if t["status"] != "VOID"]
        if order["status"] == "PAID":
            self.assertEqual((toss_status, cancel_requests, len(live)), ("DONE", 0, seats), order)
        elif order["status"] in ("REFUNDED", "CANCELLED"):
            self.assertEqual((toss_status, cancel_requests, len(live)), ("CANCELED", 1, 0), order)
        else:
            self.fail(f"order {order['id']} ended {order['status']} with the payment {toss_status}")
        return order["status"]

    def assertAuditClean(self, event_id):
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["violations"], [], report)
        self.assertEqual(report["refunding"], 0, report)
        return report


class settle_races_test(money_case):
    def test_confirm_webhooks_and_the_reconciler_settle_each_order_once(self):
        """The found bug: Toss answers the confirm 0.6 s after capturing, and meanwhile the
        webhook (three deliveries) and the reconciler settle the same order."""
        event_id = self.event(ROUNDS)
        people = self.buyers(ROUNDS // 4)
        paid = [self.pay(people[i // 4], event_id, i) for i in range(ROUNDS)]
        sandbox_faults(self.srv, confirmDelayMs=600)

        def round_(i):
            h, key = paid[i]
            buyer = people[i // 4]

            def user():
                return self.as_buyer(buyer, "POST", "payments/confirm",
                                     {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]})

            def hook(delay):
                def send():
                    time.sleep(delay)
                    return self.webhook(key, h["orderId"])
                return send

            return together(user, hook(0.0), hook(0.1), hook(0.3))

        answers = in_batches(ROUNDS, 25, round_)
        sandbox_faults(self.srv, confirmDelayMs=0)
        outcomes = {}
        for i, (h, key) in enumerate(paid):
            user_answer, *hooks = answers[i]
            self.assertIn(user_answer[0], (200, 202), user_answer)
            for hook in hooks:
                self.assertEqual(hook[0], 200, hook)
            order = self.settled(people[i // 4], h["orderId"])
            outcomes[i] = self.assertAgrees(order, key)
        self.assertEqual(set(outcomes.values()), {"PAID"}, "every seat was free: all sell")
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], ROUNDS)

    def test_a_seat_sold_twice_at_toss_is_refunded_once_to_the_late_payer(self):
        """Two orders of one seat each captured at Toss (the first hold expired and the seat was
        held again): one sale stands, the other is refunded exactly once, whoever settles it."""
        event_id = self.event(40, hold_seconds=1)
        people = self.buyers(40)
        rounds = 20

        def round_(i):
            late, quick = people[2 * i], people[2 * i + 1]
            h1, key1 = self.pay(late, event_id, i)
            # The order's expiry, not the seat map: the map is served from a cache that may still
            # show the seat free from before the late payer's hold.
            wait_until(lambda: self.order(late, h1["orderId"])["status"] == "EXPIRED", 5.0, 0.05)
            h2, key2 = self.pay(quick, event_id, i)
            # The late payer's browser confirmed at Toss directly; Ticketon learns it from the
            # webhook while the quick buyer confirms.
            harness.sandbox_confirm(self.srv, key1, h1["orderId"], h1["amount"])
            together(lambda: self.as_buyer(quick, "POST", "payments/confirm",
                                           {"paymentKey": key2, "orderId": h2["orderId"],
                                            "amount": h2["amount"]}),
                     lambda: self.webhook(key1, h1["orderId"]),
                     lambda: self.webhook(key1, h1["orderId"]))
            return (late, h1, key1), (quick, h2, key2)

        for late, quick in in_batches(rounds, 10, round_):
            statuses = []
            for buyer, h, key in (late, quick):
                statuses.append(self.assertAgrees(self.settled(buyer, h["orderId"]), key))
            self.assertEqual(sorted(statuses), ["PAID", "REFUNDED"], statuses)
        self.assertAuditClean(event_id)


class cancel_races_test(money_case):
    def paid_orders(self, n):
        event_id = self.event(n)
        people = self.buyers((n + 3) // 4)
        orders = [(people[i // 4], self.buy(people[i // 4], event_id, i)) for i in range(n)]
        return event_id, orders

    def test_cancel_and_check_in_at_once_exactly_one_wins(self):
        event_id, orders = self.paid_orders(ROUNDS)
        manager = self.manager.access_token

        def round_(i):
            buyer, o = orders[i]
            code = o["tickets"][0]["code"]
            return together(
                lambda: self.as_buyer(buyer, "POST", f"orders/{o['id']}/cancel", {"reason": "race"}),
                lambda: call(self.srv.port, "POST", f"{API}/checkin", {"code": code}, token=manager,
                             source="127.0.0.240", timeout=30))

        answers = in_batches(ROUNDS, 20, round_)
        wins = {"cancel": 0, "checkin": 0}
        for i, (cancelled, checked) in enumerate(answers):
            buyer, o = orders[i]
            cancel_won = cancelled[0] in (200, 202)
            checkin_won = checked[0] == 200
            self.assertNotEqual(cancel_won, checkin_won, f"round {i}: {cancelled!r} {checked!r}")
            if not cancel_won:
                self.assertProblem(cancelled, 409, "CONFLICT")
            if not checkin_won:
                self.assertProblem(checked, 409, "CONFLICT")
            order = self.settled(buyer, o["id"])
            status = self.assertAgrees(order, o["paymentKey"])
            self.assertEqual(status, "CANCELLED" if cancel_won else "PAID", order)
            ticket = order["tickets"][0]["status"]
            self.assertEqual(ticket, "VOID" if cancel_won else "USED", order)
            wins["cancel" if cancel_won else "checkin"] += 1
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], wins["checkin"])

    def test_two_cancellations_at_once_refund_once(self):
        event_id, orders = self.paid_orders(ROUNDS)
        manager = self.manager.access_token

        def round_(i):
            buyer, o = orders[i]
            path = f"orders/{o['id']}/cancel"
            # The buyer in two tabs, and on every fourth round the event's manager instead.
            second = ((lambda: call(self.srv.port, "POST", f"{API}/{path}", {}, token=manager,
                                    source="127.0.0.240", timeout=30)) if i % 4 == 0
                      else (lambda: self.as_buyer(buyer, "POST", path, {})))
            return together(lambda: self.as_buyer(buyer, "POST", path, {}), second)

        answers = in_batches(ROUNDS, 20, round_)
        for i, pair in enumerate(answers):
            for answer in pair:
                self.assertIn(answer[0], (200, 202), answer)
            buyer, o = orders[i]
            order = self.settled(buyer, o["id"])
            self.assertEqual(self.assertAgrees(order, o["paymentKey"]), "CANCELLED")
        report = self.assertAuditClean(event_id)
        self.assertEqual((report["sold"], report["available"]), (0, report["capacity"]))


class provider_down_test(money_case):
    def test_refunds_made_while_toss_is_down_finish_by_themselves(self):
        event_id = self.event(12)
        people = self.buyers(3)
        orders = [(people[i // 4], self.buy(people[i // 4], event_id, i)) for i in range(12)]
        # A full outage, then 5xx answers, then answers that are lost on the way back.
        sandbox_faults(self.srv, outage=1)
        for buyer, o in orders[:6]:
            status, _, body = self.as_buyer(buyer, "POST", f"orders/{o['id']}/cancel", {})
            self.assertEqual((status, body["status"]), (202, "REFUNDING"), body)
        time.sleep(1.0)  # the reconciler tries, and Toss is still down
        self.assertEqual(self.order(orders[0][0], orders[0][1]["id"])["status"], "REFUNDING")
        sandbox_faults(self.srv, outage=0, cancel5xx=3, dropCancelResponse=4)
        for buyer, o in orders[6:9]:
            status, _, body = self.as_buyer(buyer, "POST", f"orders/{o['id']}/cancel", {})
            self.assertIn(status, (200, 202), body)
        for buyer, o in orders[:9]:
            order = self.settled(buyer, o["id"], timeout_s=30)
            self.assertEqual(self.assertAgrees(order, o["paymentKey"]), "CANCELLED", order)
        for buyer, o in orders[9:]:
            self.assertAgrees(self.order(buyer, o["id"]), o["paymentKey"])
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], 3)

    def test_a_refund_toss_refuses_for_good_is_kept_for_the_manager_and_not_retried(self):
        event_id = self.event(4)
        buyer = self.buyers(1)[0]
        o = self.buy(buyer, event_id, 0)
        sandbox_faults(self.srv, cancelRefuse=1)
        problem = self.assertProblem(self.as_buyer(buyer, "POST", f"orders/{o['id']}/cancel", {}),
                                     409, "CONFLICT")
        self.assertIn("NOT_CANCELABLE_PAYMENT", problem["detail"])
        order = self.order(buyer, o["id"])
        self.assertEqual(order["status"], "REFUND_FAILED")
        self.assertEqual(order["failure"]["code"], "NOT_CANCELABLE_PAYMENT")
        self.assertEqual([t["status"] for t in order["tickets"]], ["VOID"])
        time.sleep(1.0)
        self.assertEqual(self.toss(o["paymentKey"]), ("DONE", 1), "asked once, not again")
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["refundFailed"], 1)
        self.assertTrue(any(o["id"] in v and "refused" in v for v in report["violations"]), report)
        status, _, listed = self.srv.call("GET", f"{API}/manager/events/{event_id}/orders",
                                          token=self.manager.access_token)
        self.assertEqual(status, 200)
        self.assertEqual(listed["totals"]["refundFailed"], 1)


class event_cancellation_test(money_case):
    def test_an_event_with_100_paid_orders_cancelled_refunds_them_all(self):
        event_id = self.event(110)
        people = self.buyers(25)
        orders = [(people[i // 4], self.buy(people[i // 4], event_id, i)) for i in range(100)]
        # Someone at the gate already; a hold awaiting payment; a payment about to be confirmed.
        at_gate = orders[0][1]
        self.assertStatus(self.srv.call("POST", f"{API}/checkin", {"code": at_gate["tickets"][0]["code"]},
                                        token=self.manager.access_token), 200, "check-in")
        late = self.buyers(1)[0]
        h, key = self.pay(late, event_id, 105)

        status, _, event = self.srv.call("PATCH", f"{API}/events/{event_id}", {"status": "CANCELLED"},
                                         token=self.manager.access_token)
        self.assertEqual((status, event["status"]), (200, "CANCELLED"), event)
        # The hold was released; confirm refuses without capturing.
        self.assertEqual(self.order(late, h["orderId"])["status"], "CANCELLED")
        self.assertEqual(harness.seat_statuses(self.srv, event_id)[self.seat(105)], "AVAILABLE")
        self.assertProblem(self.as_buyer(late, "POST", "payments/confirm",
                                         {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]}),
                           409, "CONFLICT")
        self.assertEqual(self.toss(key), ("READY", 0))
        for buyer, o in orders:
            order = self.settled(buyer, o["id"], timeout_s=30)
            self.assertEqual(self.assertAgrees(order, o["paymentKey"]), "CANCELLED", order)
        # A ticket of the cancelled event no longer admits anyone.
        self.assertProblem(self.srv.call("POST", f"{API}/checkin", {"code": orders[1][1]["tickets"][0]["code"]},
                                         token=self.manager.access_token), 409, "CONFLICT")
        report = self.assertAuditClean(event_id)
        self.assertEqual(report["sold"], 0)
        status, _, listed = self.srv.call("GET", f"{API}/manager/events/{event_id}/orders",
                                          token=self.manager.access_token)
        self.assertEqual(listed["totals"]["refunded"], 100, listed["totals"])
        self.assertEqual(listed["totals"]["paidOrders"], 0)

    def test_confirm_refuses_a_closed_event_before_capturing(self):
        event_id = self.event(4)
        buyer = self.buyers(1)[0]
        h, key = self.pay(buyer, event_id, 0)
        self.assertStatus(self.srv.call("PATCH", f"{API}/events/{event_id}", {"status": "CLOSED"},
                                        token=self.manager.access_token), 200, "close")
        self.assertProblem(self.as_buyer(buyer, "POST", "payments/confirm",
                                         {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]}),
                           409, "CONFLICT")
        self.assertEqual(self.toss(key), ("READY", 0))


class webhook_test(money_case):
    env = {**MONEY_ENV, "TICKETON_RATE_LIMIT_WEBHOOK_BURST": "4",
           "TICKETON_RATE_LIMIT_WEBHOOK_PER_MINUTE": "1"}

    def test_a_payment_we_do_not_know_costs_no_toss_request_and_the_webhook_is_limited(self):
        event_id = self.event(4)
        buyer = self.buyers(1)[0]
        o = self.buy(buyer, event_id, 0)
        # Toss is down: a webhook that asked it would answer 503. One for a payment that is not
        # ours answers 200 at once, so it did not ask.
        sandbox_faults(self.srv, outage=1)
        self.assertStatus(self.webhook("tsbx-not-ours", "ord-not-ours"), 200, "unknown payment")
        self.assertStatus(self.webhook("tsbx-not-ours"), 200, "unknown payment, key only")
        status, headers, body = self.webhook(o["paymentKey"], o["id"])
        self.assertEqual(status, 503, body)
        self.assertRetryAfter(headers, 1, 60)
        sandbox_faults(self.srv, outage=0)
        self.assertStatus(self.webhook(o["paymentKey"]), 200, "ours, by its key")
        # All callers share one limit: the fifth call within the minute is refused.
        limited = self.webhook(o["paymentKey"], o["id"])
        self.assertProblem(limited, 429, "RATE_LIMITED")
        self.assertRetryAfter(limited[1], 1, 120)
        self.assertEqual(self.order(buyer, o["id"])["status"], "PAID")


class crash_points_test(e2e_case):
    """kill -9 (a failpoint) between each money move and its Toss call, and between Toss's
    answer and the commit, on the confirm and the refund path; after a restart the reconciler
    finishes the order and the audit is clean."""

    def crash_and_recover(self, failpoint, act, expect):
        with harness.toss_sandbox() as toss:
            env = {**MONEY_ENV, "TICKETON_PAYMENT_PROVIDER": "toss",
                   "TICKETON_PAYMENT_TOSS_BASE_URL": toss.base_url,
                   "TICKETON_PAYMENT_TOSS_SECRET_KEY": toss.secret_key}
            with harness.server(env=env) as srv:
                manager = srv.create_user("MANAGER").access_token
                buyer = srv.signup().access_token
                event_id = create_event(srv, manager)
                h = hold_ok(srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
                key = sandbox_pay(toss, h["orderId"], h["amount"])
                if act == "cancel":
                    self.assertStatus(confirm(srv, buyer, h["orderId"], key, h["amount"]), 200, "confirm")
                srv.restart(env={**env, "TICKETON_FAILPOINTS": failpoint})
                with self.assertRaises(OSError, msg="answered although the server should have died"):
                    if act == "confirm":
                        confirm(srv, buyer, h["orderId"], key, h["amount"])
                    else:
                        srv.call("POST", f"{API}/orders/{h['orderId']}/cancel", {}, token=buyer)
                self.assertEqual(srv.wait(10), 137, f"exit code; stderr: {srv.stderr_text()[-2000:]}")
                srv.env = dict(env)
                srv.start()
                order = harness.wait_order_status(srv, buyer, h["orderId"], FINAL, 20.0)
                self.assertEqual(order["status"], expect, order)
                status, _, payment = sandbox_payment(toss, key)
                self.assertEqual(status, 200)
                toss_status = {"PAID": "DONE", "CANCELLED": "CANCELED"}[expect]
                self.assertEqual(payment["status"], toss_status, payment)
                self.assertEqual(payment["sandbox"]["cancelRequests"], 1 if expect == "CANCELLED" else 0)
                live = [t for t in order["tickets"] if t["status"] != "VOID"]
                self.assertEqual(len(live), 2 if expect == "PAID" else 0, order)
                report = audit(srv, manager, event_id)
                self.assertEqual(report["violations"], [], report)
                self.assertEqual(report["sold"], 2 if expect == "PAID" else 0, report)

    def test_crash_after_confirming_before_toss(self):
        self.crash_and_recover("booking.before_provider_confirm", "confirm", "PAID")

    def test_crash_after_toss_captured_before_the_sale(self):
        self.crash_and_recover("booking.after_provider_confirm", "confirm", "PAID")

    def test_crash_after_refunding_before_toss(self):
        self.crash_and_recover("booking.before_provider_cancel", "cancel", "CANCELLED")

    def test_crash_after_toss_refunded_before_the_record(self):
        self.crash_and_recover("booking.after_provider_cancel", "cancel", "CANCELLED")


if __name__ == "__main__":
    unittest.main()
