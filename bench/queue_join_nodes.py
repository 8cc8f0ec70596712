#!/usr/bin/env python3
"""Waiting-room joins per second over Redis and MariaDB: against one api node and against three
(issue 13; docs/benchmarks.md, "Session 11").

    bench/queue_join_nodes.py [--seconds 10] [--connections 48] [--rate-max 15000]

A deployment of its own on loopback: one redis-server (no persistence), one MariaDB
(`tkt-mariadb`, from the dev build: innodb_flush_log_at_trx_commit=2, no binlog), three
`ticketon serve --roles api` nodes and one `--roles queue` node (release build, one I/O thread
each, `--redis` and `--db mysql://`). One general-admission event with its waiting room on,
admitPerSecond 1 and maxActive 1, so the line barely moves while it grows: every join takes a
seq from the room's Redis script and is journaled to MariaDB before it is answered.

Users are inserted into MariaDB directly and their tokens minted with the servers' key
(bench/queue_lib.py), so each request is a distinct user's first join. Each round runs wrk
(bench/queue_join.lua, one thread) at 1 node with all the connections, or at 3 nodes with a
third each (one wrk per node, started together), with users of its own; warm-up, then the two
set-ups interleaved twice. Nothing is pinned: on a small machine the nodes, Redis, MariaDB and wrk
share the cores, so the figure that carries over to bigger machines is each process's CPU per
join (printed per round), and the rate shows whether more nodes over the same Redis room and
database cost anything. Stops everything when it ends.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queue_lib  # noqa: E402

ROOT = queue_lib.ROOT
LUA = os.path.join(ROOT, "bench/queue_join.lua")


class deployment:
    def __init__(self, work, users, api_nodes=3):
        self.work = work
        self.procs = []
        self.mariadb_dir = None
        try:
            self.bring_up(work, users, api_nodes)
        except BaseException:  # nothing started is left running, whatever failed
            self.close()
            raise

    def bring_up(self, work, users, api_nodes):
        # Redis.
        self.redis_port = queue_lib.free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(self.redis)
        # MariaDB.
        self.mariadb_dir = os.path.join(work, "mariadb")
        subprocess.run([queue_lib.MARIADB_TOOL, "start", self.mariadb_dir], check=True, timeout=180,
                       stdout=subprocess.DEVNULL)
        server_url = open(os.path.join(self.mariadb_dir, "url")).read().strip()
        queue_lib.mysql(server_url, "CREATE DATABASE bench CHARACTER SET utf8mb4 "
                               "COLLATE utf8mb4_nopad_bin")
        self.db_url = server_url + "bench"
        self.env = dict(os.environ, **queue_lib.SERVER_ENV, TICKETON_DB_URL=self.db_url,
                        TICKETON_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}",
                        TICKETON_PAYMENT_PROVIDER="toss",
                        TICKETON_PAYMENT_TOSS_BASE_URL="http://127.0.0.1:9",
                        TICKETON_PAYMENT_TOSS_SECRET_KEY="test_sk_bench_unused",
                        TICKETON_DB_POOL_SIZE="16")
        subprocess.run([queue_lib.BIN, "migrate"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([queue_lib.BIN, "user", "create", "--email", "bench-manager@example.com",
                        "--password", "bench-manager-pw", "--name", "Bench Manager", "--role",
                        "MANAGER"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        self.user_ids = self.insert_users(server_url, users)
        self.queue = self.node("queue")
        self.api = [self.node("api") for _ in range(api_nodes)]

    def insert_users(self, server_url, n):
        """n users in 1,000-row INSERTs of one transaction (a password hash no password
        matches), as bench/queue_lib.py does for SQLite; returns their ids."""
        first = 1_000_000
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        parts = ["SET autocommit=0;"]
        for start in range(0, n, 1000):
            rows = ",".join(
                f"({first + i},'bench-user-{first + i}@example.com','Bench {first + i}',"
                f"'!bench-no-password','USER','ACTIVE',0,'{stamp}','{stamp}')"
                for i in range(start, min(n, start + 1000)))
            parts.append("INSERT INTO users (id, email, name, password_hash, role, status, "
                         f"failed_logins, created_at, updated_at) VALUES {rows};")
        parts.append("COMMIT;")
        queue_lib.mysql(self.db_url, "\n".join(parts))
        return list(range(first, first + n))

    def node(self, role):
        port = queue_lib.free_port()
        log = os.path.join(self.work, f"node-{port}.log")
        proc = subprocess.Popen(
            [queue_lib.BIN, "serve", "--listen", f"127.0.0.1:{port}", "--no-demo", "--roles", role,
             "--data-dir", os.path.join(self.work, f"data-{port}")], env=self.env,
            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        queue_lib.wait_http(port, proc, log)
        proc.port = port
        return proc

    def mariadbd_pid(self):
        return int(open(os.path.join(self.mariadb_dir, "mariadbd.pid")).read().strip())

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if self.mariadb_dir is not None:
            subprocess.run([queue_lib.MARIADB_TOOL, "stop", self.mariadb_dir], timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_event_known(ports, event):
    """Until every node has heard of the event (the catalog's news on the bus)."""
    for port in ports:
        c = queue_lib.api(port)
        deadline = time.monotonic() + 15
        while c.call("GET", f"/api/v1/events/{event}")[0] != 200:
            if time.monotonic() > deadline:
                sys.exit(f"node {port} did not learn of event {event}")
            time.sleep(0.1)


def run_wrk(port, connections, seconds, event, tokens_path, out):
    """wrk with bench/queue_join.lua at one node; its figures (key → value) in out."""
    r = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                        "-s", LUA, f"http://127.0.0.1:{port}", "--", str(event), tokens_path],
                       capture_output=True, text=True)
    figures = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("joins", "seconds", "wrapped", "socket_errors",
                                            "latency_p50_ms", "latency_p99_ms"):
            figures[parts[0]] = float(parts[1])
        elif len(parts) == 3 and parts[0] == "failed":
            figures.setdefault("failed", {})[parts[1]] = int(parts[2])
    if "joins" not in figures:
        sys.exit(f"wrk at {port}: {r.stdout}{r.stderr}")
    out.update(figures)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=48)
    ap.add_argument("--rate-max", type=int, default=15000,
                    help="joins per second a round's users are sized for")
    args = ap.parse_args()
    queue_lib.require(queue_lib.BIN, queue_lib.MARIADB_TOOL, "redis-server", "wrk")

    # Rounds: a warm-up at each set-up, then 1, 3, 1, 3 nodes.
    plan = [(1, 2), (3, 2)] + [(n, args.seconds) for n in (1, 3, 1, 3)]
    per_round = [s * args.rate_max for _, s in plan]
    work = tempfile.mkdtemp(prefix="ticketon-bench-nodes-")
    os.chmod(work, 0o755)
    d = None
    try:
        t0 = time.monotonic()
        d = deployment(work, sum(per_round) + 1)
        tokens = queue_lib.mint_tokens(d.user_ids)
        print(f"set-up: redis, mariadb, 3 api nodes and a queue node; {len(tokens)} users "
              f"inserted, tokens minted, in {time.monotonic() - t0:.0f} s")
        client = queue_lib.api(d.api[0].port)
        manager = client.expect(200, "POST", "/api/v1/auth/login",
                                {"email": "bench-manager@example.com",
                                 "password": "bench-manager-pw"})["accessToken"]
        event = queue_lib.create_queue_event(client, manager, 1, 1)
        wait_event_known([n.port for n in d.api], event)

        watched = {"redis-server": d.redis.pid, "mariadbd": d.mariadbd_pid(),
                   "queue node": d.queue.pid}
        watched.update({f"api {i + 1}": p.pid for i, p in enumerate(d.api)})
        rows = []
        offset = 0
        for r, ((nodes, seconds), users) in enumerate(zip(plan, per_round)):
            # This round's users, split between its nodes.
            mine = tokens[offset:offset + users]
            offset += users
            outs, threads = [], []
            per_node = len(mine) // nodes
            for k in range(nodes):
                path = os.path.join(work, f"tokens-{r}-{k}")
                with open(path, "w") as f:
                    f.write("\n".join(mine[k * per_node:(k + 1) * per_node]) + "\n")
                out = {}
                outs.append(out)
                threads.append(threading.Thread(target=run_wrk, args=(
                    d.api[k].port, args.connections // nodes, seconds, event, path, out)))
            before = {name: queue_lib.cpu_seconds(pid) for name, pid in watched.items()}
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
            cpu = {name: queue_lib.cpu_seconds(pid) - before[name] for name, pid in watched.items()}
            joins = sum(o["joins"] for o in outs)
            if any(o.get("wrapped", 0) for o in outs):
                sys.exit(f"round {r} ran out of users: raise --rate-max")
            failed = {}
            for o in outs:
                for status, count in o.get("failed", {}).items():
                    failed[status] = failed.get(status, 0) + count
            rate = sum(o["joins"] / o["seconds"] for o in outs)
            if r < 2:
                continue
            rows.append((nodes, rate, joins, cpu, wall, failed,
                         max(o["latency_p99_ms"] for o in outs)))

        print(f"\nqueue joins by distinct users, one event's room, wrk -t1 "
              f"-c{args.connections} in all (split over the nodes), {args.seconds} s rounds")
        for nodes, rate, joins, cpu, wall, failed, p99 in rows:
            api = sum(v for k, v in cpu.items() if k.startswith("api"))
            print(f"  {nodes} api node{'s' if nodes > 1 else ' '}  {rate:8.0f} joins/s   "
                  f"p99 {p99:6.1f} ms   CPU per join: api nodes {api / joins * 1e6:5.1f} µs, "
                  f"redis {cpu['redis-server'] / joins * 1e6:4.1f} µs, mariadbd "
                  f"{cpu['mariadbd'] / joins * 1e6:5.1f} µs, queue node "
                  f"{cpu['queue node'] / joins * 1e6:4.1f} µs; machine busy "
                  f"{sum(cpu.values()) / wall * 100:3.0f}% of a core without wrk"
                  f"{'; non-200: ' + repr(failed) if failed else ''}")
        one = [r[1] for r in rows if r[0] == 1]
        three = [r[1] for r in rows if r[0] == 3]
        print(f"  3 nodes / 1 node: {sum(three) / len(three) / (sum(one) / len(one)):.2f}x "
              f"(on {os.cpu_count()} cores shared by everything)")
        # Every answered join is journaled (wrk's stop may cut answers after the commit).
        answered = sum(r[2] for r in rows)
        print(f"  answered 200 in the measured rounds: {answered:.0f}")
    finally:
        if d is not None:
            d.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
