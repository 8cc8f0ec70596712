#!/usr/bin/env python3
"""Queue streams spread over api nodes: 100,000 on one machine, what each costs in memory, and how
fast a head move reaches all of them (issue 11; docs/benchmarks.md, "Queue streams on one node").

    bench/queue_streams_nodes.py [--streams 100000] [--nodes N] [--hold-seconds 20]

One process may hold only RLIMIT_NOFILE sockets, and without CAP_SYS_RESOURCE that is the hard
limit (20,000 here), so bench/queue_streams.py stops at 19,900 streams on one node. This script
spreads the streams over N `ticketon serve --roles api` nodes instead (default: as few as keep
each at or under --per-node-max, 17,000, which is 6 for 100,000), with one load process per node.

The deployment is bench/queue_join_nodes.py's (imported): one redis-server (no persistence), one
MariaDB (`tkt-mariadb` of the dev build, else the asan build's), a `--roles queue` node moving
the heads, the users inserted into MariaDB and their tokens minted (bench/queue_lib.py); here
with N api nodes for the streams (server.max_connections above their share) and one more api node
that carries no stream, for the probe. Release build, one I/O thread each, nothing pinned: the
nodes, Redis, MariaDB and the load processes share the machine's cores. One general-admission
event with its waiting room on and admitPerSecond 1 (--admit-per-second), so the queue node
moves the head about once a second, publishes it on the Redis bus, and every api node pushes
each of its streams a new position (at most one a second per event).

1. --front users join first (the head passes them during the run; nobody watches them), then the
   probe user, then the stream users: one bench/sse_load.cpp process per api node joins that
   node's share (64 keep-alive connections) and waits.
2. Once every share has joined, each api node's VmRSS ("before"); then every load process opens
   one stream per user at its node, from loopback source addresses of its own (127.0.k.1… for
   node k), and each node's VmRSS is read again when all of its streams are open (each has had
   its first event written) and when each has been pushed a new position. Process memory per
   stream = the sum over the nodes of (VmRSS − VmRSS before) / all streams. Kernel socket
   buffers are not in it: /proc/net/sockstat's TCP "mem" is printed beside it.
3. The head moves, measured once for every stream: one probe, an sse_load process of its own
   with no streams, polls GET /api/v1/events/{id}/queue for the probe user every 5 ms at the api
   node that has no streams. The room's head lives in Redis and every node's GET /queue reads it
   there (one script), so that one probe sees the queue node's move for all nodes, and its
   answers are not delayed by a node busy writing the move to its own streams, nor by a load
   process busy reading them. A move's time is the probe's previous answer (the earliest the move
   can have happened; the figure errs long by up to one poll, printed as "poll"). Each stream's
   load process writes, for every head its streams heard of, when each stream first had a
   position reflecting it (CLOCK_MONOTONIC, one clock for every process of the machine), and
   this script merges them: for each move during the --hold-seconds after every stream was open
   (and at least 3 s before the end), the delay from the move to each stream's position over ALL
   the streams of all the nodes: first, p50, p99, last.
4. Where the CPU goes during the hold: utime + stime of every process the script started
   (/proc/PID/stat, all threads; the PIDs checked to be the servers themselves, mariadbd's from
   its pid file), read when every stream is open and again when the streams are told to stop.
   One line per kind: the api nodes with streams (sum, then each), the probe node, the queue
   node, redis-server, mariadbd, the sse_load processes of the streams (sum), the probe's
   sse_load, and all of them: CPU seconds in the window, the share of the machine's cores
   (cpu s / (window s × os.cpu_count())), and for the api nodes and the sse_load processes µs of
   CPU per position delivered in the window (every position the load processes read in it,
   counted from their samples, each stream's first position reflecting a head counting once;
   the count over the measured moves alone is printed beside it). Then how busy the whole
   machine was over the window (/proc/stat, all cores, nice included): whether it was saturated.
5. The streams close. Exits non-zero unless every stream user joined, every stream opened, none
   ended early or missed a measured move, every node (api, probe, queue) is still up, and each
   reports ticketon_sse_clients{kind="queue"} 0 three seconds after the streams closed.

Everything listens on 127.0.0.1 (the load's sources are 127.0.x.y) and stops by itself, also on
an error or Ctrl-C. Smaller runs: `--streams 3000 --nodes 2 --hold-seconds 6`.
"""

import argparse
import collections
import concurrent.futures
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queue_join_nodes  # noqa: E402
import queue_lib  # noqa: E402
import queue_streams  # noqa: E402

# A node's descriptors besides its streams (listener, database pool, Redis, log), and the load
# process's (its join connections).
FILES_RESERVED = 500
QUEUE_METRIC = 'ticketon_sse_clients{kind="queue"}'


class deployment(queue_join_nodes.deployment):
    """queue_join_nodes' deployment (redis-server, MariaDB, the users, a queue node) with
    `api_nodes` api nodes taking `max_connections` each, and one more api node for the probe."""

    def __init__(self, work, users, api_nodes, max_connections):
        # No api nodes from the base: ours need the settings below first.
        super().__init__(work, users, api_nodes=0)
        try:
            self.env.update(TICKETON_SERVER_MAX_CONNECTIONS=str(max_connections),
                            TICKETON_DB_POOL_SIZE="8")
            self.api = [self.node("api") for _ in range(api_nodes)]
            self.probe_node = self.node("api")
        except BaseException:
            self.close()
            raise

    def nodes(self):
        """(name, process) of every ticketon node."""
        return ([(f"api {k + 1}", p) for k, p in enumerate(self.api)] +
                [("probe node", self.probe_node), ("queue node", self.queue)])


class load_process:
    """One sse_load and what it said so far (a thread reads it; `cv` guards `f`)."""

    def __init__(self, name, argv, node, cv):
        self.name, self.node, self.cv = name, node, cv
        self.f = {}
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            word, _, rest = line.rstrip("\n").partition(" ")
            news = self.figures(word, rest)  # outside the lock: it may ask the node
            with self.cv:
                self.f.update(news)
                self.cv.notify_all()
        with self.cv:
            self.f["exited"] = True
            self.cv.notify_all()

    def figures(self, word, rest):
        """What a line of sse_load's tells, with the node's memory at that moment."""
        if word == "joined":
            n, secs = rest.split()
            return {"joined": (int(n), float(secs))}
        if word == "opened" and self.node is not None:
            n, secs = rest.split()
            return {"opened": (int(n), float(secs)),
                    "rss_open": queue_lib.proc_status(self.node.pid, "VmRSS"),
                    "clients_open": queue_streams.metric(self.node.port, QUEUE_METRIC)}
        if word == "progress":
            return {"progress": {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}}
        if word == "pushed":
            news = {"pushed": int(rest)}
            if self.node is not None:
                news["rss_pushed"] = queue_lib.proc_status(self.node.pid, "VmRSS")
            return news
        if word == "summary":
            return {"summary": json.loads(rest)}
        return {}

    def done_opening(self):
        """Every stream open or given up on (the "opened" line comes only when none failed)."""
        p, joined = self.f.get("progress"), self.f.get("joined")
        return "opened" in self.f or (p is not None and joined is not None and
                                      p["opened"] + p["failed"] >= joined[0])

    def say(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # it ended; its exit is reported

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def wait_for(cv, loads, what, pred, timeout):
    """Waits until pred() (under cv); exits when a load process ended first or time is up."""
    with cv:
        ok = cv.wait_for(lambda: pred() or any(ld.f.get("exited") for ld in loads), timeout)
        ended = [ld.name for ld in loads if ld.f.get("exited")]
        if ended and not pred():
            sys.exit(f"load process {', '.join(ended)} ended while waiting for {what}")
    if not ok:
        sys.exit(f"timed out after {timeout:.0f} s waiting for {what}")


def join_all(port, event, tokens, connections=8):
    """Joins the room for each token, over `connections` keep-alive connections."""
    def run(chunk):
        c = queue_lib.api(port)
        for t in chunk:
            c.expect(200, "POST", f"/api/v1/events/{event}/queue", token=t)
    with concurrent.futures.ThreadPoolExecutor(connections) as ex:
        list(ex.map(run, [tokens[i::connections] for i in range(connections)]))


def read_samples(path):
    """sse_load's --samples file: (probe moves, (all-open µs, h0, streams), {head: line})."""
    probe, opened, heads = [], None, {}
    if not os.path.exists(path):
        return probe, opened, heads
    with open(path) as f:
        for line in f:
            kind, rest = line.split(" ", 1)
            if kind == "probe":
                probe.append(tuple(map(int, rest.split())))
            elif kind == "open":
                opened = tuple(map(int, rest.split()))
            elif kind == "head":
                head, rest = rest.split(" ", 1)
                heads[int(head)] = rest  # "<missing> <t>…", read when a move needs it
    return probe, opened, heads


def share_delays(head, since_us, opened, heads):
    """One load process's share: the sorted delays in µs from the move at since_us to each of its
    streams' first position reflecting `head`, and how many streams had none. A head no stream
    of the share heard of is answered by the next one it heard of (see sse_load.cpp)."""
    answer = min((h for h in heads if h >= head), default=None)
    if answer is None:
        return [], opened[2]
    fields = heads[answer].split()
    return sorted(max(0, int(t) - since_us) for t in fields[1:]), int(fields[0])


def spread_ms(delays):
    """first, p50, p99 and last of sorted delays in µs, in ms (as sse_load's percentiles)."""
    if not delays:
        return {}
    def pct(q):
        return delays[min(len(delays) - 1, int(q * len(delays)))] / 1e3
    return {"first": delays[0] / 1e3, "p50": pct(0.5), "p99": pct(0.99), "last": delays[-1] / 1e3}


def measure_moves(probe_moves, shares, stop_us):
    """A row per move the probe saw after every stream of every node was open and at least 3 s
    before the streams were told to stop: its figures over all the streams, and per share."""
    all_open_us = max(opened[0] for _, opened, _ in shares)
    rows = []
    for head, since_us, seen_us in probe_moves:
        if since_us < all_open_us or seen_us + 3_000_000 > stop_us:
            continue
        per_share = [share_delays(head, since_us, opened, heads) for _, opened, heads in shares]
        delays = sorted(d for share, _ in per_share for d in share)
        rows.append({"head": head, "at": (since_us - all_open_us) / 1e6,
                     "poll": (seen_us - since_us) / 1e3, "streams": len(delays),
                     "missing": sum(m for _, m in per_share), **spread_ms(delays),
                     "shares": [spread_ms(share) for share, _ in per_share],
                     "counts": [len(share) for share, _ in per_share]})
    return rows


def node_up(port):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        return True
    except OSError:
        return False


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def checked(name, pid, program):
    """`pid`, once /proc/PID/comm shows it runs `program` (every process here is started
    directly, none through a wrapper); exits otherwise."""
    want = os.path.basename(program)[:15]  # the kernel keeps 15 characters of the name
    try:
        if comm(pid) == want:
            return pid
    except OSError:
        pass
    sys.exit(f"{name}: pid {pid} is not a running {want}")


def watched(d, loads, probe):
    """(kind, name, pid) of every process of the deployment and of the load."""
    node, load = queue_lib.BIN, queue_streams.LOAD_BIN
    return ([("api", ld.name, checked(ld.name, ld.node.pid, node)) for ld in loads] +
            [("probe node", "probe node", checked("probe node", d.probe_node.pid, node)),
             ("queue node", "queue node", checked("queue node", d.queue.pid, node)),
             ("redis-server", "redis-server", checked("redis-server", d.redis.pid, "redis-server")),
             ("mariadbd", "mariadbd", checked("mariadbd", d.mariadbd_pid(), "mariadbd"))] +
            [("sse_load", ld.name, checked(f"load {ld.name}", ld.proc.pid, load))
             for ld in loads] +
            [("probe sse_load", "probe", checked("probe load", probe.proc.pid, load))])


def machine_ticks():
    """(busy, all) clock ticks of every core so far (/proc/stat's "cpu" line: user nice system
    idle iowait irq softirq steal; guest time is in user and nice already)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def cpu_snapshot(procs):
    """CPU seconds so far of each watched process (None once it ended), the machine's ticks,
    and when (CLOCK_MONOTONIC µs, the samples' clock)."""
    cpu = {}
    for kind, name, pid in procs:
        try:
            cpu[kind, name] = queue_lib.cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            cpu[kind, name] = None
    return {"us": time.monotonic_ns() // 1000, "cpu": cpu, "ticks": machine_ticks()}


def positions_read(heads, t0_us, t1_us):
    """How many positions one load process's streams read between t0 and t1, from its samples'
    head lines. A line lists, per stream, when it first read a position at or past that head;
    a stream that skipped head H (two moves pushed as one) lists its next position under H and
    under the next listed head alike, so each time a line shares with the next one counts once.
    Positions read before every stream was open whose head is older than any heard of by then
    are not in the samples (only the first moments of the window, if any)."""
    total, previous = 0, collections.Counter()
    for head in sorted(heads):
        times = collections.Counter(
            t for t in map(int, heads[head].split()[1:]) if t0_us <= t <= t1_us)
        total += sum(times.values()) - sum((times & previous).values())
        previous = times
    return total


def start_loads(args, d, event, users, probe, probe_seq, work, cv):
    """One sse_load per api node with its share of the stream users, and the probe's."""
    loads = []
    for k, (node, tokens) in enumerate(zip(d.api, users)):
        path = os.path.join(work, f"stream-users-{k + 1}")
        with open(path, "w") as f:
            f.write("\n".join(tokens) + "\n")
        argv = [queue_streams.LOAD_BIN, "--port", str(node.port), "--event", str(event),
                "--users", path, "--sources", str(queue_streams.sources_for(len(tokens))),
                "--source-net", str(k + 1), "--burst", str(args.burst),
                "--hold-until-stdin", "1", "--samples", os.path.join(work, f"samples-{k + 1}")]
        loads.append(load_process(f"api {k + 1}", argv, node, cv))
    nobody = os.path.join(work, "no-users")
    open(nobody, "w").close()
    argv = [queue_streams.LOAD_BIN, "--port", str(d.probe_node.port), "--event", str(event),
            "--users", nobody, "--probe-token", probe, "--probe-seq", str(probe_seq),
            "--hold-until-stdin", "1", "--samples", os.path.join(work, "samples-probe")]
    return loads, load_process("probe", argv, None, cv)


def run(args, d, event, probe, probe_seq, tokens, work):
    """Joins, opens, holds and closes the streams; returns the figures."""
    cv = threading.Condition()
    n = len(tokens)
    size = math.ceil(n / args.nodes)
    loads, probe = start_loads(args, d, event, [tokens[i:i + size] for i in range(0, n, size)],
                               probe, probe_seq, work, cv)
    g = {"loads": loads, "probe": probe, "tcp": {}}
    try:
        everyone = loads + [probe]
        slow = 60 + n / 200  # seconds a phase may take before the run is called stuck
        t0 = time.monotonic()
        wait_for(cv, everyone, "the joins", lambda: all("joined" in ld.f for ld in everyone), slow)
        print(f"joined {sum(ld.f['joined'][0] for ld in loads)} stream users in "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        time.sleep(2)  # the join connections close; the journal writes settle
        g["procs"] = watched(d, loads, probe)
        for ld in loads:
            ld.f["rss_before"] = queue_lib.proc_status(ld.node.pid, "VmRSS")
        g["tcp"]["before"] = queue_streams.tcp_mem_kib()
        for ld in [probe] + loads:
            ld.say("go")
        t0 = time.monotonic()
        wait_for(cv, everyone, "the streams to open",
                 lambda: all(ld.done_opening() for ld in loads), slow)
        g["open_s"], hold_end = time.monotonic() - t0, time.monotonic() + args.hold_seconds
        g["cpu"] = [cpu_snapshot(g["procs"])]  # the window: from here to the stop
        g["tcp"]["open"] = queue_streams.tcp_mem_kib()
        print(f"every stream open or failed in {g['open_s']:.1f} s; holding {args.hold_seconds} s",
              flush=True)
        try:
            wait_for(cv, everyone, "a new position at every stream",
                     lambda: all("pushed" in ld.f for ld in loads), max(1, args.hold_seconds))
            g["tcp"]["pushed"] = queue_streams.tcp_mem_kib()
        except SystemExit as e:
            print(f"NOTE: {e}", flush=True)  # the missing positions show in the moves
        time.sleep(max(0.0, hold_end - time.monotonic()))
        g["cpu"].append(cpu_snapshot(g["procs"]))
        g["stop_us"] = time.monotonic_ns() // 1000
        for ld in everyone:
            ld.say("stop")
        for ld in everyone:
            try:
                ld.proc.wait(120)  # it writes its figures and closes its streams
            except subprocess.TimeoutExpired:
                sys.exit(f"load process {ld.name} did not end")
        with cv:  # its last lines read
            cv.wait_for(lambda: all(ld.f.get("exited") for ld in everyone), 10)
    finally:
        for ld in loads + [probe]:
            ld.stop()
    time.sleep(3)
    g["nodes"] = [(name, p.poll() is None and node_up(p.port),
                   queue_streams.metric(p.port, QUEUE_METRIC) if p.poll() is None else None)
                  for name, p in d.nodes()]
    samples = [read_samples(os.path.join(work, f"samples-{k + 1}")) for k in range(len(loads))]
    g["probe_moves"] = read_samples(os.path.join(work, "samples-probe"))[0]
    g["shares"] = [(ld.name, opened, heads) for ld, (_, opened, heads) in zip(loads, samples)
                   if opened is not None]
    g["no_samples"] = [ld.name for ld, (_, opened, _) in zip(loads, samples) if opened is None]
    return g


def count(v):
    return "n/a" if v is None else f"{v:,.0f}"


def kib(v):
    return "n/a" if v is None else f"{v:,.0f} kB"


def report_memory(loads, tcp):
    print(f"  {'node':8} {'streams':>8} {'failed':>6} {'VmRSS before':>13} {'open':>13} "
          f"{'per stream':>10} {'pushed':>13} {'per stream':>10} {'sse clients':>11}")
    total = {"n": 0, "failed": 0, "open": 0, "pushed": 0, "pushed_n": 0}
    for ld in loads:
        s, f = ld.f.get("summary", {}), ld.f
        n, before = s.get("opened", 0), f.get("rss_before", 0)
        d_open = f["rss_open"] - before if "rss_open" in f else None
        d_pushed = f["rss_pushed"] - before if "rss_pushed" in f else None
        print(f"  {ld.name:8} {n:8,} {s.get('failed', 0):6} {kib(before):>13} "
              f"{kib(f.get('rss_open')):>13} "
              f"{'' if d_open is None or not n else f'{d_open * 1024 / n:,.0f} B':>10} "
              f"{kib(f.get('rss_pushed')):>13} "
              f"{'' if d_pushed is None or not n else f'{d_pushed * 1024 / n:,.0f} B':>10} "
              f"{count(f.get('clients_open')):>11}")
        total["n"] += n
        total["failed"] += s.get("failed", 0)
        total["open"] += d_open or 0
        if d_pushed is not None:
            total["pushed"] += d_pushed
            total["pushed_n"] += 1
    n = max(1, total["n"])
    pushed = (f"{total['pushed'] * 1024 / n:,.0f} B per stream"
              if total["pushed_n"] == len(loads) else "not every node was pushed to")
    print(f"  total    {total['n']:8,} {total['failed']:6}   RSS growth with the streams open "
          f"{total['open']:,} kB: {total['open'] * 1024 / n:,.0f} B per stream; once pushed to "
          f"{total['pushed']:,} kB: {pushed}")
    print(f"  kernel TCP memory (/proc/net/sockstat mem, not in VmRSS): before "
          f"{kib(tcp.get('before'))}, open {kib(tcp.get('open'))}, pushed "
          f"{kib(tcp.get('pushed'))}")
    return total


def report_moves(rows, streams, names):
    print(f"  head moves measured: {len(rows)}; delay from the move (the probe's previous answer) "
          f"to a position reflecting it, over all {streams:,} streams, ms:")
    print(f"  {'head':>6} {'at s':>6} {'poll':>5} {'streams':>8} {'missing':>7} {'first':>7} "
          f"{'p50':>7} {'p99':>7} {'last':>7}")
    for r in rows:
        figures = "".join(f" {r[k]:7.1f}" for k in ("first", "p50", "p99", "last") if k in r)
        print(f"  {r['head']:6} {r['at']:6.1f} {r['poll']:5.1f} {r['streams']:8,} "
              f"{r['missing']:7,}{figures}")
    def spread(key, figures):
        v = sorted(f[key] for f in figures)
        return f"{v[0]:.0f}/{v[len(v) // 2]:.0f}/{v[-1]:.0f}"
    timed = [r for r in rows if "last" in r]
    if not timed:
        return
    for r in timed:
        r["fanout"] = r["last"] - r["first"]
    print(f"  over the moves (min/median/max), ms: first {spread('first', timed)}, p50 "
          f"{spread('p50', timed)}, p99 {spread('p99', timed)}, last {spread('last', timed)}; "
          f"fan-out (last − first) {spread('fanout', timed)}")
    for k, name in enumerate(names):  # each node pushes in a once-a-second slot of its own
        mine = [r["shares"][k] for r in timed if r["shares"][k]]
        if mine:
            print(f"    streams of {name} alone: first {spread('first', mine)}, p50 "
                  f"{spread('p50', mine)}, p99 {spread('p99', mine)}, last {spread('last', mine)}")


def report_cpu(g, rows):
    """The CPU lines of the hold (see the top)."""
    if len(g.get("cpu", ())) < 2:
        print("  CPU over the hold: n/a (the hold did not run to its end)")
        return
    a, b = g["cpu"]
    window_s, cores = (b["us"] - a["us"]) / 1e6, os.cpu_count()
    spent = {k: None if a["cpu"][k] is None or b["cpu"][k] is None else b["cpu"][k] - a["cpu"][k]
             for k in a["cpu"]}
    # Positions per load process (= per api node): every one read in the window, if every load
    # process left samples; else the streams that heard of each measured move.
    names = [ld.name for ld in g["loads"]]
    if not g["no_samples"]:
        basis = "every position the load processes read in the window, from their samples"
        pos = {name: positions_read(heads, a["us"], b["us"]) for name, _, heads in g["shares"]}
        other = (f"; over the {len(rows)} measured moves alone (streams that heard of each): "
                 f"{sum(r['streams'] for r in rows):,}")
        positions = sum(pos.values())
    else:
        basis = (f"not every load process left samples: the streams that heard of each of the "
                 f"{len(rows)} measured moves")
        pos = {name: sum(r["counts"][k] for r in rows) for k, (name, _, _) in
               enumerate(g["shares"])}
        other = ""
        positions = None  # some node's share is unknown: per node only
    print(f"  CPU over the hold, {window_s:.1f} s from every stream open to the stop (utime + "
          f"stime, /proc/PID/stat; share = cpu s / ({window_s:.1f} s × {cores} cores));")
    print(f"  positions delivered in it {count(positions)}: {basis}{other}")
    print(f"    {'process':22} {'cpu s':>7} {'share':>6} {'µs/position':>11}")

    def line(label, keys, n=None):
        v = [spent[k] for k in keys]
        if not keys or any(x is None for x in v):
            print(f"    {label:22} {'n/a (ended)':>14}")
            return
        cpu = sum(v)
        per = f"{cpu / n * 1e6:,.1f}" if n else ""
        print(f"    {label:22} {cpu:7.2f} {cpu / (window_s * cores) * 100:5.1f}% {per:>11}")

    line(f"api nodes ({len(names)}, sum)", [("api", n) for n in names], positions)
    for name in names:
        line(f"  {name}", [("api", name)], pos.get(name))
    for kind in ("probe node", "queue node", "redis-server", "mariadbd"):
        line(kind, [(kind, kind)])
    line(f"sse_load ({len(names)}, sum)", [("sse_load", n) for n in names], positions)
    line("probe sse_load", [("probe sse_load", "probe")])
    line("all of the above", list(spent))
    busy = b["ticks"][0] - a["ticks"][0], b["ticks"][1] - a["ticks"][1]
    print(f"  machine busy over the window (/proc/stat, all {cores} cores, nice included): "
          f"{busy[0] / max(1, busy[1]) * 100:.0f}% (what the processes above did not use went "
          f"to the kernel's own work and to other programs)")


def report(args, g):
    """Prints the figures; returns the failed checks."""
    loads = g["loads"]
    print(f"\nresult: {args.streams:,} queue streams over {args.nodes} api nodes (+ a probe node, "
          f"a queue node, redis, mariadb), opened in {g.get('open_s', 0):.1f} s, held "
          f"{args.hold_seconds} s (load average {os.getloadavg()[0]:.2f})")
    total = report_memory(loads, g["tcp"])
    rows = measure_moves(g["probe_moves"], g["shares"], g["stop_us"]) if g["shares"] else []
    report_moves(rows, total["n"], [name for name, _, _ in g["shares"]])
    report_cpu(g, rows)
    summaries = [ld.f.get("summary", {}) for ld in loads]
    counts = {k: sum(s.get(k, 0) for s in summaries) for k in
              ("joinFailed", "failed", "endedEarly", "admitted")}
    print(f"  stream users that failed to join {counts['joinFailed']}, streams failed to open "
          f"{counts['failed']}, ended early {counts['endedEarly']}, admitted {counts['admitted']}")
    print("  3 s after the streams closed: " + ", ".join(
        f"{name} {'up' if up else 'DOWN'} (sse clients {'n/a' if c is None else f'{c:.0f}'})"
        for name, up, c in g["nodes"]))
    failed = [f"{k} {v}" for k, v in counts.items() if v]
    failed += [f"no samples from load {name}" for name in g["no_samples"]]
    if total["n"] != args.streams:
        failed.append(f"{total['n']} streams open, not {args.streams}")
    if not rows:
        failed.append("no head move measured")
    if any(r["missing"] for r in rows):
        failed.append(f"{sum(r['missing'] for r in rows)} (stream, move) pairs missed")
    failed += [f"{name} down" for name, up, _ in g["nodes"] if not up]
    failed += [f"{name} still counts {c:.0f} sse clients" for name, up, c in g["nodes"]
               if up and c]
    failed += [f"{name} has no {QUEUE_METRIC}" for name, up, c in g["nodes"] if up and c is None]
    failed += [f"load {ld.name} exited {ld.proc.returncode}" for ld in loads + [g["probe"]]
               if ld.proc.returncode]
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=100_000)
    ap.add_argument("--nodes", type=int, help="api nodes for the streams (default: as few as "
                    "keep each at or under --per-node-max)")
    ap.add_argument("--per-node-max", type=int, default=17_000)
    ap.add_argument("--hold-seconds", type=int, default=20)
    ap.add_argument("--admit-per-second", type=int, default=1)
    ap.add_argument("--front", type=int, default=1200, help="users joined ahead of the probe "
                    "(the head must not reach the probe during the run: 1,200 s at 1 a second)")
    ap.add_argument("--burst", type=int, default=256, help="streams being opened at once, per "
                    "load process")
    args = ap.parse_args()
    args.nodes = args.nodes or math.ceil(args.streams / args.per_node_max)
    per_node = math.ceil(args.streams / args.nodes)
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if per_node > files - FILES_RESERVED:
        sys.exit(f"{per_node} streams per node, but a process may have only {files} descriptors "
                 f"here: use more --nodes")
    queue_lib.require(queue_lib.BIN, queue_lib.MARIADB_TOOL, "redis-server", "mariadb")
    queue_streams.build_load()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop everything, as on Ctrl-C
    # A user without an open stream loses their place after the grace (300 s by default): the
    # probe and the stream users before their streams open must not, however long a big run's
    # set-up takes. The queue node, which sweeps, is started by the base class from os.environ.
    os.environ["TICKETON_QUEUE_GRACE_SECONDS"] = "86400"
    work = tempfile.mkdtemp(prefix="ticketon-bench-streams-nodes-")
    os.chmod(work, 0o755)
    d = None
    try:
        t0 = time.monotonic()
        d = deployment(work, args.front + 1 + args.streams, args.nodes,
                       min(per_node + 1000, files - 64))
        tokens = queue_lib.mint_tokens(d.user_ids)
        print(f"set-up: redis, mariadb, a queue node, {args.nodes} api nodes and a probe node; "
              f"{len(tokens)} users inserted, tokens minted, in {time.monotonic() - t0:.0f} s",
              flush=True)
        client = queue_lib.api(d.api[0].port)
        manager = queue_lib.manager_token(None, d.api[0].port)
        event = queue_lib.create_queue_event(client, manager, args.admit_per_second, 1_000_000)
        queue_join_nodes.wait_event_known(
            [p.port for _, p in d.nodes() if p is not d.queue], event)
        join_all(d.probe_node.port, event, tokens[:args.front])
        probe = tokens[args.front]
        probe_seq = queue_lib.api(d.probe_node.port).expect(
            200, "POST", f"/api/v1/events/{event}/queue", token=probe)["seq"]
        print(f"event {event} (admitPerSecond {args.admit_per_second}): {args.front} users "
              f"ahead, probe seq {probe_seq}; {per_node} streams per node at most", flush=True)
        g = run(args, d, event, probe, probe_seq, tokens[args.front + 1:], work)
        failed = report(args, g)
        print("checks: " + ("all passed" if not failed else "FAILED: " + "; ".join(failed)))
        return 1 if failed else 0
    finally:
        if d is not None:
            d.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
