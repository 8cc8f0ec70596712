"""Payments when Toss misbehaves: a slow answer, a 5xx, a lost answer, the server dying between
Toss's capture and its own commit, a cancellation made at Toss behind the server's back, money
captured for an order that can no longer be honoured (DESIGN.md §5 Pay, "unknown (timeout,
5xx, crash): the reconciler asks Toss by orderId until it knows"; invariant 2: every captured
payment has exactly one PAID order with its tickets, or is refunded)."""

import http.client
import unittest
from urllib.parse import parse_qs, urlencode, urlsplit

import harness
from harness import (API, audit, buy, confirm, create_event, e2e_case, ga_layout, get_order,
                     hold, hold_ok, sandbox_cancel, sandbox_confirm, sandbox_faults, sandbox_pay,
                     sandbox_status, seat_statuses, wait_order_status, wait_until, zone_available)

# The Toss client gives up on a confirm after 5 s; the reconciler asks every second, after a
# 2 s back-off. Settling an unknown outcome must take well under this.
SETTLE_DEADLINE_S = 15.0
SANDBOX_ENV = {"TICKETON_PAYMENT_PROVIDER": "sandbox"}


class payments_case(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env=SANDBOX_ENV)
        cls.manager = cls.srv.create_user("MANAGER")

    def tearDown(self):
        # Faults are sandbox-wide: never leave one armed for the next test.
        sandbox_faults(self.srv, confirmDelayMs=0, confirm5xx=0, dropConfirmResponse=0)

    def user(self):
        return self.srv.signup().access_token

    def event(self, **kwargs):
        return create_event(self.srv, self.manager.access_token, **kwargs)

    def order(self, token, order_id):
        return self.assertStatus(get_order(self.srv, token, order_id), 200, "GET order")

    def assertAuditClean(self, event_id):
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["violations"], [], f"audit {report!r}")
        self.assertEqual(report["sold"] + report["held"] + report["available"], report["capacity"],
                         f"audit {report!r}")
        return report

    def confirm_unknown(self, token, h, key, **kwargs):
        """A confirm whose outcome Toss left unknown answers 202 with the order CONFIRMING (the
        client polls), or — when the reconciler settled it while the confirm was still waiting
        on Toss — 200 with the order PAID. The status and the order must agree either way."""
        status, _, body = confirm(self.srv, token, h["orderId"], key, h["amount"], **kwargs)
        self.assertIn(status, (200, 202), f"confirm with an unknown outcome -> {status} {body!r}")
        if status == 202:
            self.assertEqual(body["status"], "CONFIRMING", f"202 Accepted must carry a CONFIRMING order: {body!r}")
            self.assertEqual(body["tickets"], [])
        else:
            self.assertEqual(body["status"], "PAID", f"200 must carry a PAID order: {body!r}")
        return body

    def assertSettledPaid(self, token, h, key, event_id, seats):
        order = wait_order_status(self.srv, token, h["orderId"], ("PAID", "FAILED", "REFUNDED"),
                                  SETTLE_DEADLINE_S)
        self.assertEqual(order["status"], "PAID", f"not PAID within {SETTLE_DEADLINE_S} s: {order!r}")
        self.assertEqual(sorted(t["seat"] for t in order["tickets"]), sorted(seats))
        self.assertEqual(sandbox_status(self.srv, key), "DONE")
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual({statuses[s] for s in seats}, {"SOLD"})
        self.assertAuditClean(event_id)
        return order


class unknown_outcome_test(payments_case):
    @classmethod
    def setUpClass(cls):
        # A payment the provider never captures fails after this grace (default 60 s).
        cls.srv = harness.class_server(cls, env={**SANDBOX_ENV, "TICKETON_BOOKING_UNKNOWN_GRACE_SECONDS": "8"})
        cls.manager = cls.srv.create_user("MANAGER")

    def test_a_slow_toss_answer_is_202_then_reconciled_to_paid(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        # Longer than the client's 5 s deadline; the sandbox has captured before it answers.
        sandbox_faults(self.srv, confirmDelayMs=6000)
        self.confirm_unknown(buyer, h, key)
        sandbox_faults(self.srv, confirmDelayMs=0)
        # Meanwhile the seats are not for sale to anyone else.
        self.assertProblem(hold(self.srv, self.user(), event_id, seats=["A-1-2"]), 409, "SEAT_UNAVAILABLE")
        self.assertSettledPaid(buyer, h, key, event_id, ["A-1-1", "A-1-2"])

    def test_outcome_timeout_is_202_then_reconciled_to_paid(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-2-1"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="timeout")
        self.confirm_unknown(buyer, h, key)
        self.assertSettledPaid(buyer, h, key, event_id, ["A-2-1"])
        # A repeat of the confirm after settling answers the paid order.
        again = self.assertStatus(confirm(self.srv, buyer, h["orderId"], key, h["amount"]), 200, "repeat")
        self.assertEqual(again["status"], "PAID")

    def test_a_lost_confirm_answer_is_reconciled_to_paid(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-3"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        # The answer and the Toss client's one repeat of it are both lost.
        sandbox_faults(self.srv, dropConfirmResponse=2)
        self.confirm_unknown(buyer, h, key)
        sandbox_faults(self.srv, dropConfirmResponse=0)
        self.assertSettledPaid(buyer, h, key, event_id, ["A-1-3"])

    def test_a_lost_answer_for_general_admission_is_reconciled_to_paid(self):
        event_id = self.event(layout=ga_layout(capacity=4))
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, zone="GA", quantity=2)
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        # The answer and the Toss client's one repeat of it are both lost.
        sandbox_faults(self.srv, dropConfirmResponse=2)
        self.confirm_unknown(buyer, h, key)
        sandbox_faults(self.srv, dropConfirmResponse=0)
        order = wait_order_status(self.srv, buyer, h["orderId"], ("PAID", "FAILED", "REFUNDED"), SETTLE_DEADLINE_S)
        self.assertEqual(order["status"], "PAID", order)
        self.assertEqual(len(order["tickets"]), 2)
        self.assertEqual(zone_available(self.srv, event_id), 2)
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 2)

    def assertSettledPerSandbox(self, buyer, h, key, event_id, seat):
        """A 5xx from Toss decides nothing: the order must end PAID if the sandbox captured
        the payment, FAILED if it did not — and the audit must be clean either way."""
        order = wait_order_status(self.srv, buyer, h["orderId"], ("PAID", "FAILED", "REFUNDED"),
                                  SETTLE_DEADLINE_S)
        captured = sandbox_status(self.srv, key)
        self.assertIn(order["status"], ("PAID", "FAILED"),
                      f"order still {order['status']} {SETTLE_DEADLINE_S} s after a Toss 5xx "
                      f"(sandbox payment {captured}): {order!r}")
        if order["status"] == "PAID":
            self.assertEqual(captured, "DONE")
            self.assertEqual([t["seat"] for t in order["tickets"]], [seat])
            self.assertEqual(seat_statuses(self.srv, event_id)[seat], "SOLD")
        else:
            self.assertNotEqual(captured, "DONE")
            self.assertEqual(order["tickets"], [])
            self.assertEqual(seat_statuses(self.srv, event_id)[seat], "AVAILABLE")
        self.assertAuditClean(event_id)

    def test_a_toss_5xx_once_settles_per_the_sandbox(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-1-4"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        sandbox_faults(self.srv, confirm5xx=1)
        self.confirm_unknown(buyer, h, key)
        self.assertSettledPerSandbox(buyer, h, key, event_id, "A-1-4")

    def test_a_toss_that_always_fails_settles_per_the_sandbox(self):
        event_id = self.event()
        buyer = self.user()
        h = hold_ok(self.srv, buyer, event_id, seats=["A-2-2"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="error")
        self.confirm_unknown(buyer, h, key)
        self.assertSettledPerSandbox(buyer, h, key, event_id, "A-2-2")


class webhook_test(payments_case):
    def webhook(self, payment_key, order_id=None):
        # Toss's PAYMENT_STATUS_CHANGED carries the Payment: its paymentKey and orderId.
        data = {"paymentKey": payment_key, "status": "CANCELED"}
        if order_id is not None:
            data["orderId"] = order_id
        return self.srv.call("POST", f"{API}/payments/webhook",
                             {"eventType": "PAYMENT_STATUS_CHANGED",
                              "createdAt": "2030-01-01T00:00:00.000000",
                              "data": data})

    def test_a_cancellation_made_at_toss_cancels_the_order(self):
        event_id = self.event()
        buyer = self.user()
        paid = buy(self.srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
        self.assertStatus(sandbox_cancel(self.srv, paid["paymentKey"]), 200, "cancel at the sandbox")
        self.assertStatus(self.webhook(paid["paymentKey"]), 200, "webhook")
        order = self.order(buyer, paid["id"])
        self.assertEqual(order["status"], "CANCELLED")
        self.assertEqual(sorted(t["status"] for t in order["tickets"]), ["VOID", "VOID"])
        statuses = seat_statuses(self.srv, event_id)
        self.assertEqual((statuses["A-1-1"], statuses["A-1-2"]), ("AVAILABLE", "AVAILABLE"))
        self.assertEqual(self.assertAuditClean(event_id)["sold"], 0)
        # Sent again (Toss retries webhooks), it changes nothing.
        self.assertStatus(self.webhook(paid["paymentKey"]), 200, "webhook again")
        self.assertEqual(self.order(buyer, paid["id"])["status"], "CANCELLED")

    def test_a_webhook_body_is_not_trusted(self):
        event_id = self.event()
        buyer = self.user()
        paid = buy(self.srv, buyer, event_id, seats=["A-2-1"])
        # Claims CANCELED, but Toss says DONE: nothing changes.
        self.assertStatus(self.webhook(paid["paymentKey"]), 200, "webhook")
        self.assertEqual(self.order(buyer, paid["id"])["status"], "PAID")
        self.assertEqual(seat_statuses(self.srv, event_id)["A-2-1"], "SOLD")
        self.assertIn(self.webhook("tsbx-no-such-payment")[0], (200, 404))
        self.assertProblem(self.srv.call("POST", f"{API}/payments/webhook", {"eventType": "X", "data": {}}),
                           400, "VALIDATION_FAILED")
        self.assertAuditClean(event_id)

    def test_money_captured_for_an_order_that_cannot_be_honoured_is_refunded(self):
        event_id = self.event(hold_seconds=1)
        late, quick = self.user(), self.user()
        h = hold_ok(self.srv, late, event_id, seats=["A-2-3"])
        key = sandbox_pay(self.srv, h["orderId"], h["amount"])
        self.assertTrue(wait_until(lambda: seat_statuses(self.srv, event_id)["A-2-3"] == "AVAILABLE", 5.0, 0.1),
                        "the hold did not expire")
        hold_ok(self.srv, quick, event_id, seats=["A-2-3"])
        # The browser confirmed at Toss directly; Ticketon learns of it by the webhook only.
        self.assertStatus(sandbox_confirm(self.srv, key, h["orderId"], h["amount"]), 200, "confirm at Toss")
        self.assertStatus(self.webhook(key, h["orderId"]), 200, "webhook")
        order = self.order(late, h["orderId"])
        self.assertEqual(order["status"], "REFUNDED", order)
        self.assertEqual(order["tickets"], [])
        self.assertEqual(sandbox_status(self.srv, key), "CANCELED")
        self.assertEqual(seat_statuses(self.srv, event_id)["A-2-3"], "HELD")
        self.assertAuditClean(event_id)


class crash_between_capture_and_commit_test(e2e_case):
    """The server dies right after Toss captured and before its own database recorded the
    payment; on the next start the reconciler asks Toss and issues the tickets."""

    def test_a_capture_lost_by_a_crash_is_finished_after_restart(self):
        with harness.toss_sandbox() as toss:
            env = {"TICKETON_PAYMENT_PROVIDER": "toss",
                   "TICKETON_PAYMENT_TOSS_BASE_URL": toss.base_url,
                   "TICKETON_PAYMENT_TOSS_SECRET_KEY": toss.secret_key}
            with harness.server(env={**env, "TICKETON_FAILPOINTS": "booking.after_provider_confirm"}) as srv:
                manager = srv.create_user("MANAGER").access_token
                buyer = srv.signup().access_token
                event_id = create_event(srv, manager)
                h = hold_ok(srv, buyer, event_id, seats=["A-1-1", "A-1-2"])
                key = sandbox_pay(toss, h["orderId"], h["amount"])

                with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError,
                                        ConnectionAbortedError, BrokenPipeError),
                                       msg="confirm answered although the server should have died"):
                    confirm(srv, buyer, h["orderId"], key, h["amount"])
                self.assertEqual(srv.wait(10), 137, f"exit code; stderr: {srv.stderr_text()[-2000:]}")
                self.assertEqual(sandbox_status(toss, key), "DONE", "Toss captured the payment")

                srv.restart(env=env)
                order = wait_order_status(srv, buyer, h["orderId"], ("PAID", "FAILED", "REFUNDED"), 10.0)
                self.assertEqual(order["status"], "PAID", f"after restart: {order!r}")
                self.assertEqual(sorted(t["seat"] for t in order["tickets"]), ["A-1-1", "A-1-2"])
                self.assertEqual(order["paymentKey"], key)
                statuses = seat_statuses(srv, event_id)
                self.assertEqual((statuses["A-1-1"], statuses["A-1-2"]), ("SOLD", "SOLD"))
                tickets = self.assertStatus(srv.call("GET", f"{API}/tickets", token=buyer), 200, "tickets")
                self.assertEqual(len([t for t in tickets["items"] if t["orderId"] == h["orderId"]]), 2)
                self.assertEqual(sandbox_status(toss, key), "DONE")
                report = audit(srv, manager, event_id)
                self.assertEqual(report["violations"], [], report)
                self.assertEqual(report["sold"], 2)
                self.assertEqual(report["sold"] + report["held"] + report["available"], report["capacity"])

                # The same server pays and refunds through the separate Toss normally.
                h2 = hold_ok(srv, buyer, event_id, seats=["A-2-1"])
                key2 = sandbox_pay(toss, h2["orderId"], h2["amount"])
                again = self.assertStatus(confirm(srv, buyer, h2["orderId"], key2, h2["amount"]), 200, "confirm")
                self.assertEqual(again["status"], "PAID")
                self.assertStatus(srv.call("POST", f"{API}/orders/{again['id']}/cancel", {"reason": "r"},
                                           token=buyer), 200, "cancel")
                self.assertEqual(sandbox_status(toss, again["paymentKey"]), "CANCELED")


class checkout_config_test(e2e_case):
    """GET /payments/config tells the web UI's checkout how to pay, and the sandbox serves the
    widget's browser side (its SDK and payment window) over HTTP."""

    def test_the_built_in_sandbox_pays_at_its_own_button(self):
        with harness.server(env=SANDBOX_ENV) as srv:
            self.assertEqual(self.assertStatus(srv.call("GET", "payments/config"), 200),
                             {"provider": "sandbox"})
            status, headers, script = srv.call("GET", "/sandbox/toss/v2/standard")
            self.assertEqual(status, 200)
            self.assertTrue(headers["Content-Type"].startswith("text/javascript"), headers)
            self.assertIn("window.TossPayments", script)
            # A window asked with a secret key instead of a client key is a page saying why.
            query = urlencode({"clientKey": "test_sk_sandbox", "orderId": "ord_window_1",
                               "orderName": "x", "amount": "1000",
                               "successUrl": "http://127.0.0.1/ok",
                               "failUrl": "http://127.0.0.1/fail"})
            status, headers, page = srv.call("GET", f"/sandbox/toss/v2/window?{query}")
            self.assertEqual(status, 400)
            self.assertTrue(headers["Content-Type"].startswith("text/html"), headers)
            self.assertIn("clientKey is not a Toss client key", page)

    def test_the_window_form_pays_and_sends_the_browser_back(self):
        with harness.toss_sandbox() as toss:
            form = urlencode({"clientKey": "test_ck_form", "orderId": "ord_window_form",
                              "orderName": "Night <1>", "amount": "5000",
                              "successUrl": "http://127.0.0.1:9/checkout/ord_window_form/success",
                              "failUrl": "http://127.0.0.1:9/checkout/ord_window_form/fail",
                              "choice": "approve"})
            status, headers, _ = harness.call(
                toss.port, "POST", "/v2/window", form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(status, 303)
            back = parse_qs(urlsplit(headers["Location"]).query)
            self.assertEqual(back["orderId"], ["ord_window_form"])
            self.assertEqual(back["amount"], ["5000"])
            self.assertEqual(sandbox_status(toss, back["paymentKey"][0]), "READY")

    def test_toss_without_a_client_key_says_the_ui_cannot_pay(self):
        with harness.toss_sandbox() as toss, harness.server(env={
                "TICKETON_PAYMENT_PROVIDER": "toss",
                "TICKETON_PAYMENT_TOSS_BASE_URL": toss.base_url,
                "TICKETON_PAYMENT_TOSS_SECRET_KEY": toss.secret_key}) as srv:
            self.assertEqual(self.assertStatus(srv.call("GET", "payments/config"), 200),
                             {"provider": "toss", "clientKey": None})
            self.assertIn("payment.toss.client_key", srv.stderr_text())


if __name__ == "__main__":
    unittest.main()
