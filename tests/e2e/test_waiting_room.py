"""The waiting room (DESIGN.md §6, issue 11) against the built binary: people admitted in the
order they joined, at the configured rate, never more than maxActive at once; the pre-queue
shuffled once at opening with one place each; places kept within the grace period and across a
restart; and every way an entry token can be wrong refused on the hold path. Each person
connects from their own loopback address."""

import base64
import datetime
import json
import random
import threading
import time
import unittest

import harness
from harness import (API, audit, call, create_event, e2e_case, hold, reserved_layout, rfc3339,
                     sse_stream, wait_until)

GRACE_S = 2


def source_of(i):
    """The loopback address person `i` connects from."""
    return f"127.0.{1 + i // 200}.{2 + i % 200}"


def room(admit_per_second=50, max_active=500, entry_ttl_seconds=600):
    return {"waitingRoom": {"enabled": True, "admitPerSecond": admit_per_second,
                            "maxActive": max_active, "entryTtlSeconds": entry_ttl_seconds}}


class queue_case(e2e_case):
    env = {}

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env=cls.env)
        cls.manager = cls.srv.create_user("MANAGER")

    def people(self, n):
        """n people: (access token, loopback address)."""
        return [(self.srv.signup().access_token, source_of(i)) for i in range(n)]

    def event(self, seats=40, status="ON_SALE", **kwargs):
        rows = (seats + 9) // 10
        return create_event(self.srv, self.manager.access_token,
                            layout=reserved_layout(rows=rows, seats=10), status=status, **kwargs)

    def queue(self, person, method, event_id):
        token, source = person
        return call(self.srv.port, method, f"{API}/events/{event_id}/queue",
                    {} if method == "POST" else None, token=token, source=source)

    def join(self, person, event_id):
        status, _, body = self.queue(person, "POST", event_id)
        self.assertEqual(status, 200, body)
        return body

    def look(self, person, event_id):
        status, _, body = self.queue(person, "GET", event_id)
        self.assertEqual(status, 200, body)
        return body

    def hold(self, person, event_id, seat, entry_token=None):
        token, source = person
        headers = {"Queue-Token": entry_token} if entry_token is not None else None
        return call(self.srv.port, "POST", f"{API}/events/{event_id}/holds", {"seats": [seat]},
                    token=token, source=source, headers=headers)

    def report(self, event_id):
        status, _, body = self.srv.call("GET", f"{API}/manager/events/{event_id}/queue",
                                        token=self.manager.access_token)
        self.assertEqual(status, 200, body)
        return body

    def admitted(self, people, event_id):
        """The indices of the people admitted now, and their views (None: not in the room)."""
        views = []
        for p in people:
            status, _, body = self.queue(p, "GET", event_id)
            self.assertIn(status, (200, 404), body)
            views.append(body if status == 200 else None)
        return [i for i, v in enumerate(views) if v and v["status"] == "ADMITTED"], views


class order_and_rate_test(queue_case):
    def test_people_are_admitted_in_the_order_they_joined(self):
        event_id = self.event(**room(admit_per_second=4, max_active=1000))
        people = self.people(12)
        seqs = [self.join(p, event_id)["seq"] for p in people]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        seen_all = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            admitted, views = self.admitted(people, event_id)
            # Whoever is in, everyone who joined before them is in too.
            self.assertEqual(admitted, list(range(len(admitted))), views)
            for v in views:
                if v["status"] == "WAITING":
                    self.assertGreater(v["position"], 0, v)
                    self.assertGreaterEqual(v["etaSeconds"], 1, v)
                else:
                    self.assertEqual(v["position"], 0, v)
                    self.assertIn("entryToken", v)
            if len(admitted) == len(people):
                seen_all = True
                break
            time.sleep(0.1)
        self.assertTrue(seen_all, "not everyone was admitted in 15 s at 4 a second")

    def test_admission_rate_is_within_ten_percent_over_ten_seconds(self):
        rate = 20
        event_id = self.event(**room(admit_per_second=rate, max_active=100000))
        people = self.people(400)
        for p in people:
            self.join(p, event_id)
        last = people[-1]

        def head():
            v = self.look(last, event_id)
            return v["seq"] - v["position"]

        start_head, start = head(), time.monotonic()
        time.sleep(10)
        end_head, end = head(), time.monotonic()
        measured = (end_head - start_head) / (end - start)
        self.assertLess(end_head, 400, "the line ran out during the measurement")
        self.assertAlmostEqual(measured, rate, delta=rate * 0.1,
                               msg=f"{end_head - start_head} admitted in {end - start:.2f} s")
        status, _, text = call(self.srv.port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(f'ticketon_queue_admitted_total{{event="{event_id}"}}', text)
        self.assertIn(f'ticketon_queue_length{{event="{event_id}"}}', text)


class max_active_test(queue_case):
    def test_never_more_than_max_active_and_slots_come_back(self):
        event_id = self.event(**room(admit_per_second=200, max_active=3))
        people = self.people(8)
        for p in people:
            self.join(p, event_id)
        wait_until(lambda: len(self.admitted(people, event_id)[0]) == 3, 5)
        for _ in range(10):  # it stays at three
            admitted, views = self.admitted(people, event_id)
            self.assertEqual(admitted, [0, 1, 2], views)
            time.sleep(0.05)
        # Leaving gives a slot back: the next in line comes in.
        self.assertEqual(self.queue(people[0], "DELETE", event_id)[0], 204)
        self.assertTrue(wait_until(lambda: self.admitted(people, event_id)[0] == [1, 2, 3], 5))
        self.assertIsNone(self.admitted(people, event_id)[1][0])
        # A hold made with the entry and then released gives its slot back too.
        entry = self.look(people[1], event_id)["entryToken"]
        status, _, h = self.hold(people[1], event_id, "A-1-1", entry)
        self.assertEqual(status, 201, h)
        time.sleep(1.2)
        self.assertEqual(self.admitted(people, event_id)[0], [1, 2, 3])  # held: still in
        token, source = people[1]
        self.assertEqual(call(self.srv.port, "DELETE", f"{API}/holds/{h['holdId']}", token=token,
                              source=source)[0], 204)
        self.assertTrue(wait_until(lambda: self.admitted(people[2:], event_id)[0] == [0, 1, 2], 5))
        # And that entry is spent: it takes no second hold.
        self.assertProblem(self.hold(people[1], event_id, "A-1-2", entry), 403,
                           "QUEUE_TOKEN_INVALID")
        self.assertEqual(self.queue(people[1], "GET", event_id)[0], 404)


class pre_queue_test(queue_case):
    def test_the_pre_queue_is_shuffled_at_opening_and_everyone_keeps_one_place(self):
        opens = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
            datetime.timedelta(seconds=4)
        event_id = self.event(status=None, salesOpenAt=rfc3339(opens),
                              **room(admit_per_second=1, max_active=1000))
        changed = self.srv.call("PATCH", f"{API}/events/{event_id}", {"status": "SCHEDULED"},
                                token=self.manager.access_token)
        self.assertEqual(changed[0], 200, changed[2])
        people = self.people(40)
        for p in people:
            view = self.join(p, event_id)
            self.assertEqual((view["status"], view.get("preQueue"), view["seq"], view["position"]),
                             ("WAITING", True, None, None), view)
            self.assertEqual(view["salesOpenAt"], rfc3339(opens))
        self.join(people[5], event_id)  # twice: still one place
        self.assertTrue(wait_until(lambda: self.look(people[0], event_id)["seq"] is not None, 10))
        seqs = [self.look(p, event_id)["seq"] for p in people]
        self.assertEqual(sorted(seqs), list(range(1, 41)), seqs)
        self.assertNotEqual(seqs, list(range(1, 41)), "the pre-queue kept join order")
        # Whoever joins now is behind every early user.
        late = self.people(41)[40]
        self.assertEqual(self.join(late, event_id)["seq"], 41)


class grace_test(queue_case):
    env = {"TICKETON_QUEUE_GRACE_SECONDS": str(GRACE_S)}

    def test_a_rejoin_within_grace_keeps_the_seq_and_after_it_does_not(self):
        event_id = self.event(**room(admit_per_second=1, max_active=1))
        people = self.people(4)
        first = [self.join(p, event_id)["seq"] for p in people]
        time.sleep(GRACE_S / 2)
        self.assertEqual(self.join(people[2], event_id)["seq"], first[2])
        self.look(people[3], event_id)  # polling counts as being there
        time.sleep(GRACE_S / 2 + 0.3)
        self.assertEqual(self.join(people[3], event_id)["seq"], first[3])
        self.assertEqual(self.join(people[2], event_id)["seq"], first[2])
        time.sleep(GRACE_S + 0.5)  # nobody polls: every place that is not admitted lapses
        again = self.join(people[2], event_id)
        self.assertGreater(again["seq"], first[-1], again)


class restart_test(queue_case):
    def test_a_restart_keeps_every_seq_and_the_head(self):
        event_id = self.event(**room(admit_per_second=5, max_active=1000))
        people = self.people(30)
        for p in people:
            self.join(p, event_id)
        time.sleep(1.0)
        before = [self.look(p, event_id) for p in people]
        admitted_before = [i for i, v in enumerate(before) if v["status"] == "ADMITTED"]
        self.assertGreater(len(admitted_before), 0)
        self.srv.restart(env=dict(self.env))
        after = [self.look(p, event_id) for p in people]
        for b, a in zip(before, after):
            self.assertEqual(a["seq"], b["seq"])
            self.assertLessEqual(a["position"], b["position"])
        for i in admitted_before:
            self.assertEqual(after[i]["status"], "ADMITTED", after[i])
            self.assertEqual(after[i]["expiresAt"], before[i]["expiresAt"])
        # Entry tokens handed out before the restart still work.
        i = admitted_before[0]
        status, _, h = self.hold(people[i], event_id, "A-1-1", before[i]["entryToken"])
        self.assertEqual(status, 201, h)
        # The numbering goes on after the last seq.
        newcomer = (self.srv.signup().access_token, source_of(99))
        self.assertEqual(self.join(newcomer, event_id)["seq"], 31)


class entry_token_test(queue_case):
    def entered(self, person, event_id):
        self.join(person, event_id)
        self.assertTrue(wait_until(lambda: self.look(person, event_id)["status"] == "ADMITTED", 5))
        return self.look(person, event_id)["entryToken"]

    def test_every_bad_entry_token_is_refused_and_a_good_one_holds(self):
        event_id = self.event(**room())
        other_event = self.event(**room())
        alice, bob = self.people(2)
        entry = self.entered(alice, event_id)
        other_entry = self.entered(alice, other_event)
        self.entered(bob, event_id)
        self.assertProblem(self.hold(alice, event_id, "A-1-1"), 403, "QUEUE_TOKEN_REQUIRED")
        self.assertProblem(self.hold(alice, event_id, "A-1-1", ""), 403, "QUEUE_TOKEN_REQUIRED")
        self.assertProblem(self.hold(alice, event_id, "A-1-1", other_entry), 403,
                           "QUEUE_TOKEN_INVALID", msg="another event's")
        self.assertProblem(self.hold(bob, event_id, "A-1-1", entry), 403, "QUEUE_TOKEN_INVALID",
                           msg="another user's")
        head, payload, sig = entry.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["seq"] += 1
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        self.assertProblem(self.hold(alice, event_id, "A-1-1", f"{head}.{forged}.{sig}"), 403,
                           "QUEUE_TOKEN_INVALID", msg="tampered")
        self.assertProblem(self.hold(alice, event_id, "A-1-1", "not-a-token"), 403,
                           "QUEUE_TOKEN_INVALID")
        # An access token is not an entry token.
        self.assertProblem(self.hold(alice, event_id, "A-1-1", alice[0]), 403,
                           "QUEUE_TOKEN_INVALID")
        status, _, h = self.hold(alice, event_id, "A-1-1", entry)
        self.assertEqual(status, 201, h)
        # Leaving the queue ends the entry.
        bob_entry = self.look(bob, event_id)["entryToken"]
        self.assertEqual(self.queue(bob, "DELETE", event_id)[0], 204)
        self.assertProblem(self.hold(bob, event_id, "A-1-2", bob_entry), 403,
                           "QUEUE_TOKEN_INVALID", msg="after leaving")

    def test_an_expired_entry_is_refused(self):
        event_id = self.event(**room(entry_ttl_seconds=1))
        (carol,) = self.people(1)
        entry = self.entered(carol, event_id)
        time.sleep(2.1)
        self.assertProblem(self.hold(carol, event_id, "A-1-1", entry), 403, "QUEUE_TOKEN_INVALID")

    def test_without_a_waiting_room_no_token_is_needed(self):
        event_id = self.event()
        (dave,) = self.people(1)
        view = self.join(dave, event_id)
        self.assertEqual((view["status"], view["waitingRoom"]), ("ADMITTED", False), view)
        status, _, h = self.hold(dave, event_id, "A-1-1")
        self.assertEqual(status, 201, h)


class join_errors_test(queue_case):
    def test_what_cannot_be_joined(self):
        (erin,) = self.people(1)
        draft = self.event(status=None, **room())
        self.assertProblem(self.queue(erin, "POST", draft), 404, "NOT_FOUND")
        self.assertProblem(self.queue(erin, "POST", 987654), 404, "NOT_FOUND")
        self.assertProblem(self.queue(erin, "POST", "abc"), 404, "NOT_FOUND")
        closed = self.event(**room())
        self.assertEqual(self.srv.call("PATCH", f"{API}/events/{closed}", {"status": "CLOSED"},
                                       token=self.manager.access_token)[0], 200)
        self.assertProblem(self.queue(erin, "POST", closed), 409, "SALES_NOT_OPEN")
        open_event = self.event(**room())
        self.assertProblem(call(self.srv.port, "POST", f"{API}/events/{open_event}/queue", {}),
                           401, "UNAUTHORIZED")
        self.assertProblem(self.queue(erin, "GET", open_event), 404, "NOT_FOUND")
        self.assertEqual(self.queue(erin, "DELETE", open_event)[0], 204)  # not in it: fine


class race_test(queue_case):
    def test_tabs_leaves_holds_and_the_ticker_racing_leave_the_room_sound(self):
        for _ in range(3):
            self.race_round()

    def race_round(self):
        """Every person joins from two tabs at once while the ticker admits; some leave, some
        hold with their entry and release, some join again — all at once, many rounds. After:
        one seq per person, never more than maxActive admitted, the room's and the inventory's
        invariants clean, before and after a restart."""
        max_active = 6
        event_id = self.event(seats=100, **room(admit_per_second=40, max_active=max_active))
        people = self.people(60)
        seqs = {}
        errors = []
        over = []

        def person(i):
            rng = random.Random(i)
            p = people[i]
            try:
                answers = []
                tabs = [threading.Thread(target=lambda: answers.append(self.queue(p, "POST",
                                                                                  event_id)))
                        for _ in range(2)]
                for t in tabs:
                    t.start()
                for t in tabs:
                    t.join(30)
                got = {a[2]["seq"] for a in answers if a[0] == 200}
                if len(answers) != 2 or len(got) != 1:
                    errors.append(("two tabs", i, answers))
                    return
                seqs[i] = got.pop()
                for _ in range(30):
                    status, _, v = self.queue(p, "GET", event_id)
                    if status == 404:
                        break
                    if v["status"] == "ADMITTED":
                        action = rng.random()
                        if action < 0.4:
                            token, source = p
                            st, _, h = call(self.srv.port, "POST", f"{API}/events/{event_id}/holds",
                                            {"seats": [f"A-{1 + i // 10}-{1 + i % 10}"]},
                                            token=token, source=source,
                                            headers={"Queue-Token": v["entryToken"]})
                            if st == 201:
                                call(self.srv.port, "DELETE", f"{API}/holds/{h['holdId']}",
                                     token=token, source=source)
                            elif st not in (403, 409):
                                errors.append(("hold", i, st, h))
                        elif action < 0.6:
                            self.queue(p, "DELETE", event_id)
                        break
                    if rng.random() < 0.05:
                        self.queue(p, "DELETE", event_id)
                        break
                    time.sleep(0.1)
            except Exception as e:  # handed to the test below
                errors.append(("exception", i, e))

        def watch():
            for _ in range(60):
                r = self.report(event_id)
                if r["active"] > max_active or r["violations"]:
                    over.append(r)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        threads = [threading.Thread(target=person, args=(i,)) for i in range(len(people))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        watcher.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(over, [])
        self.assertEqual(len(set(seqs.values())), len(people), "a seq was given twice")
        report = self.report(event_id)
        self.assertEqual(report["violations"], [])
        self.assertLessEqual(report["active"], max_active)
        self.assertEqual(audit(self.srv, self.manager.access_token, event_id)["violations"], [])
        self.srv.restart(env=dict(self.env))
        after = self.report(event_id)
        self.assertEqual(after["violations"], [])
        self.assertEqual((after["head"], after["lastSeq"]), (report["head"], report["lastSeq"]))
        self.assertLessEqual(after["active"], max_active)

    def test_only_the_events_manager_sees_its_room(self):
        event_id = self.event(**room())
        (someone,) = self.people(1)
        other_manager = self.srv.create_user("MANAGER")
        self.assertEqual(self.queue(someone, "POST", event_id)[0], 200)
        self.assertEqual(self.report(event_id)["waiting"] + self.report(event_id)["active"], 1)
        status, _, body = self.srv.call("GET", f"{API}/manager/events/{event_id}/queue",
                                        token=other_manager.access_token)
        self.assertProblem((status, _, body), 404, "NOT_FOUND")
        status, _, body = self.srv.call("GET", f"{API}/manager/events/{event_id}/queue",
                                        token=someone[0])
        self.assertProblem((status, _, body), 403, "FORBIDDEN")


class stream_test(queue_case):
    env = {"TICKETON_QUEUE_GRACE_SECONDS": str(GRACE_S)}

    def stream(self, person, event_id, in_url=False):
        token, source = person
        if in_url:
            return sse_stream(self.srv.port, f"{API}/events/{event_id}/queue/stream"
                              f"?access_token={token}", source=source)
        return sse_stream(self.srv.port, f"{API}/events/{event_id}/queue/stream", token=token,
                          source=source)

    def test_positions_come_at_most_once_a_second_then_the_entry(self):
        event_id = self.event(**room(admit_per_second=2, max_active=1000))
        people = self.people(6)
        seqs = [self.join(p, event_id)["seq"] for p in people]
        last = people[-1]
        with self.stream(last, event_id, in_url=True) as s:
            self.assertEqual(s.status, 200)
            self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
            first = s.next_event()
            self.assertEqual(first["event"], "position", first)
            self.assertLessEqual(first["data"]["position"], seqs[-1])
            self.assertEqual(s.retry, 3000)
            positions = []
            started = time.monotonic()
            events = s.events_until(lambda e: e["event"] == "admitted", 10)
            elapsed = time.monotonic() - started
            for e in events[:-1]:
                self.assertEqual(e["event"], "position", e)
                positions.append(e["data"]["position"])
            self.assertEqual(positions, sorted(positions, reverse=True), positions)
            self.assertGreater(len(positions), 0)
            # At most one position a second (the line moved every half second).
            self.assertLessEqual(len(positions), int(elapsed) + 1, (positions, elapsed))
            admitted = events[-1]["data"]
            self.assertEqual(admitted["seq"], seqs[-1])
            status, _, h = self.hold(last, event_id, "A-1-1", admitted["entryToken"])
            self.assertEqual(status, 201, h)

    def test_a_pre_queue_stream_learns_its_place_at_opening(self):
        opens = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
            datetime.timedelta(seconds=3)
        event_id = self.event(status=None, salesOpenAt=rfc3339(opens),
                              **room(admit_per_second=1, max_active=1))
        self.assertEqual(self.srv.call("PATCH", f"{API}/events/{event_id}",
                                       {"status": "SCHEDULED"},
                                       token=self.manager.access_token)[0], 200)
        people = self.people(5)
        for p in people:
            self.join(p, event_id)
        with self.stream(people[4], event_id) as s:
            first = s.next_event()
            self.assertEqual(first["data"], {"position": None, "etaSeconds": None,
                                             "preQueue": True})
            # The stream alone keeps the place past the grace while the pre-queue waits.
            e = s.events_until(lambda e: e["event"] == "admitted" or
                               (e["event"] == "position" and e["data"]["position"] is not None),
                               10)[-1]
            seq = self.look(people[4], event_id)["seq"]
            self.assertIn(seq, range(1, 6))
            if e["event"] == "position":
                self.assertGreaterEqual(e["data"]["position"], 0)
                self.assertLessEqual(e["data"]["position"], seq)

    def test_who_may_open_a_queue_stream(self):
        event_id = self.event(**room(admit_per_second=1, max_active=1))
        alice, bob = self.people(2)
        self.join(alice, event_id)
        with self.stream(bob, event_id) as s:  # bob never joined
            self.assertEqual((s.status, s.body["code"]), (404, "NOT_FOUND"))
        anonymous = sse_stream(self.srv.port, f"{API}/events/{event_id}/queue/stream")
        self.assertEqual((anonymous.status, anonymous.body["code"]), (401, "UNAUTHORIZED"))
        junk = sse_stream(self.srv.port, f"{API}/events/{event_id}/queue/stream?access_token=x.y.z")
        self.assertEqual(junk.status, 401)
        # The URL token is for streams only.
        status, _, body = call(self.srv.port, "GET",
                               f"{API}/events/{event_id}/queue?access_token={alice[0]}")
        self.assertProblem((status, _, body), 401, "UNAUTHORIZED")
        with self.stream(alice, event_id) as s:
            self.assertEqual(s.status, 200)
            self.assertIn(s.next_event()["event"], ("position", "admitted"))
            metrics = call(self.srv.port, "GET", "/metrics")[2]
            self.assertIn('ticketon_sse_clients{kind="queue"} 1', metrics)

    def test_an_open_stream_keeps_the_place_and_closing_it_starts_the_grace(self):
        event_id = self.event(**room(admit_per_second=1, max_active=1))
        people = self.people(3)
        seqs = [self.join(p, event_id)["seq"] for p in people]
        with self.stream(people[2], event_id) as s:
            self.assertEqual(s.next_event()["event"], "position")
            time.sleep(GRACE_S + 1.0)  # no polling: only the stream keeps the place
            self.assertEqual(self.look(people[2], event_id)["seq"], seqs[2])
        self.assertEqual(self.queue(people[1], "GET", event_id)[0], 404)  # polled by nobody
        time.sleep(GRACE_S + 1.0)
        self.assertEqual(self.queue(people[2], "GET", event_id)[0], 404)


if __name__ == "__main__":
    unittest.main()
