#!/usr/bin/env python3
"""Notifications from the outbox to connected clients: how many a second, and how long from the
commit of the change to its arrival on the user's stream (issue 12; docs/benchmarks.md,
"Session 8").

    bench/notify_delivery.py [--users 5000] [--bursts 3] [--rate 1000] [--seconds 10]

One `ticketon serve` (release build, one I/O thread, pinned to core 0, the defaults of the
dispatcher: a look at the outbox every 50 ms, the notification hub's 20 ms tick). Users are inserted into
the database and their tokens minted (bench/queue_lib.py); each opens
GET /api/v1/notifications/stream from its own loopback address (127.0.2.x …); one Python thread
on core 1 reads every stream (selectors) and stamps each event when it arrives.

The changes are outbox rows written into the server's SQLite database by this script, as the
sale writes them in its own transactions (the same columns; `data` carries a sequence number so
that each arrival is matched to its commit):
1. bursts: one transaction with one row per user; delay = arrival − commit, per notification;
   rate = rows / (last arrival − commit).
2. steady: --rate rows a second for --seconds, committed in groups of rate/50 every 20 ms, each
   to a user chosen round-robin; delay per notification as above (median, p99, max).
At the end every stream must have received exactly the rows written to its user (none lost,
none twice) — otherwise the run fails.
Everything runs on 127.0.0.1 and 127.0.2.x and stops by itself.
"""

import argparse
import json
import os
import selectors
import socket
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queue_lib  # noqa: E402


def source_of(i):
    return f"127.0.{2 + i // 250}.{1 + i % 250}"


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


class streams:
    def __init__(self, port, tokens):
        self.sel = selectors.DefaultSelector()
        self.entries = []
        for i, token in enumerate(tokens):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                            source_address=(source_of(i), 0))
            sock.sendall((f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: bench\r\n"
                          f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n")
                         .encode())
            sock.setblocking(False)
            e = {"sock": sock, "buf": b"", "head": False, "ready": False, "got": []}
            self.entries.append(e)
            self.sel.register(sock, selectors.EVENT_READ, e)
        self.arrivals = 0

    def pump(self, until, timeout):
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=0.05):
                e = key.data
                chunk = e["sock"].recv(262144)
                now = time.time()
                if not chunk:
                    raise SystemExit("a stream ended: the server dropped it")
                e["buf"] += chunk
                if not e["head"]:
                    if b"\r\n\r\n" not in e["buf"]:
                        continue
                    head, e["buf"] = e["buf"].split(b"\r\n\r\n", 1)
                    if b" 200 " not in head.split(b"\r\n", 1)[0]:
                        raise SystemExit(f"stream refused: {head!r}")
                    e["head"] = True
                while b"\n\n" in e["buf"]:
                    block, e["buf"] = e["buf"].split(b"\n\n", 1)
                    kind, data = None, None
                    for line in block.split(b"\n"):
                        if line.startswith(b"event: "):
                            kind = line[7:]
                        elif line.startswith(b"data: "):
                            data = line[6:]
                    if kind == b"ready":
                        e["ready"] = True
                    elif kind == b"notification":
                        seq = json.loads(data)["data"]["bench"]
                        e["got"].append((seq, now))
                        self.arrivals += 1


def write_rows(db, rows):
    """One transaction of outbox rows [(user_id, seq)]; returns the time after its commit."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with db:
        db.executemany(
            "INSERT INTO outbox (user_id, type, title, body, data_json, created_at) VALUES "
            "(?, 'BOOKING_CONFIRMED', 'Booking confirmed', 'Your 1 ticket(s) are ready.', ?, ?)",
            ((uid, json.dumps({"bench": seq}), stamp) for uid, seq in rows))
    return time.time()


def summary(name, delays_s, rows, span_s):
    ms = [d * 1000 for d in delays_s]
    print(f"{name}: {rows} notifications, delivered {rows / span_s:,.0f}/s over {span_s:.2f} s; "
          f"commit → arrival p50 {pct(ms, 50):.0f} ms, p90 {pct(ms, 90):.0f} ms, "
          f"p99 {pct(ms, 99):.0f} ms, max {max(ms):.0f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--bursts", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="ticketon-notify-bench-") as work:
        data = os.path.join(work, "data")
        os.makedirs(data)
        ids = queue_lib.prepare(data, args.users)
        tokens = queue_lib.mint_tokens(ids)
        server, port = queue_lib.start_server(data, work, args.users + 1000)
        try:
            os.sched_setaffinity(0, {1})
            s = streams(port, tokens)
            s.pump(lambda: all(e["ready"] for e in s.entries), 60)
            if not all(e["ready"] for e in s.entries):
                raise SystemExit("not every stream opened")
            print(f"{args.users} streams open; server pid {server.pid}", flush=True)
            db = sqlite3.connect(os.path.join(data, "ticketon.db"), timeout=10)
            db.execute("PRAGMA busy_timeout = 10000")
            sent = {uid: [] for uid in ids}
            index = {uid: i for i, uid in enumerate(ids)}
            seq = 0
            commits = {}

            for b in range(1, args.bursts + 1):
                rows = []
                for uid in ids:
                    seq += 1
                    rows.append((uid, seq))
                    sent[uid].append(seq)
                start = s.arrivals
                committed = write_rows(db, rows)
                for _, q in rows:
                    commits[q] = committed
                s.pump(lambda: s.arrivals - start >= len(rows), 60)
                delays = [t - commits[q] for e in s.entries for q, t in e["got"]
                          if q > seq - len(rows)]
                last = max(t for e in s.entries for q, t in e["got"] if q > seq - len(rows))
                summary(f"burst {b}", delays, len(rows), last - committed)
                time.sleep(0.5)

            per_tick = max(1, args.rate // 50)
            first_seq = seq + 1
            start_arrivals = s.arrivals
            t_start = time.time()
            next_at = time.monotonic()
            user = 0
            for _ in range(args.seconds * 50):
                rows = []
                for _ in range(per_tick):
                    seq += 1
                    uid = ids[user % len(ids)]
                    user += 1
                    rows.append((uid, seq))
                    sent[uid].append(seq)
                committed = write_rows(db, rows)
                for _, q in rows:
                    commits[q] = committed
                next_at += 0.02
                s.pump(lambda: False, max(0.0, next_at - time.monotonic()))
            total = seq - first_seq + 1
            s.pump(lambda: s.arrivals - start_arrivals >= total, 30)
            delays = [t - commits[q] for e in s.entries for q, t in e["got"] if q >= first_seq]
            summary(f"steady {args.rate}/s", delays, total, time.time() - t_start)

            s.pump(lambda: False, 1.0)  # anything late or repeated
            bad = [uid for uid in ids
                   if [q for q, _ in s.entries[index[uid]]["got"]] != sent[uid]]
            print(f"every stream got exactly its notifications, in order: {not bad} "
                  f"({len(bad)} streams differ)", flush=True)
            rss = [line for line in open(f"/proc/{server.pid}/status")
                   if line.startswith("VmRSS")]
            print(f"server {rss[0].strip()} with {args.users} streams", flush=True)
            if bad:
                raise SystemExit(1)
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
