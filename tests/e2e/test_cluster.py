"""Several nodes over Redis and MariaDB (issue 13, DESIGN.md §4, §8, §9): three api nodes, a queue
node and a dispatcher node (`ticketon serve --roles … --redis … --db mysql://…`), one Toss
sandbox as its own process, all on loopback. The booking and money races spread over every api
node (holds, the per-user cap, a double-clicked confirm with the webhook and the reconciler,
cancel against check-in against a second tab); an on-sale through the waiting room with streams
on other nodes than the joins; a notification made on one node reaching a stream on another; a
ticket checked in on one node used on all; then the failures: an api node killed (kill -9) mid-sale, Redis restarted empty, MariaDB
stopped for 10 s. After each, every api node's audit finds nothing wrong and no paid order lacks
its tickets.

The races, the on-sale and the notification run again over a Redis Cluster of three masters
(`on_a_redis_cluster_test`). Redis and MariaDB are this file's own (in temp dirs, on free loopback ports), since the test
stops and restarts them."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
import test_seat_stream as seat_stream  # its replayer (a module attribute: not run here)
from harness import (API, audit, call, confirm, create_event, e2e_case, free_port, ga_layout,
                     hold, reserved_layout, sandbox_pay, sse_stream, toss_sandbox, wait_until)

JWT_KEYS = "k1:" + "c" * 40
TICKET_KEYS = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"


def source_of(i):
    """The loopback address person `i` connects from."""
    return f"127.0.{1 + i // 200}.{2 + i % 200}"


def _answers(port, timeout=0.5):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class redis_proc:
    """A redis-server of this file's on a free loopback port, without persistence, so that a
    restart comes back empty."""

    def __init__(self, port=None, extra=()):
        self.dir = Path(tempfile.mkdtemp(prefix="ticketon-e2e-redis-"))
        self.port = port or free_port()
        self.proc = None
        self.extra = list(extra)
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        with open(self.dir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.dir), "--protected-mode", "no",
                 *self.extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        if not wait_until(lambda: _answers(self.port), 20):
            raise RuntimeError(f"redis-server did not listen on {self.port}")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart_empty(self):
        self.kill()
        self.start()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def close(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _cluster_port():
    """A free loopback port whose cluster bus port (port + 10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port <= 55535:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class redis_cluster_proc:
    """A Redis Cluster of three masters (no replicas, no persistence) of this file's, on free
    loopback ports; its url is the comma-separated seeds `--redis` takes."""

    def __init__(self):
        self.nodes = []
        try:
            for _ in range(3):
                self.nodes.append(redis_proc(_cluster_port(), [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "2000"]))
            create = subprocess.run(
                ["redis-cli", "--cluster", "create",
                 *[f"127.0.0.1:{n.port}" for n in self.nodes], "--cluster-replicas", "0",
                 "--cluster-yes"], capture_output=True, text=True, timeout=60)
            if create.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create: {create.stdout}{create.stderr}")
            for n in self.nodes:
                if not wait_until(lambda n=n: "cluster_state:ok" in n.cli("CLUSTER", "INFO"), 20):
                    raise RuntimeError(f"cluster node {n.port} never became ok")
        except BaseException:
            self.close()
            raise

    @property
    def url(self):
        return ",".join(n.url for n in self.nodes)

    def cli(self, *args):
        return self.nodes[0].cli("-c", *args)

    def close(self):
        for n in self.nodes:
            n.close()


class mariadb_proc:
    """A MariaDB server of this file's (tkt-mariadb in a temp dir), which `stop_for` stops and
    starts again on the same port and data."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="ticketon-e2e-mariadb-"))
        self.dir = self.root / "server"
        subprocess.run([harness.mariadb_tool(), "start", str(self.dir)], check=True, timeout=180,
                       stdout=subprocess.DEVNULL)
        self.server_url = (self.dir / "url").read_text().strip()
        self.url = self.server_url + "cluster"
        from urllib.parse import urlsplit
        self.port = urlsplit(self.server_url).port
        harness.mariadb_cli(self.server_url, "CREATE DATABASE cluster CHARACTER SET utf8mb4 "
                                             "COLLATE utf8mb4_nopad_bin")

    def query(self, sql):
        """The text of one statement's answer (for a failure's report)."""
        return harness.mariadb_cli(self.server_url, sql, check=False)

    def pid(self):
        return int((self.dir / "mariadbd.pid").read_text().strip())

    def stop_for(self, seconds, during=None):
        """Stops mariadbd (SIGTERM), runs `during()` while it is down, waits out `seconds`, and
        starts it again with the same command line."""
        pid = self.pid()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        stopped_at = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 60, 0.1)
        result = during() if during else None
        left = seconds - (time.monotonic() - stopped_at)
        if left > 0:
            time.sleep(left)
        with open(self.root / "restart.log", "ab") as log:
            # Its own session: it outlives this Popen; tkt-mariadb stops it by its pid file.
            self.restarted = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=log, start_new_session=True)
        # tkt-mariadb stop ends the server named in server.pid.
        (self.dir / "server.pid").write_text(str(self.restarted.pid))
        if not wait_until(lambda: _answers(self.port), 90, 0.2):
            raise RuntimeError("mariadbd did not come back")
        return result

    def close(self):
        subprocess.run([harness.mariadb_tool(), "stop", str(self.dir)], timeout=120,
                       stdout=subprocess.DEVNULL)
        if getattr(self, "restarted", None) is not None:
            self.restarted.wait(60)
        shutil.rmtree(self.root, ignore_errors=True)


class cluster_case(e2e_case):
    """Redis, MariaDB, the Toss sandbox and five nodes, shared by the tests of the class."""

    redis_kind = redis_proc

    @classmethod
    def setUpClass(cls):
        cls.redis = cls.redis_kind()
        cls.addClassCleanup(cls.redis.close)
        cls.db = mariadb_proc()
        cls.addClassCleanup(cls.db.close)
        cls.toss = cls.enterClassContext(toss_sandbox())
        cls.env = {
            "TICKETON_DB_URL": cls.db.url,
            "TICKETON_REDIS_URL": cls.redis.url,
            "TICKETON_PAYMENT_PROVIDER": "toss",
            "TICKETON_PAYMENT_TOSS_BASE_URL": cls.toss.base_url,
            "TICKETON_PAYMENT_TOSS_SECRET_KEY": cls.toss.secret_key,
            "TICKETON_AUTH_JWT_KEYS": JWT_KEYS,
            "TICKETON_BOOKING_TICKET_KEYS": TICKET_KEYS,
            "TICKETON_QUEUE_TICK_MS": "100",
            "TICKETON_NOTIFICATIONS_POLL_MS": "50",
            "TICKETON_DB_POOL_SIZE": "8",
            # The reconciler (on the queue node) looks every 100 ms with no grace, so it races
            # the confirms, webhooks and cancels the api nodes take.
            "TICKETON_BOOKING_FIRST_CHECK_SECONDS": "0",
            "TICKETON_BOOKING_RECONCILE_INTERVAL_MS": "100",
            "TICKETON_LOG_LEVEL": os.environ.get("TICKETON_TEST_LOG_LEVEL", "warn"),
        }
        migrate = harness.run_binary(["migrate", "--db", cls.db.url], env=cls.env, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        cls.api = [cls.node("api") for _ in range(3)]
        cls.queue_node = cls.node("queue")
        cls.dispatcher = cls.node("dispatcher")
        cls.manager = cls.api[0].create_user("MANAGER")

    @classmethod
    def node(cls, role):
        return cls.enterClassContext(harness.server(env=cls.env, args=["--roles", role],
                                                    start_deadline_s=60))

    def run(self, result=None):
        """As unittest's, and a failed test prints what the deployment was doing."""
        count = (lambda r: len(r.failures) + len(r.errors)) if result is not None else None
        before = count(result) if count else 0
        outcome = super().run(result)
        if count and count(result) > before:
            self.report_state()
        return outcome

    def nodes(self):
        return [*self.api, self.queue_node, self.dispatcher]

    def report_state(self):
        """MariaDB's sessions, open transactions and lock waits, the sockets (to map a session
        to its node), every node's threads with TICKETON_TEST_GDB=1, and the end of every node's
        log (TICKETON_TEST_LOG_BYTES, 3000)."""
        try:
            sections = [
                ("MariaDB sessions", self.db.query("SHOW FULL PROCESSLIST")),
                ("open transactions", self.db.query(
                    "SELECT trx_mysql_thread_id, trx_state, trx_started, trx_rows_locked, "
                    "trx_query FROM information_schema.INNODB_TRX")),
                ("lock waits", self.db.query("SELECT * FROM information_schema.INNODB_LOCKS")),
                ("sockets", subprocess.run(["ss", "-tnp"], capture_output=True,
                                           text=True).stdout),
            ]
            if os.environ.get("TICKETON_TEST_GDB"):
                sections += [(f"gdb node {n.port} pid {n.proc.pid}", subprocess.run(
                    ["gdb", "-p", str(n.proc.pid), "-batch", "-ex", "thread apply all bt 40"],
                    capture_output=True, text=True, timeout=120).stdout)
                    for n in self.nodes() if n.running()]
            for title, text in sections:
                sys.stderr.write(f"\n--- {title} ---\n{text}\n")
        except Exception as e:  # the report must not hide the failure
            sys.stderr.write(f"(no database report: {e!r})\n")
        log_bytes = int(os.environ.get("TICKETON_TEST_LOG_BYTES", 3000))
        for n in self.nodes():
            sys.stderr.write(f"\n--- node {n.port} ({' '.join(n.args)}) stderr ---\n"
                             f"{n.stderr_text()[-log_bytes:]}\n")

    # -- helpers ------------------------------------------------------------------------------

    def event(self, layout=None, **kwargs):
        event_id = create_event(self.api[0], self.manager.access_token, layout=layout, **kwargs)
        # Every node knows it (the catalog's news on the bus).
        for n in self.api:
            self.assertTrue(wait_until(
                lambda n=n: n.call("GET", f"{API}/events/{event_id}")[0] == 200, 10),
                f"event {event_id} never reached node {n.port}")
        return event_id

    def people(self, n, start=0):
        out = []
        for i in range(n):
            node = self.api[i % len(self.api)]
            out.append((node.signup().access_token, source_of(start + i)))
        return out

    def buy_on(self, hold_node, confirm_node, token, event_id, source=None, **hold_kwargs):
        """Holds on one node and confirms on another; returns (status, body) of the confirm,
        or of the hold when it was refused."""
        status, _, h = hold(hold_node, token, event_id, **hold_kwargs)
        if status != 201:
            return status, h
        key = sandbox_pay(self.toss, h["orderId"], h["amount"])
        status, _, body = confirm(confirm_node, token, h["orderId"], key, h["amount"])
        return status, body

    def assertBooksClean(self, event_id):
        """Every api node's audit is clean (DESIGN.md §5: no seat twice, sums, limits, every PAID
        order with its tickets, money at Toss) and they agree."""
        reports = []
        for n in self.api:
            if not n.running():
                continue
            report = audit(n, self.manager.access_token, event_id)
            self.assertEqual(report["violations"], [], f"audit on {n.port}: {report!r}")
            self.assertEqual(report["sold"] + report["held"] + report["available"],
                             report["capacity"], report)
            reports.append(report)
        agreed = [{k: r[k] for k in ("sold", "capacity")} for r in reports]
        self.assertTrue(all(a == agreed[0] for a in agreed), agreed)
        # The audit checks that every PAID order has its tickets; the orders list agrees with
        # its count of sales.
        paid = [o for o in self.manager_orders(event_id) if o["status"] == "PAID"]
        sold = sum(len(o["seats"]) if o.get("seats") else o.get("quantity", 0) for o in paid)
        if reports:
            self.assertEqual(sold, reports[0]["sold"], paid)
        return reports[0] if reports else None

    def manager_orders(self, event_id):
        status, _, body = self.api[0].call("GET", f"{API}/manager/events/{event_id}/orders",
                                           token=self.manager.access_token)
        self.assertEqual(status, 200, body)
        return body["items"]

    def race(self, fns):
        """Runs the callables at once (a barrier), returns their results in order."""
        barrier = threading.Barrier(len(fns))
        results = [None] * len(fns)
        errors = []

        def run(i, fn):
            try:
                barrier.wait(timeout=30)
                results[i] = fn()
            except BaseException as e:  # handed to the caller below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i, f), daemon=True)
                   for i, f in enumerate(fns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            self.assertFalse(t.is_alive(), "a racing request did not finish")
        if errors:
            raise errors[0]
        return results


class cluster_test(cluster_case):
    def test_1_thirty_people_on_three_nodes_race_for_four_seats_and_each_is_sold_once(self):
        for round_ in range(3):
            event_id = self.event(layout=reserved_layout(rows=1, seats=4))
            people = self.people(30, start=round_ * 30)

            def attempt(i):
                token, source = people[i]
                seats = [f"A-1-{1 + (i % 3)}", f"A-1-{2 + (i % 3)}"]
                return self.buy_on(self.api[i % 3], self.api[(i + 1) % 3], token, event_id,
                                   seats=seats)

            results = self.race([lambda i=i: attempt(i) for i in range(30)])
            paid = [b for s, b in results if s == 200]
            refused = [b.get("code") for s, b in results if s != 200]
            # Taken seats, or — once two buyers took all four — the event sold out.
            self.assertTrue(set(refused) <= {"SEAT_UNAVAILABLE", "SOLD_OUT"}, refused)
            self.assertGreaterEqual(len(paid), 1)
            self.assertLessEqual(len(paid), 2)
            # Every node shows the same seat map (each computes it from the shared inventory).
            for n in self.api:
                sold = wait_until(lambda n=n: sum(
                    1 for s in harness.seat_statuses(n, event_id).values() if s == "SOLD") ==
                    sum(len(p["seats"]) for p in paid), 5)
                self.assertTrue(sold, f"node {n.port} seat map")
            self.assertBooksClean(event_id)

    def test_2_confirm_cancel_and_webhook_race_on_different_nodes(self):
        event_id = self.event(layout=ga_layout(capacity=40))
        buyers = self.people(12, start=100)
        for round_ in range(3):
            orders = []
            for i, (token, _) in enumerate(buyers):
                status, _, h = hold(self.api[i % 3], token, event_id, zone="GA", quantity=1)
                self.assertEqual(status, 201, h)
                key = sandbox_pay(self.toss, h["orderId"], h["amount"])
                orders.append((token, h, key))

            def pay(i):
                token, h, key = orders[i]
                return confirm(self.api[i % 3], token, h["orderId"], key, h["amount"])[0]

            def hook(i):
                _, h, key = orders[i]
                return self.api[(i + 1) % 3].call(
                    "POST", f"{API}/payments/webhook",
                    {"eventType": "PAYMENT_STATUS_CHANGED",
                     "data": {"paymentKey": key, "orderId": h["orderId"], "status": "DONE"}})[0]

            def cancel(i):
                token, h, _ = orders[i]
                return self.api[(i + 2) % 3].call("POST", f"{API}/orders/{h['orderId']}/cancel",
                                                  {}, token=token)[0]

            fns = []
            for i in range(len(orders)):
                fns += [lambda i=i: pay(i), lambda i=i: hook(i), lambda i=i: cancel(i)]
            self.race(fns)
            # Whatever won, every order settles to a final state the books agree with.
            for token, h, key in orders:
                final = harness.wait_order_status(self.api[0], token, h["orderId"],
                                                  {"PAID", "CANCELLED", "FAILED", "EXPIRED"}, 30)
                self.assertIn(final["status"], {"PAID", "CANCELLED"}, final)
                status = harness.sandbox_status(self.toss, key)
                if final["status"] == "PAID":
                    self.assertEqual(status, "DONE", final)
                else:
                    self.assertIn(status, {"CANCELED", "READY", "ABORTED", "EXPIRED"}, final)
            self.assertBooksClean(event_id)

    def test_3_an_on_sale_through_the_waiting_room_with_streams_on_other_nodes(self):
        event_id = self.event(layout=reserved_layout(rows=3, seats=10),
                              waitingRoom={"enabled": True, "admitPerSecond": 10,
                                           "maxActive": 100, "entryTtlSeconds": 300})
        people = self.people(24, start=200)
        seqs = []
        for i, (token, source) in enumerate(people):
            status, _, body = call(self.api[i % 3].port, "POST", f"{API}/events/{event_id}/queue",
                                   {}, token=token, source=source)
            self.assertEqual(status, 200, body)
            seqs.append(body["seq"])
        self.assertEqual(sorted(seqs), list(range(min(seqs), min(seqs) + 24)), seqs)
        # Each person watches the line on the next node over; the queue node moves the head.
        admitted = [None] * len(people)

        def watch(i):
            token, source = people[i]
            with sse_stream(self.api[(i + 1) % 3].port, f"{API}/events/{event_id}/queue/stream",
                            token=token, source=source, timeout=20) as s:
                self.assertEqual(s.status, 200, s.body)
                events = s.events_until(lambda e: e["event"] == "admitted", 20)
                admitted[i] = (time.monotonic(), events[-1]["data"])

        self.race([lambda i=i: watch(i) for i in range(len(people))])
        for i, a in enumerate(admitted):
            self.assertIsNotNone(a, f"person {i} was never admitted")
            self.assertEqual(a[1]["seq"], seqs[i])
        # FIFO: a later seq is never admitted before an earlier one (allowing the 1 s coalescing).
        by_seq = sorted(admitted, key=lambda a: a[1]["seq"])
        for earlier, later in zip(by_seq, by_seq[1:]):
            self.assertLessEqual(earlier[0], later[0] + 1.5)
        # Each holds on a third node with the entry token; without one, refused.
        for i, (token, source) in enumerate(people):
            node = self.api[(i + 2) % 3]
            entry = {"Queue-Token": admitted[i][1]["entryToken"]}
            status, _, body = call(node.port, "POST", f"{API}/events/{event_id}/holds",
                                   {"seats": [f"A-{1 + i // 10}-{1 + i % 10}"]}, token=token,
                                   source=source, headers=entry)
            self.assertEqual(status, 201, body)
        outsider = self.people(1, start=299)[0]
        status, _, body = call(self.api[1].port, "POST", f"{API}/events/{event_id}/holds",
                               {"seats": ["A-3-10"]}, token=outsider[0], source=outsider[1])
        self.assertEqual(status, 403, body)
        self.assertBooksClean(event_id)

    def test_4_a_notification_reaches_a_stream_on_another_node_and_a_ticket_scans_once(self):
        event_id = self.event(layout=reserved_layout(rows=1, seats=4))
        buyer = self.api[2].signup()
        with sse_stream(self.api[1].port, f"{API}/notifications/stream",
                        token=buyer.access_token, timeout=15) as s:
            self.assertEqual(s.status, 200, s.body)
            self.assertEqual(s.next_event()["event"], "ready")
            status, order = self.buy_on(self.api[0], self.api[2], buyer.access_token, event_id,
                                        seats=["A-1-1"])
            self.assertEqual(status, 200, order)
            got = s.events_until(lambda e: e["event"] == "notification" and
                                 e["data"]["type"] == "BOOKING_CONFIRMED", 15)
            self.assertEqual(got[-1]["data"]["data"]["orderId"], order["id"])
        code = order["tickets"][0]["code"]
        first = self.api[0].call("POST", f"{API}/checkin", {"code": code},
                                 token=self.manager.access_token)
        self.assertEqual(first[0], 200, first[2])
        for n in self.api[1:]:
            again = n.call("POST", f"{API}/checkin", {"code": code},
                           token=self.manager.access_token)
            self.assertProblem(again, 409, "ALREADY_USED")
        self.assertBooksClean(event_id)

    def test_5_an_api_node_killed_mid_sale(self):
        event_id = self.event(layout=ga_layout(capacity=60))
        people = self.people(24, start=300)
        victim = self.api[2]
        stop = threading.Event()
        results = []

        def shop(i):
            token, source = people[i]
            while not stop.is_set():
                node = self.api[i % 3]
                try:
                    results.append(self.buy_on(node, self.api[(i + 1) % 2], token, event_id,
                                               zone="GA", quantity=1))
                except OSError:
                    time.sleep(0.05)  # the killed node: connection refused or reset
                if len([r for r in results if r[0] == 200]) >= 40:
                    return

        threads = [threading.Thread(target=shop, args=(i,), daemon=True) for i in range(24)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(60)
        victim.start()
        self.assertTrue(any(r[0] == 200 for r in results))
        # Holds the dead node made expire or were paid; nothing is left in between.
        self.assertBooksClean(event_id)

    def test_6_redis_restarted_empty_is_rebuilt_from_the_database(self):
        event_id = self.event(layout=reserved_layout(rows=1, seats=6))
        a, b, c = [self.api[i].signup() for i in range(3)]
        status, paid = self.buy_on(self.api[0], self.api[1], a.access_token, event_id,
                                   seats=["A-1-1", "A-1-2"])
        self.assertEqual(status, 200, paid)
        status, _, held = hold(self.api[1], b.access_token, event_id, seats=["A-1-3"])
        self.assertEqual(status, 201, held)
        self.redis.restart_empty()
        # Until the rebuild, a hold is refused (never granted on a seat already sold).
        def rebuilt():
            s, _, body = hold(self.api[2], c.access_token, event_id, seats=["A-1-4"])
            self.assertIn(s, (201, 503), body)
            return s == 201
        self.assertTrue(wait_until(rebuilt, 20, 0.2), "holds never came back after Redis")
        for n in self.api:
            self.assertProblem(hold(n, c.access_token, event_id, seats=["A-1-1"]), 409,
                               "SEAT_UNAVAILABLE")
            self.assertProblem(hold(n, c.access_token, event_id, seats=["A-1-3"]), 409,
                               "SEAT_UNAVAILABLE")
        # The hold made before the loss can still be paid.
        key = sandbox_pay(self.toss, held["orderId"], held["amount"])
        status, _, order = confirm(self.api[2], b.access_token, held["orderId"], key,
                                   held["amount"])
        self.assertEqual(status, 200, order)
        self.assertEqual(order["status"], "PAID")
        self.assertBooksClean(event_id)

    def test_8_one_user_firing_ten_holds_at_three_nodes_gets_exactly_four(self):
        for layout, hold_of in ((reserved_layout(rows=3, seats=4),
                                 lambda i: {"seats": [f"A-{1 + i // 4}-{1 + i % 4}"]}),
                                (ga_layout(capacity=30), lambda i: {"zone": "GA", "quantity": 1})):
            event_id = self.event(layout=layout, max_per_user=4)
            token, source = self.people(1, start=400)[0]
            answers = self.race([
                lambda i=i: call(self.api[i % 3].port, "POST", f"{API}/events/{event_id}/holds",
                                 hold_of(i), token=token, source=source, timeout=30)
                for i in range(10)])
            won = [a for a in answers if a[0] == 201]
            self.assertEqual(len(won), 4, [(a[0], a[2].get("code")) for a in answers])
            for a in answers:
                if a[0] != 201:
                    self.assertProblem(a, 422, "HOLD_LIMIT_EXCEEDED")
            self.assertEqual(self.assertBooksClean(event_id)["held"], 4)

    def test_9_cancel_check_in_and_a_second_tab_race_on_three_nodes(self):
        manager = self.manager.access_token
        for round_ in range(2):
            event_id = self.event(layout=reserved_layout(rows=1, seats=9))
            buyers = self.people(9, start=500 + round_ * 9)
            orders = []
            for i, (token, _) in enumerate(buyers):
                status, order = self.buy_on(self.api[i % 3], self.api[(i + 1) % 3], token,
                                            event_id, seats=[f"A-1-{1 + i}"])
                self.assertEqual(status, 200, order)
                orders.append(order)

            def cancel(i, node):
                token, source = buyers[i]
                return call(self.api[node % 3].port, "POST",
                            f"{API}/orders/{orders[i]['id']}/cancel", {}, token=token,
                            source=source, timeout=30)

            def check_in(i):
                return call(self.api[(i + 1) % 3].port, "POST", f"{API}/checkin",
                            {"code": orders[i]["tickets"][0]["code"]}, token=manager,
                            source="127.0.0.240", timeout=30)

            fns = []
            for i in range(len(orders)):
                fns += [lambda i=i: cancel(i, i), lambda i=i: check_in(i),
                        lambda i=i: cancel(i, i + 2)]
            answers = self.race(fns)
            checked_in = 0
            for i, order in enumerate(orders):
                first, checked, second = answers[3 * i:3 * i + 3]
                cancel_won = any(a[0] in (200, 202) for a in (first, second))
                self.assertNotEqual(cancel_won, checked[0] == 200,
                                    f"order {i}: {first!r} {checked!r} {second!r}")
                for a in (first, checked, second):
                    if a[0] not in (200, 202):
                        self.assertProblem(a, 409, "CONFLICT")
                token, _ = buyers[i]
                final = harness.wait_order_status(self.api[i % 3], token, order["id"],
                                                  {"PAID", "CANCELLED", "REFUNDED"}, 30)
                payment = harness.sandbox_payment(self.toss, order["paymentKey"])[2]
                tickets = [t["status"] for t in final["tickets"]]
                if cancel_won:
                    self.assertIn(final["status"], {"CANCELLED", "REFUNDED"}, final)
                    # Refunded once, whichever node and tab asked.
                    self.assertEqual((payment["status"], payment["sandbox"]["cancelRequests"],
                                      tickets), ("CANCELED", 1, ["VOID"]), final)
                else:
                    checked_in += 1
                    self.assertEqual((final["status"], payment["status"],
                                      payment["sandbox"]["cancelRequests"], tickets),
                                     ("PAID", "DONE", 0, ["USED"]), final)
            self.assertEqual(self.assertBooksClean(event_id)["sold"], checked_in)

    def test_10_a_confirm_clicked_on_three_nodes_with_the_webhook_pays_once(self):
        event_id = self.event(layout=reserved_layout(rows=1, seats=8))
        buyers = self.people(8, start=600)
        pending = []
        for i, (token, source) in enumerate(buyers):
            status, _, h = hold(self.api[i % 3], token, event_id, seats=[f"A-1-{1 + i}"])
            self.assertEqual(status, 201, h)
            pending.append((token, source, h, sandbox_pay(self.toss, h["orderId"], h["amount"])))

        def click(i, node):
            token, source, h, key = pending[i]
            return call(self.api[node % 3].port, "POST", f"{API}/payments/confirm",
                        {"paymentKey": key, "orderId": h["orderId"], "amount": h["amount"]},
                        token=token, source=source, timeout=30)

        def hook(i):
            _, _, h, key = pending[i]
            return self.api[(i + 1) % 3].call(
                "POST", f"{API}/payments/webhook",
                {"eventType": "PAYMENT_STATUS_CHANGED",
                 "data": {"paymentKey": key, "orderId": h["orderId"], "status": "DONE"}})

        fns = []
        for i in range(len(pending)):
            fns += [lambda i=i, n=n: click(i, i + n) for n in range(3)] + [lambda i=i: hook(i)]
        answers = self.race(fns)
        for i, (token, _, h, key) in enumerate(pending):
            clicks = answers[4 * i:4 * i + 3]
            self.assertTrue(any(a[0] == 200 for a in clicks), clicks)
            for a in clicks:
                self.assertIn(a[0], (200, 409), a)
                if a[0] == 200:
                    self.assertEqual(a[2]["status"], "PAID", a)
            final = harness.wait_order_status(self.api[0], token, h["orderId"], {"PAID"}, 30)
            self.assertEqual(len(final["tickets"]), 1, final)
            payment = harness.sandbox_payment(self.toss, key)[2]
            self.assertEqual((payment["status"], payment["sandbox"]["cancelRequests"]),
                             ("DONE", 0), payment)
        self.assertEqual(self.assertBooksClean(event_id)["sold"], len(pending))

    def test_11_holds_and_releases_on_two_nodes_reach_a_seat_stream_on_the_third(self):
        event_id = self.event(layout=reserved_layout(rows=3, seats=10))
        people = self.people(12, start=700)
        first = harness.seat_map(self.api[1], event_id)
        client = seat_stream.replayer(self, first)
        with sse_stream(self.api[1].port, f"{API}/events/{event_id}/seats/stream"
                        f"?since={first['version']}", timeout=30) as s:
            self.assertEqual(s.status, 200, s.body)
            client.apply(s.next_event())

            def churn(i):
                token, source = people[i]
                node = self.api[0 if i % 2 else 2]
                rng = random.Random(i)
                for _ in range(15):
                    seat = rng.choice(list(client.seats))
                    status, _, body = call(node.port, "POST", f"{API}/events/{event_id}/holds",
                                           {"seats": [seat]}, token=token, source=source)
                    if status == 201 and rng.random() < 0.6:
                        call(node.port, "DELETE", f"{API}/holds/{body['holdId']}", token=token,
                             source=source)
                    else:
                        self.assertIn(status, (201, 409, 422), body)

            self.race([lambda i=i: churn(i) for i in range(len(people))])
            final = harness.seat_map(self.api[1], event_id)
            deadline = time.monotonic() + 15
            while client.version < final["version"]:
                self.assertLess(time.monotonic(), deadline, f"stream stuck at {client.version}")
                client.apply(s.next_event(timeout=15))
        self.assertEqual(client.seats, seat_stream.statuses(final))
        # Every node's map is the same (each computes it from the shared inventory).
        for n in (self.api[0], self.api[2]):
            self.assertEqual(seat_stream.statuses(harness.seat_map(n, event_id)),
                             seat_stream.statuses(final))
        held = sum(1 for v in client.seats.values() if v == "HELD")
        self.assertGreater(held, 0)
        self.assertEqual(self.assertBooksClean(event_id)["held"], held)

    def test_0_the_built_in_sandbox_is_refused_with_several_nodes(self):
        env = dict(self.env, TICKETON_PAYMENT_PROVIDER="sandbox")
        with tempfile.TemporaryDirectory() as data:
            proc = harness.run_binary(["serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                                       "--no-demo"], env=env, timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("ticketon toss-sandbox", proc.stderr)

    def test_7_mariadb_stopped_for_ten_seconds(self):
        event_id = self.event(layout=reserved_layout(rows=1, seats=6))
        buyer = self.api[0].signup()
        seat_map_before = harness.seat_map(self.api[1], event_id)

        def during():
            time.sleep(1.0)
            started = time.monotonic()
            s, headers, body = hold(self.api[1], buyer.access_token, event_id, seats=["A-1-5"])
            took = time.monotonic() - started
            served = self.api[2].call("GET", f"{API}/events/{event_id}/seats")
            ready = self.api[0].call("GET", "/readyz")
            return s, body, took, served, ready

        s, body, took, served, ready = self.db.stop_for(10, during)
        self.assertEqual(s, 503, body)
        self.assertEqual(body["code"], "UNAVAILABLE")
        self.assertLess(took, 6.0, "a write waited for the database instead of answering 503")
        self.assertEqual(served[0], 200, "the seat map was not served while MariaDB was down")
        self.assertEqual(served[2]["sections"], seat_map_before["sections"])
        self.assertEqual(ready[0], 503, ready[2])
        # Everything comes back by itself.
        def recovered():
            st, _, h = hold(self.api[1], buyer.access_token, event_id, seats=["A-1-5"])
            return st == 201
        self.assertTrue(wait_until(recovered, 30, 0.5), "holds never came back after MariaDB")
        self.assertEqual(self.api[0].call("GET", "/readyz")[0], 200)
        status, order = self.buy_on(self.api[2], self.api[0], buyer.access_token, event_id,
                                    seats=["A-1-6"])
        self.assertEqual(status, 200, order)
        self.assertBooksClean(event_id)


class on_a_redis_cluster_test(cluster_case):
    """The same deployment over a Redis Cluster of three masters (`--redis` given the seeds):
    the races, the on-sale through the waiting room with streams on other nodes, and a
    notification across nodes. Each event's inventory keys and each room's keys share a slot
    (`{e:N}`, `{q:N}`), so the events of these tests land on different masters."""

    redis_kind = redis_cluster_proc

    test_1_thirty_people_on_three_nodes_race_for_four_seats_and_each_is_sold_once = \
        cluster_test.test_1_thirty_people_on_three_nodes_race_for_four_seats_and_each_is_sold_once
    test_2_confirm_cancel_and_webhook_race_on_different_nodes = \
        cluster_test.test_2_confirm_cancel_and_webhook_race_on_different_nodes
    test_3_an_on_sale_through_the_waiting_room_with_streams_on_other_nodes = \
        cluster_test.test_3_an_on_sale_through_the_waiting_room_with_streams_on_other_nodes
    test_4_a_notification_reaches_a_stream_on_another_node_and_a_ticket_scans_once = \
        cluster_test.test_4_a_notification_reaches_a_stream_on_another_node_and_a_ticket_scans_once

    test_8_one_user_firing_ten_holds_at_three_nodes_gets_exactly_four = \
        cluster_test.test_8_one_user_firing_ten_holds_at_three_nodes_gets_exactly_four
    test_11_holds_and_releases_on_two_nodes_reach_a_seat_stream_on_the_third = \
        cluster_test.test_11_holds_and_releases_on_two_nodes_reach_a_seat_stream_on_the_third

    def test_12_the_events_keys_are_spread_over_the_masters(self):
        events = [self.event(layout=reserved_layout(rows=1, seats=2)) for _ in range(6)]
        masters = set()
        for e in events:
            slot = int(self.redis.nodes[0].cli("CLUSTER", "KEYSLOT", f"{{e:{e}}}:meta"))
            owners = [n.port for n in self.redis.nodes
                      if n.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot)) not in ("", "0")]
            self.assertEqual(len(owners), 1, f"event {e}: slot {slot} on {owners}")
            masters.add(owners[0])
        self.assertGreater(len(masters), 1, "every event's keys on one master")


if __name__ == "__main__":
    unittest.main()
