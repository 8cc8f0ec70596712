"""Notifications (issue 12) against the built binary, over real SSE: every way a sale can end
reaches its buyer as a notification; a client that reconnects with Last-Event-ID gets everything
it missed, in order, once; two tabs both hear; a user sees and changes only their own; a
dispatcher killed in the middle of a batch and restarted delivers every notification exactly
once; a manager's notice reaches every one of 2,000 ticket holders."""

import random
import selectors
import signal
import socket
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import (API, HOST, audit, buy, call, confirm, create_event, e2e_case, ga_layout,
                     hold_ok, request_bytes, sandbox_confirm, sandbox_pay, seat_statuses,
                     sse_stream, wait_until)


def source_of(i):
    """A loopback address per person."""
    return f"127.0.{10 + i // 200}.{2 + i % 200}"


def notifications_of(srv, token, query=""):
    status, _, body = srv.call("GET", f"{API}/notifications{query}", token=token)
    if status != 200:
        raise AssertionError(f"GET /notifications{query} answered {status}: {body!r}")
    return body


def stream(srv, token, last_event_id=None, query=""):
    headers = {}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    s = sse_stream(srv.port, f"{API}/notifications/stream{query}", token=token, headers=headers)
    if s.status != 200:
        raise AssertionError(f"notification stream answered {s.status}: {s.body!r}")
    return s


def next_notification(s, timeout=10):
    """The next `notification` event's data (skips nothing else: a stray event fails)."""
    e = s.next_event(timeout=timeout)
    if e["event"] != "notification":
        raise AssertionError(f"expected a notification, got {e!r}")
    if e["id"] != str(e["data"]["id"]):
        raise AssertionError(f"the SSE id is not the notification id: {e!r}")
    return e["data"]


class notification_flow_test(e2e_case):
    """The sale's outcomes, the stream's resend, tabs, ownership and the list's counts."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)
        cls.manager = cls.srv.create_user("MANAGER")
        cls.admin = cls.srv.create_user("ADMIN")

    def notice_to(self, user_id, title, body="body"):
        return self.assertStatus(
            self.srv.call("POST", f"{API}/notifications",
                          {"userId": user_id, "title": title, "body": body},
                          token=self.admin.access_token), 202, "admin notice")

    def test_every_outcome_of_a_sale_arrives_on_the_stream(self):
        buyer = self.srv.signup()
        token = buyer.access_token
        # Purchases on an event with the usual hold; expiries on one with a 1 s hold.
        event_id = create_event(self.srv, self.manager.access_token)
        quick = create_event(self.srv, self.manager.access_token, hold_seconds=1)
        with stream(self.srv, token) as s:
            ready = s.next_event()
            self.assertEqual(ready["event"], "ready", ready)
            self.assertEqual(ready["data"], {"lastId": 0, "unreadCount": 0})
            self.assertEqual(ready["id"], "0")

            # A purchase.
            paid = buy(self.srv, token, event_id, seats=["A-1-1"])
            got = next_notification(s)
            self.assertEqual(got["type"], "BOOKING_CONFIRMED", got)
            self.assertEqual(got["data"], {"orderId": paid["id"], "eventId": event_id})
            self.assertIsNone(got["readAt"])

            # A decline.
            h = hold_ok(self.srv, token, event_id, seats=["A-1-2"])
            key = sandbox_pay(self.srv, h["orderId"], h["amount"], outcome="decline")
            self.assertEqual(confirm(self.srv, token, h["orderId"], key, h["amount"])[0], 402)
            got = next_notification(s)
            self.assertEqual((got["type"], got["data"]["orderId"]),
                             ("PAYMENT_FAILED", h["orderId"]), got)

            # An expiry (the sweeper ends the 1 s hold).
            h = hold_ok(self.srv, token, quick, seats=["A-1-3"])
            got = next_notification(s)
            self.assertEqual((got["type"], got["data"]["orderId"]),
                             ("HOLD_EXPIRED", h["orderId"]), got)

            # A cancellation of the paid order: refunded.
            self.assertStatus(self.srv.call("POST", f"{API}/orders/{paid['id']}/cancel",
                                            {"reason": "cannot come"}, token=token), 200)
            got = next_notification(s)
            self.assertEqual((got["type"], got["data"]["orderId"]),
                             ("BOOKING_CANCELLED", paid["id"]), got)

            # Money captured for an order that cannot be honoured: its hold expired, someone
            # else took the seat, and the browser confirmed at Toss anyway.
            h = hold_ok(self.srv, token, quick, seats=["A-2-1"])
            key = sandbox_pay(self.srv, h["orderId"], h["amount"])
            got = next_notification(s)
            self.assertEqual(got["type"], "HOLD_EXPIRED", got)
            hold_ok(self.srv, self.srv.signup().access_token, quick, seats=["A-2-1"])
            self.assertStatus(sandbox_confirm(self.srv, key, h["orderId"], h["amount"]), 200)
            self.assertStatus(self.srv.call("POST", f"{API}/payments/webhook",
                                            {"eventType": "PAYMENT_STATUS_CHANGED",
                                             "createdAt": "2030-01-01T00:00:00.000000",
                                             "data": {"paymentKey": key, "orderId": h["orderId"],
                                                      "status": "DONE"}}), 200)
            got = next_notification(s)
            self.assertEqual((got["type"], got["data"]["orderId"]),
                             ("ORDER_REFUNDED", h["orderId"]), got)

            # The event is cancelled with a paid order in it.
            second = create_event(self.srv, self.manager.access_token)
            kept = buy(self.srv, token, second, seats=["A-1-1"])
            got = next_notification(s)
            self.assertEqual(got["type"], "BOOKING_CONFIRMED", got)
            self.assertStatus(self.srv.call("PATCH", f"{API}/events/{second}",
                                            {"status": "CANCELLED"},
                                            token=self.manager.access_token), 200)
            got = next_notification(s, timeout=15)
            self.assertEqual((got["type"], got["data"]["orderId"]),
                             ("EVENT_CANCELLED", kept["id"]), got)

        listed = notifications_of(self.srv, token)
        self.assertEqual([n["type"] for n in listed["items"]],
                         ["EVENT_CANCELLED", "BOOKING_CONFIRMED", "ORDER_REFUNDED", "HOLD_EXPIRED",
                          "BOOKING_CANCELLED", "HOLD_EXPIRED", "PAYMENT_FAILED",
                          "BOOKING_CONFIRMED"])
        self.assertEqual(listed["unreadCount"], 8)
        for e in (event_id, quick, second):
            self.assertEqual(audit(self.srv, self.manager.access_token, e)["violations"], [])

    def test_a_reconnecting_client_gets_everything_it_missed_in_order_once(self):
        user = self.srv.signup()
        self.notice_to(user.id, "before the stream")
        self.assertTrue(wait_until(
            lambda: notifications_of(self.srv, user.access_token)["unreadCount"] == 1, 5))
        with stream(self.srv, user.access_token) as s:
            ready = s.next_event()
            self.assertEqual(ready["data"]["unreadCount"], 1)
            self.assertEqual(ready["id"], str(ready["data"]["lastId"]))
            last_id = ready["id"]
            self.notice_to(user.id, "live 1")
            got = next_notification(s)
            self.assertEqual(got["title"], "live 1")
            last_id = str(got["id"])
        # Away: several are made meanwhile.
        titles = [f"missed {i}" for i in range(25)]
        for t in titles:
            self.notice_to(user.id, t)
        self.assertTrue(wait_until(
            lambda: notifications_of(self.srv, user.access_token, "?limit=1")["items"][0]["title"]
            == titles[-1], 5), "the notices were not made")
        with stream(self.srv, user.access_token, last_event_id=last_id) as s:
            ready = s.next_event()
            self.assertEqual((ready["event"], ready["id"]), ("ready", None), ready)
            self.assertEqual(ready["data"]["unreadCount"], 27)
            missed = [next_notification(s) for _ in titles]
            self.assertEqual([n["title"] for n in missed], titles)
            ids = [n["id"] for n in missed]
            self.assertEqual(ids, sorted(ids))
            self.assertGreater(ids[0], int(last_id))
            # Then live, with nothing repeated in between.
            self.notice_to(user.id, "live 2")
            got = next_notification(s)
            self.assertEqual(got["title"], "live 2")
            self.assertGreater(got["id"], ids[-1])
            with self.assertRaises(socket.timeout):
                s.next_event(timeout=0.8)
        # The same from the query parameter (EventSource cannot set the header), and with the
        # token in the URL.
        with sse_stream(self.srv.port, f"{API}/notifications/stream?lastEventId={ids[-3]}"
                        f"&access_token={user.access_token}") as s:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.next_event()["event"], "ready")
            self.assertEqual([next_notification(s)["id"] for _ in range(3)],
                             [ids[-2], ids[-1], got["id"]])
        # From 0: every one of them, the first included.
        with stream(self.srv, user.access_token, last_event_id=0) as s:
            s.next_event()
            everything = [next_notification(s) for _ in range(28)]
            self.assertEqual(everything[0]["title"], "before the stream")
            self.assertEqual(len({n["id"] for n in everything}), 28)

    def test_reconnects_racing_the_dispatcher_miss_nothing_and_repeat_nothing(self):
        """Notices keep coming while the client drops and reopens its stream at random moments,
        each time with the last id it saw: what it collects is exactly the user's list."""
        user = self.srv.signup()
        total = 150

        def send_all():
            for i in range(total):
                self.notice_to(user.id, f"race {i}")
                time.sleep(0.02)

        sender = harness.in_thread(send_all)
        collected = []
        last = None
        rounds = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rounds += 1
            with stream(self.srv, user.access_token, last_event_id=last) as s:
                ready = s.next_event()
                self.assertEqual(ready["event"], "ready", ready)
                if last is None:
                    last = int(ready["id"])
                stop = time.monotonic() + random.uniform(0.02, 0.4)
                while time.monotonic() < stop:
                    try:
                        got = next_notification(s, timeout=max(0.01, stop - time.monotonic()))
                    except socket.timeout:
                        break
                    collected.append(got["id"])
                    last = got["id"]
            if len(collected) >= total:
                break
        sender()
        listed = []
        before = ""
        while True:
            page = notifications_of(self.srv, user.access_token, f"?limit=100{before}")
            listed += [n["id"] for n in page["items"]]
            if page["nextBefore"] is None:
                break
            before = f"&before={page['nextBefore']}"
        self.assertEqual(len(listed), total)
        self.assertEqual(collected, sorted(listed), f"after {rounds} reconnects")
        self.assertGreater(rounds, 5, "the stream was not reopened while notices came")

    def test_an_id_from_elsewhere_is_told_to_start_again(self):
        """A Last-Event-ID beyond any notification ever made (a client of another database)
        would hide the next ones: the stream says `reset` and goes on from now."""
        user = self.srv.signup()
        with stream(self.srv, user.access_token, last_event_id=10**12) as s:
            first = s.next_event()
            self.assertEqual(first["event"], "reset", first)
            self.assertEqual(first["id"], str(first["data"]["lastId"]))
            self.notice_to(user.id, "after the reset")
            self.assertEqual(next_notification(s)["title"], "after the reset")

    def test_two_tabs_both_receive(self):
        user = self.srv.signup()
        with stream(self.srv, user.access_token) as a, stream(self.srv, user.access_token) as b:
            a.next_event()
            b.next_event()
            self.notice_to(user.id, "to both")
            self.assertEqual(next_notification(a)["title"], "to both")
            self.assertEqual(next_notification(b)["title"], "to both")
            # Another user's stream hears nothing of it.
            other = self.srv.signup()
            with stream(self.srv, other.access_token) as c:
                c.next_event()
                self.notice_to(user.id, "again")
                self.assertEqual(next_notification(a)["title"], "again")
                self.assertEqual(next_notification(b)["title"], "again")
                with self.assertRaises(socket.timeout):
                    c.next_event(timeout=0.8)

    def test_a_user_sees_and_changes_only_their_own(self):
        owner, other = self.srv.signup(), self.srv.signup()
        self.notice_to(owner.id, "mine")
        self.assertTrue(wait_until(
            lambda: notifications_of(self.srv, owner.access_token)["items"], 5))
        nid = notifications_of(self.srv, owner.access_token)["items"][0]["id"]
        self.assertEqual(notifications_of(self.srv, other.access_token)["items"], [])
        for method, path in (("POST", f"notifications/{nid}/read"),
                             ("DELETE", f"notifications/{nid}")):
            self.assertProblem(self.srv.call(method, path, token=other.access_token), 404,
                               "NOT_FOUND")
        self.assertStatus(self.srv.call("POST", "notifications/read-all",
                                        token=other.access_token), 204)
        self.assertStatus(self.srv.call("DELETE", "notifications", token=other.access_token), 204)
        mine = notifications_of(self.srv, owner.access_token)
        self.assertEqual((len(mine["items"]), mine["unreadCount"]), (1, 1))
        self.assertIsNone(mine["items"][0]["readAt"])
        # No token, or a bad id.
        self.assertProblem(self.srv.call("GET", "notifications"), 401, "UNAUTHORIZED")
        self.assertProblem(self.srv.call("GET", "notifications/stream"), 401, "UNAUTHORIZED")
        self.assertProblem(self.srv.call("POST", "notifications/abc/read",
                                         token=owner.access_token), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", "notifications/stream",
                                         headers={"Last-Event-ID": "x1"},
                                         token=owner.access_token), 400, "VALIDATION_FAILED",
                           field="lastEventId")

    def test_read_delete_and_the_unread_count(self):
        user = self.srv.signup()
        for i in range(5):
            self.notice_to(user.id, f"n{i}")
        self.assertTrue(wait_until(
            lambda: len(notifications_of(self.srv, user.access_token)["items"]) == 5, 5))
        listed = notifications_of(self.srv, user.access_token, "?limit=2")
        self.assertEqual([n["title"] for n in listed["items"]], ["n4", "n3"])
        self.assertEqual(listed["unreadCount"], 5)
        page2 = notifications_of(self.srv, user.access_token,
                                 f"?limit=2&before={listed['nextBefore']}")
        self.assertEqual([n["title"] for n in page2["items"]], ["n2", "n1"])
        newest = listed["items"][0]["id"]
        self.assertStatus(self.srv.call("POST", f"notifications/{newest}/read",
                                        token=user.access_token), 204)
        unread = notifications_of(self.srv, user.access_token, "?unread=true")
        self.assertEqual([n["title"] for n in unread["items"]], ["n3", "n2", "n1", "n0"])
        self.assertEqual(unread["unreadCount"], 4)
        self.assertIsNotNone(notifications_of(self.srv, user.access_token,
                                              "?limit=1")["items"][0]["readAt"])
        self.assertStatus(self.srv.call("DELETE", f"notifications/{newest}",
                                        token=user.access_token), 204)
        self.assertProblem(self.srv.call("DELETE", f"notifications/{newest}",
                                         token=user.access_token), 404, "NOT_FOUND")
        self.assertStatus(self.srv.call("POST", "notifications/read-all",
                                        token=user.access_token), 204)
        after = notifications_of(self.srv, user.access_token)
        self.assertEqual((len(after["items"]), after["unreadCount"]), (4, 0))
        self.assertStatus(self.srv.call("DELETE", "notifications", token=user.access_token), 204)
        self.assertEqual(notifications_of(self.srv, user.access_token),
                         {"items": [], "unreadCount": 0, "nextBefore": None})
        for query, field in (("?limit=0", "limit"), ("?limit=101", "limit"),
                             ("?unread=maybe", "unread"), ("?before=-2", "before")):
            self.assertProblem(self.srv.call("GET", f"notifications{query}",
                                             token=user.access_token), 400, "VALIDATION_FAILED",
                               field=field)

    def test_who_may_send_a_notice(self):
        other_manager = self.srv.create_user("MANAGER")
        event_id = create_event(self.srv, self.manager.access_token)
        user = self.srv.signup()
        post = lambda body, token: self.srv.call("POST", f"{API}/notifications", body, token=token)
        self.assertProblem(post({"eventId": event_id, "title": "t", "body": "b"},
                                user.access_token), 403, "FORBIDDEN")
        self.assertProblem(post({"eventId": event_id, "title": "t", "body": "b"},
                                other_manager.access_token), 404, "NOT_FOUND")
        self.assertProblem(post({"userId": user.id, "title": "t", "body": "b"},
                                self.manager.access_token), 403, "FORBIDDEN")
        self.assertProblem(post({"userId": 999999, "title": "t", "body": "b"},
                                self.admin.access_token), 404, "NOT_FOUND")
        for body, field in (({"title": "t", "body": "b"}, "userId"),
                            ({"eventId": event_id, "userId": user.id, "title": "t", "body": "b"},
                             "eventId"),
                            ({"eventId": event_id, "body": "b"}, "title"),
                            ({"eventId": event_id, "title": "t", "body": " "}, "body"),
                            ({"eventId": event_id, "title": "x" * 201, "body": "b"}, "title"),
                            ({"eventId": "5", "title": "t", "body": "b"}, "eventId")):
            self.assertProblem(post(body, self.manager.access_token), 400, "VALIDATION_FAILED",
                               field=field)
        receipt = self.assertStatus(post({"eventId": event_id, "title": "t", "body": "b"},
                                         self.manager.access_token), 202)
        self.assertEqual((receipt["eventId"], receipt["userId"], receipt["recipients"]),
                         (event_id, None, 0))
        self.assertGreater(receipt["noticeId"], 0)
        # Nobody holds a ticket yet, so nobody was told, the sender neither.
        time.sleep(0.3)
        self.assertEqual(notifications_of(self.srv, user.access_token)["items"], [])


class retention_test(e2e_case):
    """Read notifications older than notifications.retention_seconds are deleted; unread ones
    stay."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={"TICKETON_NOTIFICATIONS_RETENTION_SECONDS": "2",
                                                 "TICKETON_NOTIFICATIONS_SWEEP_INTERVAL_MS": "200"})
        cls.admin = cls.srv.create_user("ADMIN")

    def test_old_read_notifications_are_swept(self):
        user = self.srv.signup()
        for title in ("keep unread", "read and old"):
            self.assertStatus(self.srv.call("POST", f"{API}/notifications",
                                            {"userId": user.id, "title": title, "body": "b"},
                                            token=self.admin.access_token), 202)
        self.assertTrue(wait_until(
            lambda: len(notifications_of(self.srv, user.access_token)["items"]) == 2, 5))
        newest = notifications_of(self.srv, user.access_token)["items"][0]
        self.assertEqual(newest["title"], "read and old")
        self.assertStatus(self.srv.call("POST", f"notifications/{newest['id']}/read",
                                        token=user.access_token), 204)
        self.assertTrue(wait_until(
            lambda: len(notifications_of(self.srv, user.access_token)["items"]) == 1, 8),
            "the read notification was not swept")
        left = notifications_of(self.srv, user.access_token)
        self.assertEqual([n["title"] for n in left["items"]], ["keep unread"])
        self.assertEqual(left["unreadCount"], 1)


class many_streams:
    """Many SSE streams read by one thread (selectors): each collects its `notification`
    events' data."""

    def __init__(self, port, tokens, sources):
        self.sel = selectors.DefaultSelector()
        self.streams = []
        for i, token in enumerate(tokens):
            sock = socket.create_connection((HOST, port), timeout=10,
                                            source_address=(sources[i], 0))
            sock.sendall(request_bytes("GET", f"{API}/notifications/stream",
                                       {"Accept": "text/event-stream",
                                        "Authorization": f"Bearer {token}"}))
            sock.setblocking(False)
            entry = {"sock": sock, "buf": b"", "events": [], "head": False, "closed": False}
            self.streams.append(entry)
            self.sel.register(sock, selectors.EVENT_READ, entry)

    def pump(self, until, timeout):
        """Reads until `until()` is true or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=0.1):
                entry = key.data
                try:
                    chunk = entry["sock"].recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    entry["closed"] = True
                    self.sel.unregister(entry["sock"])
                    continue
                entry["buf"] += chunk
                if not entry["head"] and b"\r\n\r\n" in entry["buf"]:
                    head, entry["buf"] = entry["buf"].split(b"\r\n\r\n", 1)
                    entry["status"] = int(head.split(b" ", 2)[1])
                    entry["head"] = True
                while entry["head"] and b"\n\n" in entry["buf"]:
                    block, entry["buf"] = entry["buf"].split(b"\n\n", 1)
                    fields = {}
                    for line in block.decode().split("\n"):
                        name, _, value = line.partition(":")
                        fields[name] = value[1:] if value.startswith(" ") else value
                    if "data" in fields:
                        entry["events"].append((fields.get("event"), fields.get("id"),
                                                fields["data"]))

    def close(self):
        for entry in self.streams:
            try:
                entry["sock"].close()
            except OSError:
                pass
        self.sel.close()


class holders_test(e2e_case):
    """2,000 people each buy a ticket of one event; the manager's notice reaches every one of
    them on their open stream, and the dispatcher, killed (kill -9) in the middle of fanning a
    notice out and restarted, still makes exactly one per holder."""

    HOLDERS = 2000

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)
        cls.manager = cls.srv.create_user("MANAGER")
        cls.event_id = create_event(cls.srv, cls.manager.access_token,
                                    layout=ga_layout(capacity=cls.HOLDERS + 10), max_per_user=4)

        def holder(i):
            src = source_of(i)
            status, _, body = call(cls.srv.port, "POST", f"{API}/auth/signup",
                                   {"email": harness.unique_email(f"holder{i}"),
                                    "password": harness.DEFAULT_PASSWORD, "name": f"H{i}"},
                                   source=src)
            if status != 201:
                raise AssertionError(f"signup {status} {body!r}")
            token = body["accessToken"]
            status, _, h = call(cls.srv.port, "POST", f"{API}/events/{cls.event_id}/holds",
                                {"zone": "GA", "quantity": 1}, token=token, source=src)
            if status != 201:
                raise AssertionError(f"hold {status} {h!r}")
            key = sandbox_pay(cls.srv, h["orderId"], h["amount"])
            status, _, order = call(cls.srv.port, "POST", f"{API}/payments/confirm",
                                    {"paymentKey": key, "orderId": h["orderId"],
                                     "amount": h["amount"]}, token=token, source=src,
                                    timeout=20)
            if status != 200 or order["status"] != "PAID":
                raise AssertionError(f"confirm {status} {order!r}")
            return body["user"]["id"], token

        with ThreadPoolExecutor(max_workers=12) as pool:
            cls.holders = list(pool.map(holder, range(cls.HOLDERS)))

    def notice(self, title):
        receipt = self.assertStatus(
            self.srv.call("POST", f"{API}/notifications",
                          {"eventId": self.event_id, "title": title, "body": "Doors open 18:00."},
                          token=self.manager.access_token), 202, "notice")
        self.assertEqual(receipt["recipients"], self.HOLDERS)
        return receipt

    def count_titled(self, token, title):
        items = notifications_of(self.srv, token, "?limit=100")["items"]
        return sum(1 for n in items if n["title"] == title)

    def test_1_a_notice_reaches_all_2000_holders_on_their_streams(self):
        streams = many_streams(self.srv.port, [t for _, t in self.holders],
                               [source_of(i) for i in range(self.HOLDERS)])
        try:
            def ready():
                return all(any(e[0] == "ready" for e in s["events"]) for s in streams.streams)
            streams.pump(ready, 60)
            self.assertTrue(ready(), "not every stream opened")
            for s in streams.streams:
                s["events"].clear()
            started = time.monotonic()
            self.notice("Gate change")

            def heard():
                return all(any(e[0] == "notification" for e in s["events"])
                           for s in streams.streams)
            streams.pump(heard, 60)
            took = time.monotonic() - started
            missing = [i for i, s in enumerate(streams.streams)
                       if not any(e[0] == "notification" for e in s["events"])]
            self.assertEqual(missing, [], f"{len(missing)} holders did not hear in {took:.1f} s")
            for s in streams.streams:
                got = [e for e in s["events"] if e[0] == "notification"]
                self.assertEqual(len(got), 1, got)
                self.assertIn('"title":"Gate change"', got[0][2])
                self.assertTrue(got[0][2].startswith('{"id":' + got[0][1] + ','), got[0])
            print(f"2,000 holders heard the notice {took:.2f} s after it was sent")
        finally:
            streams.close()
        self.assertEqual(audit(self.srv, self.manager.access_token, self.event_id)["violations"],
                         [])

    def test_2_a_dispatcher_killed_mid_fan_out_makes_each_exactly_once(self):
        # Armed: the process dies (as if killed) right after the batch's notifications are made
        # and before any is published; then a real kill -9 lands in the middle of a second
        # notice's pass.
        self.srv.stop()
        self.srv.env["TICKETON_FAILPOINTS"] = "notifications.after_materialize"
        self.srv.start()
        user_id, token = self.holders[7]
        before = notifications_of(self.srv, token)["items"]
        last_seen = before[0]["id"] if before else 0
        call(self.srv.port, "POST", f"{API}/notifications",
             {"eventId": self.event_id, "title": "Crash 1", "body": "b"},
             token=self.manager.access_token)
        self.assertIsNotNone(self.srv.wait(10), "the failpoint did not end the server")
        self.assertEqual(self.srv.returncode, 137)
        del self.srv.env["TICKETON_FAILPOINTS"]
        self.srv.start()
        self.notice("Crash 2")
        time.sleep(0.05)
        self.srv.stop(sig=signal.SIGKILL)
        self.srv.start()
        for title in ("Crash 1", "Crash 2"):
            def all_made(title=title):
                return self.count_titled(self.holders[-1][1], title) == 1
            self.assertTrue(wait_until(all_made, 20), f"{title} was not made after the restart")
        # Every holder has each exactly once: the list, and a stream resent from before.
        def check(holder):
            items = notifications_of(self.srv, holder[1], "?limit=100")["items"]
            return tuple(sum(1 for n in items if n["title"] == t) for t in ("Crash 1", "Crash 2"))
        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(check, self.holders))
        self.assertEqual([i for i, c in enumerate(counts) if c != (1, 1)], [])
        with stream(self.srv, token, last_event_id=last_seen) as s:
            s.next_event()
            resent = [next_notification(s)["title"] for _ in range(2)]
            self.assertEqual(resent, ["Crash 1", "Crash 2"])
            with self.assertRaises(socket.timeout):
                s.next_event(timeout=0.8)
        self.assertEqual(audit(self.srv, self.manager.access_token, self.event_id)["violations"],
                         [])


if __name__ == "__main__":
    unittest.main()
