"""The live seat map (GET /events/{id}/seats/stream, issue 11) against the built binary: a
client that applies the deltas to the snapshot it read equals a fresh snapshot after a race of
many holds and releases from many people; a reconnecting client catches up from Last-Event-ID;
a client without a usable version is told to re-read; general admission streams what is left
per zone; messages are coalesced."""

import random
import signal
import threading
import time
import unittest

import harness
from harness import (API, audit, call, create_event, e2e_case, ga_layout, reserved_layout, seat_map,
                     sse_stream, zone_available)


def source_of(i):
    return f"127.0.{1 + i // 200}.{2 + i % 200}"


def statuses(snapshot):
    out = {}
    for section in snapshot.get("sections", []):
        for row in section["rows"]:
            for seat in row["seats"]:
                out[seat["id"]] = seat["status"]
    return out


class replayer:
    """A client's copy of the map: the snapshot, then every delta applied by the rule
    from ≤ version_held < version."""

    def __init__(self, test, snapshot):
        self.test = test
        self.version = snapshot["version"]
        self.seats = statuses(snapshot)
        self.zones = {z["name"]: z["available"] for z in snapshot.get("zones", [])}

    def apply(self, event):
        self.test.assertEqual(event["event"], "seats", event)
        d = event["data"]
        self.test.assertEqual(event["id"], str(d["version"]))
        if d["version"] <= self.version:
            return  # already covered
        self.test.assertLessEqual(d["from"], self.version, f"a gap before {d}")
        for change in d.get("changes", []):
            self.test.assertIn(change["id"], self.seats)
            self.seats[change["id"]] = change["status"]
        for z in d.get("zones", []):
            self.zones[z["zone"]] = z["available"]
        self.version = d["version"]


class seat_stream_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)
        cls.manager = cls.srv.create_user("MANAGER")

    def stream(self, event_id, query="", headers=None):
        return sse_stream(self.srv.port, f"{API}/events/{event_id}/seats/stream{query}",
                          headers=headers)

    def follow(self, client, s, target_version, timeout=10):
        """Applies events until the client holds `target_version`; returns how many came."""
        n = 0
        deadline = time.monotonic() + timeout
        while client.version < target_version:
            self.assertLess(time.monotonic(), deadline, f"stuck at {client.version}")
            client.apply(s.next_event(timeout=timeout))
            n += 1
        return n

    def churn(self, event_id, people, seats, rounds):
        """Each person holds and releases random seats from their own address, all at once."""
        errors = []

        def run(i):
            token, source = people[i]
            rng = random.Random(i)
            try:
                for _ in range(rounds):
                    seat = rng.choice(seats)
                    status, _, body = call(self.srv.port, "POST",
                                           f"{API}/events/{event_id}/holds", {"seats": [seat]},
                                           token=token, source=source)
                    if status == 201 and rng.random() < 0.6:
                        call(self.srv.port, "DELETE", f"{API}/holds/{body['holdId']}",
                             token=token, source=source)
                    elif status not in (201, 409, 422):
                        errors.append((status, body))
            except Exception as e:  # handed to the test below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(people))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])

    def test_replayed_deltas_equal_a_fresh_snapshot_after_a_race(self):
        event_id = create_event(self.srv, self.manager.access_token,
                                layout=reserved_layout(rows=10, seats=10), max_per_user=4)
        people = [(self.srv.signup().access_token, source_of(i)) for i in range(20)]
        first = seat_map(self.srv, event_id)
        client = replayer(self, first)
        with self.stream(event_id, f"?since={first['version']}") as s:
            self.assertEqual(s.status, 200)
            opening = s.next_event()
            self.assertEqual((opening["event"], opening["data"]["from"]),
                             ("seats", first["version"]), opening)
            client.apply(opening)
            started = time.monotonic()
            racing = threading.Thread(
                target=self.churn, args=(event_id, people, list(client.seats), 25))
            racing.start()
            # A second client joins in the middle of the race, from the first snapshot.
            time.sleep(0.3)
            middle = replayer(self, first)
            with self.stream(event_id, f"?since={first['version']}") as m:
                middle.apply(m.next_event())
                racing.join(120)
                final = seat_map(self.srv, event_id)
                self.follow(middle, m, final["version"])
                self.assertEqual(middle.seats, statuses(final))
            messages = self.follow(client, s, final["version"])
            elapsed = time.monotonic() - started
            self.assertGreater(final["version"], first["version"] + 100)
            self.assertEqual(client.seats, statuses(final))
            self.assertEqual(client.version, final["version"])
            # Coalesced: a few messages a second, not one per hold.
            self.assertLessEqual(messages, elapsed / 0.25 + 3, (messages, elapsed))
        report = audit(self.srv, self.manager.access_token, event_id)
        self.assertEqual(report["violations"], [])
        held = sum(1 for v in statuses(final).values() if v == "HELD")
        self.assertEqual((report["held"], report["sold"]), (held, 0))
        # Someone who read the first snapshot and connects only now catches up in one delta.
        late = replayer(self, first)
        with self.stream(event_id, headers={"Last-Event-ID": str(first["version"])}) as s:
            catch_up = s.next_event()
            self.assertEqual(catch_up["data"]["from"], first["version"])
            late.apply(catch_up)
            self.assertEqual(late.seats, statuses(final))

    def test_a_client_without_a_usable_version_is_told_to_re_read(self):
        event_id = create_event(self.srv, self.manager.access_token)
        version = seat_map(self.srv, event_id)["version"]
        for query in ("", "?since=99999999999999999", "?lastEventId=99999999999999999"):
            with self.stream(event_id, query) as s:
                self.assertEqual(s.status, 200, query)
                e = s.next_event()
                self.assertEqual((e["event"], e["data"]["version"]), ("reset", version), query)
        bad = self.stream(event_id, "?since=soon")
        self.assertEqual((bad.status, bad.body["code"], bad.body["field"]),
                         (400, "VALIDATION_FAILED", "since"))
        draft = create_event(self.srv, self.manager.access_token, status=None)
        self.assertEqual(self.stream(draft).status, 404)
        self.assertEqual(self.stream(987654).status, 404)

    def test_general_admission_streams_what_is_left_per_zone(self):
        event_id = create_event(self.srv, self.manager.access_token,
                                layout=ga_layout(capacity=50, zone="GA"))
        buyer = self.srv.signup().access_token
        first = seat_map(self.srv, event_id)
        client = replayer(self, first)
        with self.stream(event_id, f"?since={first['version']}") as s:
            client.apply(s.next_event())
            status, _, body = call(self.srv.port, "POST", f"{API}/events/{event_id}/holds",
                                   {"zone": "GA", "quantity": 3}, token=buyer)
            self.assertEqual(status, 201, body)
            final = seat_map(self.srv, event_id)
            self.follow(client, s, final["version"])
            self.assertEqual(client.zones["GA"], 47)
            self.assertEqual(zone_available(self.srv, event_id), 47)



class seat_stream_restart_test(e2e_case):
    def test_a_version_from_before_a_restart_brings_the_whole_map(self):
        with harness.server() as srv:
            manager = srv.create_user("MANAGER")
            event_id = create_event(srv, manager.access_token)
            buyer = srv.signup().access_token
            before = seat_map(srv, event_id)
            held = call(srv.port, "POST", f"{API}/events/{event_id}/holds",
                        {"seats": ["A-1-1"]}, token=buyer)
            self.assertEqual(held[0], 201, held[2])
            kept = seat_map(srv, event_id)  # the client's copy: A-1-1 HELD
            srv.restart()
            # The hold survived (its order is on disk); release it while the client is away.
            self.assertEqual(call(srv.port, "DELETE", f"{API}/holds/{held[2]['holdId']}",
                                  token=buyer)[0], 204)
            now = seat_map(srv, event_id)
            self.assertGreater(now["version"], kept["version"])
            client = replayer(self, kept)
            self.assertEqual(client.seats["A-1-1"], "HELD")
            with sse_stream(srv.port, f"{API}/events/{event_id}/seats/stream",
                            headers={"Last-Event-ID": str(kept["version"])}) as s:
                e = s.next_event()
                if e["event"] == "reset":
                    self.assertEqual(e["data"]["version"], now["version"])
                else:
                    client.apply(e)
                    self.assertEqual(client.seats, statuses(now))
                    self.assertEqual(len(e["data"]["changes"]), len(statuses(before)))


    def test_a_shutdown_ends_every_stream_with_a_retry_hint(self):
        with harness.server() as srv:
            manager = srv.create_user("MANAGER")
            event_id = create_event(srv, manager.access_token)
            version = seat_map(srv, event_id)["version"]
            streams = [sse_stream(srv.port, f"{API}/events/{event_id}/seats/stream?since={version}")
                       for _ in range(3)]
            for s in streams:
                self.assertEqual(s.next_event()["event"], "seats")
                s.retry = None
            srv.send_signal(signal.SIGTERM)
            for s in streams:
                with self.assertRaises(EOFError):
                    s.next_event(timeout=5)
                self.assertEqual(s.retry, 3000)  # said again just before the end
                s.close()
            self.assertEqual(srv.wait(10), 0)


if __name__ == "__main__":
    unittest.main()
