#!/usr/bin/env python3
"""`ticketon load onsale` against a distributed deployment on loopback (issue 14;
docs/benchmarks.md, "The on-sale").

    bench/onsale_nodes.py OUT_DIR USERS SEATS [--api-nodes 2] [more `ticketon load` options…]

The deployment: one redis-server (no persistence), one MariaDB (`tkt-mariadb` from the dev build:
innodb_flush_log_at_trx_commit=2, no binlog), one `ticketon toss-sandbox`, and `ticketon serve`
nodes of the release build over them: a queue node (admission tickers, reconciler, sweepers),
a dispatcher node (notifications), and --api-nodes api nodes, which the load generator's users
are spread over (`--target` lists them all; users pay at the standalone sandbox, `--sandbox`).
Each node runs one I/O thread. The load generator signs its users up (password cost `min`), a
manager creates a reserved event of SEATS seats with its waiting room on, and at the end the
audit is read and checked.

Writes OUT_DIR/run.json, run.svg, run.out (the report) and machine.txt (each process's CPU
seconds and peak memory); exits with the load generator's code. Stops everything when it ends.
"""

import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queue_lib  # noqa: E402

SECRET = "test_sk_bench_onsale"


class deployment:
    def __init__(self, work):
        self.work = work
        self.procs = {}
        self.mariadb_dir = None
        self.api_ports = []

    def start(self, api_nodes):
        self.redis_port = queue_lib.free_port()
        self.spawn("redis-server", ["redis-server", "--port", str(self.redis_port), "--bind",
                                    "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                    self.work])
        self.mariadb_dir = os.path.join(self.work, "mariadb")
        subprocess.run([queue_lib.MARIADB_TOOL, "start", self.mariadb_dir], check=True, timeout=180,
                       stdout=subprocess.DEVNULL)
        server_url = open(os.path.join(self.mariadb_dir, "url")).read().strip()
        queue_lib.mysql(server_url, "CREATE DATABASE onsale CHARACTER SET utf8mb4 "
                               "COLLATE utf8mb4_nopad_bin")
        self.toss_port = queue_lib.free_port()
        toss = self.spawn("toss-sandbox", [queue_lib.BIN, "toss-sandbox", "--listen",
                                           f"127.0.0.1:{self.toss_port}"],
                          env=dict(os.environ, TICKETON_PAYMENT_TOSS_SECRET_KEY=SECRET))
        queue_lib.wait_http(self.toss_port, toss, os.path.join(self.work, "toss-sandbox.log"), "/")
        ticket_key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        self.env = dict(os.environ, **queue_lib.SERVER_ENV,
                        TICKETON_DB_URL=server_url + "onsale",
                        TICKETON_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}",
                        TICKETON_PAYMENT_PROVIDER="toss",
                        TICKETON_PAYMENT_TOSS_BASE_URL=f"http://127.0.0.1:{self.toss_port}",
                        TICKETON_PAYMENT_TOSS_SECRET_KEY=SECRET,
                        TICKETON_BOOKING_TICKET_KEYS=ticket_key,
                        TICKETON_DB_POOL_SIZE="8")
        subprocess.run([queue_lib.BIN, "migrate"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([queue_lib.BIN, "user", "create", "--email", "manager@example.com",
                        "--password", "manager-pw-1", "--name", "Manager", "--role", "MANAGER"],
                       env=self.env, check=True, stdout=subprocess.DEVNULL)
        self.node("queue")
        self.node("dispatcher")
        self.api_ports = [self.node("api", f"api-{i + 1}") for i in range(api_nodes)]

    def spawn(self, name, argv, env=None):
        log = os.path.join(self.work, f"{name}.log")
        proc = subprocess.Popen(argv, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def node(self, role, name=None):
        name = name or role
        port = queue_lib.free_port()
        proc = self.spawn(name, [queue_lib.BIN, "serve", "--listen", f"127.0.0.1:{port}",
                                 "--no-demo", "--roles", role, "--data-dir",
                                 os.path.join(self.work, f"data-{name}")], env=self.env)
        queue_lib.wait_http(port, proc, os.path.join(self.work, f"{name}.log"))
        return port

    def pids(self):
        out = {name: p.pid for name, p in self.procs.items()}
        out["mariadbd"] = int(open(os.path.join(self.mariadb_dir, "mariadbd.pid")).read())
        return out

    def close(self):
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if self.mariadb_dir:
            subprocess.run([queue_lib.MARIADB_TOOL, "stop", self.mariadb_dir], timeout=120,
                           stdout=subprocess.DEVNULL)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    out, users, seats, rest = args[0], args[1], args[2], args[3:]
    api_nodes = 2
    if "--api-nodes" in rest:
        i = rest.index("--api-nodes")
        api_nodes = int(rest[i + 1])
        del rest[i:i + 2]
    queue_lib.require(queue_lib.BIN, queue_lib.MARIADB_TOOL, "redis-server")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ticketon-bench-onsale-")
    d = None
    try:
        t0 = time.monotonic()
        d = deployment(work)
        d.start(api_nodes)
        print(f"set-up: redis, mariadb, toss-sandbox, queue and dispatcher nodes, {api_nodes} api "
              f"nodes, in {time.monotonic() - t0:.0f} s", flush=True)
        pids = d.pids()
        before = {name: queue_lib.cpu_seconds(pid) for name, pid in pids.items()}
        targets = ",".join(f"http://127.0.0.1:{p}" for p in d.api_ports)
        t1 = time.monotonic()
        with open(os.path.join(out, "run.out"), "w") as report:
            load = subprocess.run(
                ["/usr/bin/time", "-f", "%e %U %S %M", "-o", os.path.join(work, "load.time"),
                 queue_lib.BIN, "load", "onsale", "--target", targets, "--sandbox",
                 f"http://127.0.0.1:{d.toss_port}", "--users", users, "--seats", seats,
                 "--manager-email", "manager@example.com", "--manager-password", "manager-pw-1",
                 "--json", os.path.join(out, "run.json"), "--chart", os.path.join(out, "run.svg"),
                 *rest], stdout=report, stderr=subprocess.STDOUT)
        wall = time.monotonic() - t1
        lwall, luser, lsys, lrss = open(os.path.join(work, "load.time")).read().split()
        lines = [f"machine: {os.cpu_count()} cores, "
                 f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                 f"{os.uname().release}", f"run: {wall:.1f} s"]
        for name, pid in pids.items():
            lines.append(f"{name}: {queue_lib.cpu_seconds(pid) - before[name]:.0f} CPU s, "
                         f"peak RSS {queue_lib.proc_status(pid, 'VmHWM') // 1024} MiB")
        lines.append(f"load generator: {float(luser) + float(lsys):.0f} CPU s, peak RSS "
                     f"{int(lrss) // 1024} MiB")
        with open(os.path.join(out, "machine.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(open(os.path.join(out, "run.out")).read().split("\r")[-1][-4000:])
        print("\n".join(lines))
        sys.exit(load.returncode)
    finally:
        if d:
            d.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
