"""Set-up shared by the waiting-room benchmarks (bench/queue_streams.py, bench/queue_join.sh).

Many users, quickly: signing up 100,000 people through POST /auth/signup costs an Argon2 hash
each, which is set-up, not what is measured. So the users are inserted straight into the users
table of a freshly migrated SQLite file before the server starts (`ticketon migrate`, then one
transaction of INSERTs with a password hash no password matches: nobody can log in as them), and
their access tokens are minted here with the signing key the server is given through
TICKETON_AUTH_JWT_KEYS — the same HS256 envelope src/auth/jwt.cpp signs ({alg, typ, kid};
{sub, role, iat, exp, iss}). The server checks such a token exactly as one it issued: signature,
expiry, issuer, then the account row (active, role), which is there.

Run as a program it does the set-up for the shell scripts:
    python3 bench/queue_lib.py prepare <data-dir> <users> <tokens-file>
prints the first user id; the tokens file gets one access token per line, user by user.
    python3 bench/queue_lib.py event <port> <manager-token> <admitPerSecond> <maxActive>
creates a general-admission event on sale with its waiting room on and prints its id.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TICKETON_BENCH_BIN runs another build (an A/B of two binaries in one session).
BIN = os.environ.get("TICKETON_BENCH_BIN") or os.path.join(ROOT, "build/release/src/ticketon")
# The key the benchmark servers sign and verify with (kid "bench"); at least 32 bytes.
JWT_KID = "bench"
JWT_SECRET = "bench-secret-not-for-production-0123456789"
ISSUER = "ticketon"
TOKEN_TTL_S = 4 * 3600

# The environment every waiting-room benchmark server runs with (as bench/lib.sh's, plus the
# key above): one I/O thread, quiet logs, cheap password hashing for the manager's login.
SERVER_ENV = {
    "TICKETON_SERVER_THREADS": "1",
    "TICKETON_LOG_LEVEL": "warn",
    "TICKETON_AUTH_PASSWORD_COST": "min",
    "TICKETON_RATE_LIMIT_AUTH_PER_MINUTE": "1000000",
    "TICKETON_RATE_LIMIT_AUTH_BURST": "1000000",
    "TICKETON_AUTH_ACCESS_TTL_SECONDS": str(TOKEN_TTL_S),
    "TICKETON_AUTH_JWT_KEYS": f"{JWT_KID}:{JWT_SECRET}",
}


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(o):
    return json.dumps(o, separators=(",", ":")).encode()


def mint_tokens(user_ids, role="USER"):
    """Access tokens for the given user ids, as the server signs them."""
    now = int(time.time())
    head = _b64(_compact({"alg": "HS256", "typ": "JWT", "kid": JWT_KID}))
    key = JWT_SECRET.encode()
    out = []
    for uid in user_ids:
        body = _b64(_compact({"sub": str(uid), "role": role, "iat": now,
                              "exp": now + TOKEN_TTL_S, "iss": ISSUER}))
        signing_input = f"{head}.{body}".encode()
        mac = hmac.new(key, signing_input, hashlib.sha256).digest()
        out.append(f"{head}.{body}.{_b64(mac)}")
    return out


def prepare(data_dir, users):
    """Migrates a new database in data_dir and inserts `users` users; returns their ids."""
    env = dict(os.environ, **SERVER_ENV)
    subprocess.run([BIN, "migrate", "--data-dir", data_dir], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    db = sqlite3.connect(os.path.join(data_dir, "ticketon.db"))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with db:
        first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()[0]
        db.executemany(
            "INSERT INTO users (id, email, name, password_hash, role, status, failed_logins, "
            "created_at, updated_at) VALUES (?, ?, ?, '!bench-no-password', 'USER', 'ACTIVE', 0, "
            "?, ?)",
            ((first + i, f"bench-user-{first + i}@example.com", f"Bench {first + i}", stamp, stamp)
             for i in range(users)))
    db.close()
    return list(range(first, first + users))


def cpu_seconds(pid):
    """CPU time (user + system) process `pid` used so far, all its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The dev build's MariaDB helper (tests/support/tkt-mariadb): starts and stops a throwaway
# mariadbd; the deployments of bench/queue_join_nodes.py, bench/onsale_nodes.py and
# bench/queue_streams_nodes.py use it. Without a dev build, the asan build's (the same program).
MARIADB_TOOL = os.environ.get("TICKETON_MARIADB_TOOL") or next(
    (p for p in (os.path.join(ROOT, f"build/{preset}/tests/support/tkt-mariadb")
                 for preset in ("dev", "asan")) if os.access(p, os.X_OK)),
    os.path.join(ROOT, "build/dev/tests/support/tkt-mariadb"))


def require(*programs):
    """Exits with a hint unless every program (a path, or a name on PATH) can be run."""
    for p in programs:
        if not (os.access(p, os.X_OK) if os.sep in p else shutil.which(p)):
            sys.exit(f"{p} is missing: build the release preset (ticketon) and the dev preset "
                     "(tkt-mariadb); scripts/bootstrap --bench installs redis-server and wrk")


def wait_http(port, proc, log, path="/readyz"):
    """Waits until 127.0.0.1:port answers `path` (any HTTP status); exits with the log's tail
    when `proc` ends first or a minute passes."""
    for _ in range(1200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    sys.exit(f"process on {port} did not come up:\n{open(log).read()[-3000:]}")


def mysql(url, sql):
    """Runs `sql` through the mariadb client at mysql://user:pass@host:port[/database]."""
    from urllib.parse import unquote, urlsplit
    u = urlsplit(url)
    subprocess.run(["mariadb", "--no-defaults", "-h", u.hostname, "-P", str(u.port), "-u",
                    unquote(u.username), f"-p{unquote(u.password)}",
                    *(["-D", u.path.strip("/")] if u.path.strip("/") else [])],
                   input=sql, text=True, check=True, timeout=600, stdout=subprocess.DEVNULL)


def proc_status(pid, key):
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM, …); 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def free_port():
    """A loopback TCP port nobody listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(data, work, max_connections, preexec_fn=None):
    """`ticketon serve` on a free loopback port, pinned to core 0, with SERVER_ENV and
    server.max_connections; waits until /healthz answers. Returns (process, port); exits with the
    server's log when it did not come up."""
    port = free_port()
    env = dict(os.environ, **SERVER_ENV, TICKETON_SERVER_MAX_CONNECTIONS=str(max_connections))
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen(
        ["taskset", "-c", "0", BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
         "--no-demo"], preexec_fn=preexec_fn, env=env, stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    if server.poll() is not None:
        sys.exit(open(log_path).read())
    return server, port


def rfc3339(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


class api:
    """A keep-alive HTTP/1.1 client for set-up calls."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, None if body is None else json.dumps(body), headers)
        r = self.conn.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if text else None)

    def expect(self, status, method, path, body=None, token=None):
        got, answer = self.call(method, path, body, token)
        if got != status:
            raise RuntimeError(f"{method} {path}: {got} {answer}")
        return answer


def create_queue_event(client, manager_token, admit_per_second, max_active, capacity=1000):
    """A general-admission event on sale now, its waiting room on; returns its id."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    body = {"title": "Queue Bench", "venue": "Bench Hall", "category": "CONCERT",
            "startsAt": rfc3339(now + datetime.timedelta(days=30)), "salesOpenAt": rfc3339(now),
            "seating": "GENERAL", "grades": [{"name": "GA", "price": 50000}],
            "zones": [{"name": "Floor", "grade": "GA", "capacity": capacity}],
            "maxPerUser": 4, "holdSeconds": 300,
            "waitingRoom": {"enabled": True, "admitPerSecond": admit_per_second,
                            "maxActive": max_active, "entryTtlSeconds": 3600}}
    event = client.expect(201, "POST", "/api/v1/events", body, manager_token)
    client.expect(200, "PATCH", f"/api/v1/events/{event['id']}", {"status": "ON_SALE"},
                  manager_token)
    return event["id"]


def manager_token(data_dir, port):
    """Creates a manager with `ticketon user create` (before the server starts) — see
    make_manager — and logs in as them."""
    return api(port).expect(200, "POST", "/api/v1/auth/login",
                            {"email": "bench-manager@example.com",
                             "password": "bench-manager-pw"})["accessToken"]


def make_manager(data_dir):
    env = dict(os.environ, **SERVER_ENV)
    subprocess.run([BIN, "user", "create", "--data-dir", data_dir, "--email",
                    "bench-manager@example.com", "--password", "bench-manager-pw", "--name",
                    "Bench Manager", "--role", "MANAGER"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def main(argv):
    if len(argv) == 6 and argv[1] == "event":
        print(create_queue_event(api(int(argv[2])), argv[3], int(argv[4]), int(argv[5])))
        return 0
    if len(argv) == 5 and argv[1] == "prepare":
        ids = prepare(argv[2], int(argv[3]))
        with open(argv[4], "w") as f:
            for t in mint_tokens(ids):
                f.write(t + "\n")
        print(ids[0])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
