#!/usr/bin/env python3
"""Queue streams on one node: how many, what each costs in memory, and how fast a head move
reaches all of them (issue 11; docs/benchmarks.md, "Session 7").

    bench/queue_streams.py [--streams 100000] [--hold-seconds 20] [--admit-per-second 1]

One `ticketon serve` (release build, one I/O thread, pinned to core 0, its RLIMIT_NOFILE raised
to 1048576 — or, without CAP_SYS_RESOURCE, to the hard limit, and the stream count capped to
fit —, server.max_connections above the stream count) and the
load program bench/sse_load.cpp (built here with g++ into build/release/bench/, pinned to core 1,
single-threaded). Users are inserted into the database and their tokens minted
(bench/queue_lib.py). One general-admission event with its waiting room on, admitPerSecond 1 by
default, so the head moves about once a second and each move is pushed at once (pushes are at
most one a second per event).

1. `front` users join first (the head passes them during the run; nobody watches them), then a
   probe user, then the stream users (by sse_load, over 64 keep-alive connections).
2. VmRSS of the server once the joins are done and their connections closed, then sse_load opens
   one stream per stream user (each its own user, from 127.0.1.1-127.0.1.k), VmRSS again once
   all are open (each has had its first event written) and once each has been pushed a new
   position: (RSS − RSS before) / streams is the process memory per stream. Kernel socket
   buffers are not in it (/proc/net/sockstat's TCP "mem" is printed beside it).
3. For --hold-seconds, every head move the probe (GET /queue every 5 ms) sees: for each stream,
   the time from the move to the arrival of a position that reflects it; p50/p90/p99/max.
4. The streams close; the server must still be up, ticketon_sse_clients back to 0.
Everything runs on 127.0.0.1 and 127.0.1.x and stops by itself.
"""

import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queue_lib  # noqa: E402

ROOT = queue_lib.ROOT
LOAD_SRC = os.path.join(ROOT, "bench/sse_load.cpp")
LOAD_BIN = os.path.join(ROOT, "build/release/bench/sse_load")


def build_load():
    if os.path.exists(LOAD_BIN) and os.path.getmtime(LOAD_BIN) >= os.path.getmtime(LOAD_SRC):
        return
    os.makedirs(os.path.dirname(LOAD_BIN), exist_ok=True)
    subprocess.run(["g++", "-std=c++23", "-O2", "-Wall", "-Wextra", "-o", LOAD_BIN, LOAD_SRC,
                    "-lpthread"], check=True)


def tcp_mem_kib():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1]) * 4  # pages of 4 KiB
    return 0


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


FILES_WANTED = 1 << 20


def raise_file_limit():
    """In the server's process before exec: as many descriptors as allowed. Raising the hard
    limit needs CAP_SYS_RESOURCE (root usually has it; a container may not)."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_WANTED, FILES_WANTED))
    except (ValueError, OSError):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def file_limit():
    """The descriptors a process started from here can have (see raise_file_limit)."""
    out = subprocess.run([sys.executable, "-c", "import resource, sys; "
                          "sys.path.insert(0, sys.argv[1]); import queue_streams as q; "
                          "q.raise_file_limit(); print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])",
                          os.path.dirname(os.path.abspath(__file__))],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


def sources_for(streams):
    """Loopback source addresses for `streams` connections: one per 20,000 (one address has
    ~28,000 ephemeral ports), at least one."""
    return max(1, (streams + 19_999) // 20_000)


def run_round(r, args, port, pid, event, users_file, probe, probe_seq):
    """One run of sse_load: joins (again: the same seqs), opens every stream, holds them while
    the head moves, closes them. Returns the figures."""
    sources = sources_for(args.streams)
    load = subprocess.Popen(
        ["taskset", "-c", "1", LOAD_BIN, "--port", str(port), "--event", str(event),
         "--users", users_file, "--probe-token", probe, "--probe-seq", str(probe_seq),
         "--sources", str(sources), "--burst", str(args.burst),
         "--hold-seconds", str(args.hold_seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    f = {"moves": [], "peak": 0, "load": os.getloadavg()[0]}

    def sample_peak():
        while load.poll() is None:
            f["peak"] = max(f["peak"], queue_lib.proc_status(pid, "VmRSS"))
            time.sleep(0.5)
    threading.Thread(target=sample_peak, daemon=True).start()
    try:
        for line in load.stdout:
            line = line.rstrip("\n")
            word = line.split(" ", 1)[0]
            if word == "joined":
                n, secs = line.split()[1:3]
                time.sleep(2)  # the join connections close; the journal writes settle
                f["joined"] = (int(n), float(secs))
                f["rss_before"] = queue_lib.proc_status(pid, "VmRSS")
                f["tcp_before"] = tcp_mem_kib()
                print(f"[round {r}] joined {n} stream users in {secs} s; VmRSS "
                      f"{f['rss_before']} kB", flush=True)
                load.stdin.write("go\n")
                load.stdin.flush()
            elif word == "opened":
                n, secs = line.split()[1:3]
                f["opened"] = (int(n), float(secs))
                f["rss_open"] = queue_lib.proc_status(pid, "VmRSS")
                f["tcp_open"] = tcp_mem_kib()
                f["clients"] = metric(port, 'ticketon_sse_clients{kind="queue"}')
                print(f"[round {r}] opened {n} streams in {secs} s; VmRSS {f['rss_open']} kB, "
                      f"ticketon_sse_clients {f['clients']:.0f}", flush=True)
            elif word == "progress":
                f["positions_now"] = int(re.search(r"positions=(\d+)", line).group(1))
            elif word == "pushed":
                f["rss_pushed"] = queue_lib.proc_status(pid, "VmRSS")
                f["cpu_pushed"] = (queue_lib.cpu_seconds(pid), time.monotonic(), f.get("positions_now", 0))
                print(f"[round {r}] every stream has had a new position; VmRSS "
                      f"{f['rss_pushed']} kB", flush=True)
            elif word == "move":
                f["moves"].append(json.loads(line[5:]))
                print(f"[round {r}] {line}", flush=True)
            elif word == "summary":
                f["summary"] = json.loads(line[8:])
                if "cpu_pushed" in f:
                    c0, w0, p0 = f["cpu_pushed"]
                    c1 = queue_lib.cpu_seconds(pid)
                    f["cpu_hold"] = (c1 - c0) / (time.monotonic() - w0)
                    # Server CPU per position delivered while the streams were held (the probe's
                    # 200 polls a second are in it too, a small part).
                    f["cpu_per_position_us"] = (c1 - c0) * 1e6 / max(1, f["summary"]["positions"] - p0)
                print(f"[round {r}] {line}", flush=True)
        load.wait(timeout=120)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    time.sleep(3)
    f["alive"] = queue_lib.proc_status(pid, "VmRSS") > 0
    f["clients_after"] = metric(port, 'ticketon_sse_clients{kind="queue"}')
    f["rss_after"] = queue_lib.proc_status(pid, "VmRSS")
    return f


def report(r, f):
    n = f.get("opened", (0, 0))[0]
    before = f.get("rss_before", 0)
    print(f"round {r} (load average {f['load']:.2f} when it began):")
    if n:
        per_open = (f["rss_open"] - before) / n * 1024
        line = (f"  streams open {n} (in {f['opened'][1]:.1f} s); VmRSS {before} kB before, "
                f"{f['rss_open']} kB open: {per_open:.0f} B per stream")
        if "rss_pushed" in f:
            per_pushed = (f["rss_pushed"] - before) / n * 1024
            line += f"; {f['rss_pushed']} kB once pushed to: {per_pushed:.0f} B per stream"
        print(line)
        print(f"  peak VmRSS {f['peak']} kB; kernel TCP memory {f['tcp_before']} -> "
              f"{f['tcp_open']} kB (not in VmRSS)")
    if "joined" in f:
        print(f"  joins of the stream users (64 connections; set-up, not the join benchmark): "
              f"{f['joined'][0] / f['joined'][1]:.0f} per second")
    if "cpu_hold" in f:
        print(f"  server busy {f['cpu_hold'] * 100:.0f} % of core 0 while holding the streams: "
              f"{f['cpu_per_position_us']:.1f} µs of server CPU per position delivered")
    moves = f["moves"]
    if moves:
        def spread(key):
            v = sorted(m[key] for m in moves)
            return f"{v[0]:.0f}/{v[len(v) // 2]:.0f}/{v[-1]:.0f}"
        print(f"  head moves measured: {len(moves)}; over the moves (min/median/max of the "
              f"per-move figure), ms: first stream {spread('minMs')}, p50 {spread('p50Ms')}, "
              f"p99 {spread('p99Ms')}, last stream {spread('maxMs')}; streams missing a move: "
              f"{sum(m['missing'] for m in moves)}")
        for m in moves:
            m["spreadMs"] = m["maxMs"] - m["minMs"]
        print(f"  fan-out (first stream to last stream of a move), ms: {spread('spreadMs')}")
    s = f.get("summary", {})
    print(f"  streams failed to open {s.get('failed')}, ended early {s.get('endedEarly')}")
    print(f"  3 s after the streams closed: server {'up' if f['alive'] else 'DOWN'}, "
          f"ticketon_sse_clients {f['clients_after']:.0f}, VmRSS {f['rss_after']} kB")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=100_000)
    ap.add_argument("--hold-seconds", type=int, default=20)
    ap.add_argument("--admit-per-second", type=int, default=1)
    ap.add_argument("--front", type=int, default=600, help="users joined ahead of the probe")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--burst", type=int, default=256, help="streams being opened at once")
    args = ap.parse_args()
    if not os.access(queue_lib.BIN, os.X_OK):
        sys.exit("build the release preset first (cmake --build --preset release)")
    build_load()
    limit = file_limit()
    # The server's own descriptors (listener, SQLite files, epoll, timers) and the probe's.
    reserve = 100
    if args.streams > limit - reserve:
        print(f"NOTE: {args.streams} streams asked for, but a process may have only {limit} file "
              f"descriptors here (RLIMIT_NOFILE hard limit; raising it needs CAP_SYS_RESOURCE, "
              f"which this machine does not give): measuring {limit - reserve} streams",
              flush=True)
        args.streams = limit - reserve

    work = tempfile.mkdtemp(prefix="queue-streams-")
    data = os.path.join(work, "data")
    server = load = None
    try:
        t0 = time.time()
        ids = queue_lib.prepare(data, args.front + 1 + args.streams)
        tokens = queue_lib.mint_tokens(ids)
        queue_lib.make_manager(data)
        front, probe, streamers = (tokens[:args.front], tokens[args.front],
                                   tokens[args.front + 1:])
        users_file = os.path.join(work, "stream-users")
        with open(users_file, "w") as f:
            f.write("\n".join(streamers) + "\n")
        print(f"set-up: {len(ids)} users inserted and their tokens minted in "
              f"{time.time() - t0:.1f} s", flush=True)

        server, port = queue_lib.start_server(data, work, args.streams + 10_000,
                                              preexec_fn=raise_file_limit)
        pid = server.pid  # taskset execs the server: same process
        client = queue_lib.api(port)
        manager = queue_lib.manager_token(data, port)
        event = queue_lib.create_queue_event(client, manager, args.admit_per_second,
                                             max_active=1_000_000)
        for t in front:
            client.expect(200, "POST", f"/api/v1/events/{event}/queue", token=t)
        probe_seq = client.expect(200, "POST", f"/api/v1/events/{event}/queue",
                                  token=probe)["seq"]
        rss_start = queue_lib.proc_status(pid, "VmRSS")
        print(f"server pid {pid}, event {event} (admitPerSecond {args.admit_per_second}), "
              f"{args.front} users ahead, probe seq {probe_seq}; VmRSS {rss_start} kB", flush=True)

        rounds = [run_round(r, args, port, pid, event, users_file, probe, probe_seq)
                  for r in range(1, args.rounds + 1)]
        alive = server.poll() is None
        print("\nresult (per round: the same users open their streams again, then close them)")
        for r, f in enumerate(rounds, 1):
            report(r, f)
        return 0 if alive and all(f["alive"] for f in rounds) else 1
    finally:
        for p in (load, server):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
