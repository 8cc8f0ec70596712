"""End-to-end harness: starts the built `ticketon` binary and talks HTTP to it.

Every test server gets its own free loopback port and its own temporary data directory, so
several test processes (parallel ctest jobs) never share state. The binary comes from the
TICKETON_BIN environment variable (CTest sets it); when it is unset the dev build is used.

Typical use:

    class my_test(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.srv = harness.class_server(cls, env={"TICKETON_SERVER_MAX_BODY_BYTES": "1024"})

        def test_something(self):
            session = self.srv.signup()
            status, headers, body = self.srv.call("GET", "/api/v1/me", token=session.access_token)

`call` never raises on an HTTP error status: it returns (status, headers, body) where body is
the decoded JSON (for JSON and problem+json answers), the text otherwise, or None when empty.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path

API = "/api/v1"
HOST = "127.0.0.1"

# Every socket operation made by the harness gives up after this many seconds.
SOCKET_TIMEOUT_S = 10.0
START_DEADLINE_S = 20.0
STOP_GRACE_S = 10.0
DEFAULT_PASSWORD = "correct-horse-battery"

# Fast password hashing and a generous auth rate limit, so that tests which sign up many users
# stay fast and are not throttled; tests of those features override these values.
DEFAULT_ENV = {
    "TICKETON_AUTH_PASSWORD_COST": "min",
    "TICKETON_RATE_LIMIT_AUTH_BURST": "1000",
    "TICKETON_RATE_LIMIT_AUTH_PER_MINUTE": "100000",
    "TICKETON_LOG_LEVEL": "warn",
}

_REPO_ROOT = Path(__file__).resolve().parents[2]


def binary():
    """Path of the ticketon binary under test."""
    path = os.environ.get("TICKETON_BIN") or str(_REPO_ROOT / "build" / "dev" / "src" / "ticketon")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ticketon binary not found or not executable: {path} "
                           "(set TICKETON_BIN)")
    return path


def free_port():
    """A loopback TCP port that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def base_env(extra=None):
    """The process environment for the binary: the caller's environment without any TICKETON_*
    variable (so a developer's shell cannot change the outcome), the defaults above, then
    `extra` (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETON_")}
    env.update(DEFAULT_ENV)
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def run_binary(args, env=None, timeout=30.0, cwd=None):
    """Runs `ticketon <args>` to completion and returns the CompletedProcess (text mode).
    A process still running after `timeout` is killed and reported as an AssertionError."""
    cmd = [binary(), *args]
    # An empty working directory: the binary must not pick up a stray ./ticketon.toml.
    with tempfile.TemporaryDirectory(prefix="ticketon-e2e-cwd-") as empty:
        try:
            return subprocess.run(cmd, env=base_env(env), cwd=cwd or empty, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"{cmd} still running after {timeout} s; stderr: {e.stderr!r}")


# ---------------------------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------------------------

def _decode_body(headers, raw):
    if not raw:
        return None
    ctype = (headers.get("Content-Type") or "").lower()
    text = raw.decode("utf-8", errors="replace")
    if "json" in ctype:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _encode_body(body, headers):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        headers.setdefault("Content-Type", "application/json")
        return bytes(body)
    if isinstance(body, str):
        headers.setdefault("Content-Type", "application/json")
        return body.encode()
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body).encode()


def call(port, method, path, body=None, token=None, headers=None, timeout=SOCKET_TIMEOUT_S,
         source=None):
    """One request on a fresh connection. `body` may be a JSON-able value, str or bytes (sent
    as is). `source` is the loopback address to connect from (127.0.0.2, …: another person).
    Returns (status, headers, json_or_text_or_None)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        return _request(conn, method, path, body, token, headers)
    finally:
        conn.close()


def _request(conn, method, path, body, token, headers):
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    payload = _encode_body(body, hdrs)
    conn.request(method, path, body=payload, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    return resp.status, resp.headers, _decode_body(resp.headers, raw)


class client:
    """A keep-alive HTTP connection; `call` as above, on the same TCP connection."""

    def __init__(self, port, timeout=SOCKET_TIMEOUT_S, source=None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout,
                                               source_address=(source, 0) if source else None)

    def call(self, method, path, body=None, token=None, headers=None):
        return _request(self.conn, method, path, body, token, headers)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# Raw sockets: pipelining, slow clients, oversized headers
# ---------------------------------------------------------------------------------------------

class raw_response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict, keys lower case
        self.body = body  # bytes

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return f"raw_response({self.status} {self.reason}, {self.headers}, {self.body[:200]!r})"


class raw_connection:
    """A plain TCP connection with an HTTP/1.1 response reader (Content-Length and chunked)."""

    def __init__(self, port, timeout=SOCKET_TIMEOUT_S):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed by the server; unread bytes: {self.buf!r}")
        self.buf += chunk

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, method="GET"):
        head = self._read_until(b"\r\n\r\n").decode("iso-8859-1")
        lines = head.split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        if not version.startswith("HTTP/1."):
            raise AssertionError(f"not an HTTP status line: {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(status)
        body = b""
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers expected
                    break
                body += self._read_exact(size)
                self._read_exact(2)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            body = self.read_to_eof()
        return raw_response(status, reason[0] if reason else "", headers, body)

    def read_to_eof(self):
        """Reads until the server closes the connection; a reset counts as closed."""
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request_bytes(method, path, headers=None, body=b""):
    """An HTTP/1.1 request as bytes, with Host and (for a body) Content-Length."""
    hdrs = {"Host": f"{HOST}"}
    hdrs.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in hdrs):
        hdrs["Content-Length"] = str(len(body))
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in hdrs.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class sse_stream:
    """A Server-Sent Events client on a raw connection: GET `path` (token in the Authorization
    header, or as given in the URL), then `next_event()` parses events as the SSE spec reads
    them (id, event, data lines, retry; comments skipped)."""

    def __init__(self, port, path, token=None, headers=None, source=None,
                 timeout=SOCKET_TIMEOUT_S):
        self.sock = socket.create_connection((HOST, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        hdrs = {"Accept": "text/event-stream"}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        self.sock.sendall(request_bytes("GET", path, hdrs))
        head = self._read_until(b"\r\n\r\n").decode("iso-8859-1")
        lines = head.split("\r\n")
        self.status = int(lines[0].split(" ", 2)[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.retry = None
        self.comments = 0
        self.body = None
        if self.status != 200:
            if "content-length" in self.headers:
                self.body = json.loads(self._read_exact(int(self.headers["content-length"])))
            self.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the stream ended")
        self.buf += chunk

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def next_event(self, timeout=SOCKET_TIMEOUT_S):
        """The next event as {"id", "event", "data"} (data JSON-decoded when it is JSON);
        raises socket.timeout when none comes in `timeout`, EOFError when the stream ends."""
        self.sock.settimeout(timeout)
        while True:
            block = self._read_until(b"\n\n").decode()
            event = {"id": None, "event": "message", "data": None}
            data = []
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "retry":
                    self.retry = int(value)
                elif name == "id":
                    event["id"] = value
                elif name == "event":
                    event["event"] = value
                elif name == "data":
                    data.append(value)
            if not data:
                continue  # a retry hint or a comment alone
            text = "\n".join(data)
            try:
                event["data"] = json.loads(text)
            except ValueError:
                event["data"] = text
            return event

    def events_until(self, predicate, timeout):
        """Events until one satisfies `predicate` (returned last) or `timeout` passes."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                e = self.next_event(timeout=max(0.05, deadline - time.monotonic()))
            except socket.timeout:
                break
            got.append(e)
            if predicate(e):
                return got
        raise AssertionError(f"no matching event in {timeout} s; got {got!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# JWT helpers (for forging bad tokens)
# ---------------------------------------------------------------------------------------------

def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    """(header dict, payload dict, signature bytes) of a compact JWT."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


def jwt_encode(header, payload, key=None):
    """A compact JWT; signed with HS256 under `key` when given, else with an empty signature."""
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url_encode(json.dumps(payload, separators=(",", ":")).encode()))
    if key is None:
        return signing_input + "."
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(sig)


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------

class session:
    """A signed-up or logged-in user: the answer of /auth/signup or /auth/login."""

    def __init__(self, body, email, password):
        self.body = body
        self.email = email
        self.password = password
        self.user = body["user"]
        self.id = body["user"]["id"]
        self.access_token = body["accessToken"]
        self.refresh_token = body["refreshToken"]

    def __repr__(self):
        return f"session({self.email}, id={self.id})"


# ---------------------------------------------------------------------------------------------
# The server under test
# ---------------------------------------------------------------------------------------------

class server:
    """Context manager running `ticketon serve` on a free loopback port with its own data dir.

    env:      extra environment variables (on top of DEFAULT_ENV; None removes one)
    args:     extra command-line flags for `serve`
    toml:     text of a configuration file, passed with --config
    data_dir: reuse an existing data directory (it is then not removed)
    port:     listen on this port instead of a free one chosen at start (for a URL that must be
              known in advance, like an OAuth2 redirect URI registered at a provider)
    """

    def __init__(self, env=None, args=(), toml=None, data_dir=None,
                 start_deadline_s=START_DEADLINE_S, port=None):
        self.fixed_port = port
        self.env = dict(env or {})
        self.args = list(args)
        self.toml = toml
        self.start_deadline_s = start_deadline_s
        self.root = Path(tempfile.mkdtemp(prefix="ticketon-e2e-"))
        self.own_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else self.root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = None
        if toml is not None:
            self.config_path = self.root / "ticketon.toml"
            self.config_path.write_text(toml)
        self.proc = None
        self.port = None
        self.returncode = None
        self._runs = 0
        self.stderr_path = None
        self.stdout_path = None

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.running():
                self.stop()
            elif self.proc is not None and self.returncode is None:
                # It died by itself, not stopped by a test: say how, or the test's only trace
                # is a connection reset.
                code = self.proc.wait()
                sys.stderr.write(f"\nticketon (port {self.port}) died by itself with code {code}; "
                                 f"the end of its stderr:\n{self.stderr_text()[-4000:]}\n")
        finally:
            self.cleanup()

    def free_port(self):
        """The port to listen on (a subclass that listens on every interface picks one free
        on all of them)."""
        return free_port()

    def command(self):
        cmd = [binary(), "serve", "--listen", f"{HOST}:{self.port}",
               "--data-dir", str(self.data_dir), "--no-demo"]
        if self.config_path:
            cmd += ["--config", str(self.config_path)]
        return cmd + self.args

    def start(self):
        """Starts the server and waits until GET /healthz answers 200. A port taken between
        choosing and binding it (another test process) is retried on a new port."""
        for attempt in range(3):
            self.port = self.fixed_port or self.free_port()
            self._runs += 1
            self.stderr_path = self.root / f"stderr.{self._runs}.log"
            self.stdout_path = self.root / f"stdout.{self._runs}.log"
            with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
                self.proc = subprocess.Popen(self.command(), env=base_env(self.env),
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                             cwd=self.root, start_new_session=True)
            self.returncode = None
            ok, why = self._wait_healthy()
            if ok:
                return
            stderr = self.stderr_text()
            if self.proc.poll() is None:
                self._terminate()
            if attempt < 2 and "in use" in stderr.lower():
                continue
            raise RuntimeError(f"ticketon did not become healthy on port {self.port}: {why}\n"
                               f"command: {self.command()}\nstderr:\n{stderr}")

    def _wait_healthy(self):
        deadline = time.monotonic() + self.start_deadline_s
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                self.returncode = code
                return False, f"exited with code {code}"
            try:
                status, _, body = call(self.port, "GET", "/healthz", timeout=2.0)
                if status == 200:
                    return True, ""
                last = f"GET /healthz answered {status} {body!r}"
            except OSError as e:
                last = f"GET /healthz failed: {e!r}"
            time.sleep(0.05)
        return False, f"not healthy after {self.start_deadline_s} s ({last})"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Waits for the process to exit; returns its exit code or None on timeout."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, grace_s=STOP_GRACE_S):
        """Sends `sig`, waits up to `grace_s`, then SIGKILL. Returns the exit code (negative
        for death by signal, as subprocess reports it)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if self.wait(grace_s) is None:
                self._terminate()
        self.returncode = self.proc.wait()
        return self.returncode

    def _terminate(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.returncode = self.proc.wait()

    def restart(self, env=None):
        """Stops (SIGTERM) and starts again on the same data directory, on a new port.
        `env` replaces the extra environment when given."""
        self.stop()
        if env is not None:
            self.env = dict(env)
        self.start()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self._terminate()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- output ---------------------------------------------------------------------------------

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def stdout_text(self):
        try:
            return self.stdout_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    # -- HTTP -----------------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}"

    def call(self, method, path, body=None, token=None, headers=None, timeout=SOCKET_TIMEOUT_S):
        """(status, headers, json_or_text) of one request on a fresh connection. A path not
        starting with "/" is taken relative to /api/v1."""
        if not path.startswith("/"):
            path = f"{API}/{path}"
        return call(self.port, method, path, body, token, headers, timeout)

    def client(self, source=None):
        return client(self.port, source=source)

    def raw(self, timeout=SOCKET_TIMEOUT_S):
        return raw_connection(self.port, timeout)

    # -- users ----------------------------------------------------------------------------------

    def signup(self, email=None, password=DEFAULT_PASSWORD, name="Test User"):
        """Signs a new user up (a unique email when none is given); fails unless 201."""
        email = email or unique_email()
        status, _, body = self.call("POST", f"{API}/auth/signup",
                                    {"email": email, "password": password, "name": name})
        if status != 201:
            raise AssertionError(f"signup {email} answered {status}: {body!r}")
        return session(body, email, password)

    def login(self, email, password=DEFAULT_PASSWORD):
        """Logs in; fails unless 200."""
        status, _, body = self.login_raw(email, password)
        if status != 200:
            raise AssertionError(f"login {email} answered {status}: {body!r}")
        return session(body, email, password)

    def login_raw(self, email, password=DEFAULT_PASSWORD):
        return self.call("POST", f"{API}/auth/login", {"email": email, "password": password})

    def create_user(self, role, email=None, password=DEFAULT_PASSWORD, name=None):
        """Creates a user with the CLI (`ticketon user create`) and logs them in."""
        email = email or unique_email(role.lower())
        proc = self.run_cli(["user", "create", "--email", email, "--password", password,
                             "--name", name or role.title(), "--role", role])
        if proc.returncode != 0:
            raise AssertionError(f"ticketon user create exited {proc.returncode}: "
                                 f"{proc.stderr!r}")
        return self.login(email, password)

    # -- CLI ------------------------------------------------------------------------------------

    def run_cli(self, args, env=None, timeout=30.0):
        """Runs `ticketon <args> --data-dir <this server's data dir>` (plus --config when the
        server has one) with the server's environment and returns the CompletedProcess."""
        extra = ["--data-dir", str(self.data_dir)]
        if self.config_path:
            extra += ["--config", str(self.config_path)]
        merged = dict(self.env)
        merged.update(env or {})
        return run_binary([*args, *extra], env=merged, timeout=timeout)


def class_server(cls, **kwargs):
    """Starts a server shared by every test of a TestCase class (call from setUpClass); it is
    stopped and removed when the class finishes."""
    return cls.enterClassContext(server(**kwargs))


# ---------------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------------

class e2e_case(unittest.TestCase):
    """TestCase with assertions for the API's conventions."""

    maxDiff = None

    def assertProblem(self, response, status, code, field=None, msg=""):
        """`response` is (status, headers, body) from `call`: checks an application/problem+json
        error with {type, title, status, detail, code} and, when given, `field`."""
        got_status, headers, body = response
        where = f"{msg} -> {got_status} {body!r}"
        self.assertEqual(got_status, status, f"status; {where}")
        ctype = headers.get("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/problem+json"),
                        f"Content-Type {ctype!r}; {where}")
        self.assertIsInstance(body, dict, where)
        for key in ("type", "title", "status", "detail", "code"):
            self.assertIn(key, body, f"problem member {key!r} missing; {where}")
        self.assertEqual(body["status"], status, f"problem status; {where}")
        self.assertEqual(body["code"], code, f"problem code; {where}")
        if field is not None:
            self.assertEqual(body.get("field"), field, f"problem field; {where}")
        return body

    def assertStatus(self, response, status, msg=""):
        got_status, _, body = response
        self.assertEqual(got_status, status, f"{msg} -> {got_status} {body!r}")
        return body

    def assertRetryAfter(self, headers, low, high, msg=""):
        value = headers.get("Retry-After")
        self.assertIsNotNone(value, f"Retry-After header missing {msg}")
        self.assertTrue(value.strip().isdigit(), f"Retry-After {value!r} is not delta-seconds")
        seconds = int(value)
        self.assertGreaterEqual(seconds, low, f"Retry-After {msg}")
        self.assertLessEqual(seconds, high, f"Retry-After {msg}")
        return seconds


def wait_until(predicate, timeout_s, interval_s=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout_s` passes; returns the last
    value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def in_thread(fn, *args):
    """Runs fn(*args) in a thread; returns a function that joins it and returns the result or
    re-raises its exception."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # handed to the caller by join()
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join(timeout=SOCKET_TIMEOUT_S * 2):
        t.join(timeout)
        if t.is_alive():
            raise AssertionError("background request did not finish")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    return join


# ---------------------------------------------------------------------------------------------
# Booking: events, holds, the Toss sandbox, confirm, audit
# ---------------------------------------------------------------------------------------------

# The secret key the Toss client and the sandbox share unless configured otherwise.
SANDBOX_SECRET_KEY = "test_sk_sandbox"


def rfc3339(dt):
    """A datetime as RFC 3339 UTC with whole seconds."""
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def toss_basic_auth(secret_key=SANDBOX_SECRET_KEY):
    """The Authorization value Toss wants: Basic base64(secretKey + ":")."""
    return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()


def _expect(response, status, what):
    got, _, body = response
    if got != status:
        raise AssertionError(f"{what}: expected {status}, got {got} {body!r}")
    return body


def reserved_layout(rows=2, seats=4, section="A", grade="R", price=50000):
    """`grades` and `sections` of a one-section reserved-seating event; seat ids are
    <section>-<row>-<n>, rows numbered from 1."""
    return {"seating": "RESERVED",
            "grades": [{"name": grade, "price": price}],
            "sections": [{"name": section, "grade": grade,
                          "rows": [{"row": str(r), "seats": seats} for r in range(1, rows + 1)]}]}


def ga_layout(capacity=10, zone="GA", grade="S", price=30000):
    """`grades` and `zones` of a one-zone general-admission event."""
    return {"seating": "GENERAL",
            "grades": [{"name": grade, "price": price}],
            "zones": [{"name": zone, "grade": grade, "capacity": capacity}]}


def create_event(srv, manager_token, layout=None, max_per_user=4, hold_seconds=300,
                 status="ON_SALE", title="Booking Night", **extra):
    """Creates an event of the manager's (reserved seating, 2 rows of 4, when `layout` is None)
    and moves it to `status` ("ON_SALE" opens it now, "SCHEDULED" publishes it with sales a day
    away, None leaves it DRAFT). Returns the event id."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    body = {"title": title, "description": "end-to-end booking", "venue": "Ticketon Hall",
            "category": "CONCERT",
            "startsAt": rfc3339(now + datetime.timedelta(days=30)),
            "salesOpenAt": rfc3339(now + datetime.timedelta(days=1)),
            "maxPerUser": max_per_user, "holdSeconds": hold_seconds}
    body.update(layout or reserved_layout())
    body.update(extra)
    event = _expect(srv.call("POST", f"{API}/events", body, token=manager_token), 201,
                    "POST /events")
    if status is not None:
        changed = _expect(srv.call("PATCH", f"{API}/events/{event['id']}", {"status": status},
                                   token=manager_token), 200, f"PATCH /events status {status}")
        if changed.get("status") != status:
            raise AssertionError(f"event status after PATCH {status}: {changed!r}")
    return event["id"]


def hold(srv, token, event_id, seats=None, zone=None, quantity=None, extra=None, headers=None,
         port=None):
    """POST /events/{id}/holds with {seats} or {zone, quantity} (plus `extra` members); returns
    (status, headers, body). `port` sends it to another port (a shared server's connection
    pool is not used: every call is its own connection)."""
    body = {}
    if seats is not None:
        body["seats"] = list(seats)
    if zone is not None:
        body["zone"] = zone
    if quantity is not None:
        body["quantity"] = quantity
    body.update(extra or {})
    return call(port or srv.port, "POST", f"{API}/events/{event_id}/holds", body, token=token,
                headers=headers)


def hold_ok(srv, token, event_id, **kwargs):
    """hold() that must answer 201; returns the hold."""
    return _expect(hold(srv, token, event_id, **kwargs), 201, f"hold {kwargs}")


def _sandbox_target(target):
    """(port, path prefix) of a sandbox: a `server` mounts it at /sandbox/toss, a standalone
    `toss_sandbox` serves it at its root."""
    return target.port, getattr(target, "sandbox_prefix", "/sandbox/toss")


def sandbox_pay(target, order_id, amount, outcome=None):
    """Stands in for the Toss widget: POST <sandbox>/payments → the paymentKey."""
    port, prefix = _sandbox_target(target)
    body = {"orderId": order_id, "amount": amount}
    if outcome is not None:
        body["outcome"] = outcome
    answer = _expect(call(port, "POST", f"{prefix}/payments", body), 201,
                     "sandbox POST /payments")
    return answer["paymentKey"]


def sandbox_payment(target, payment_key):
    """GET <sandbox>/v1/payments/{paymentKey} with the secret key: (status, headers, body)."""
    port, prefix = _sandbox_target(target)
    return call(port, "GET", f"{prefix}/v1/payments/{payment_key}",
                headers={"Authorization": toss_basic_auth()})


def sandbox_status(target, payment_key):
    """The payment's status at the sandbox (READY, DONE, CANCELED, ABORTED, …)."""
    return _expect(sandbox_payment(target, payment_key), 200, "sandbox GET payment")["status"]


def sandbox_cancel(target, payment_key, reason="cancelled at Toss"):
    """Cancels a payment at the sandbox directly, as a merchant console would."""
    port, prefix = _sandbox_target(target)
    return call(port, "POST", f"{prefix}/v1/payments/{payment_key}/cancel",
                {"cancelReason": reason}, headers={"Authorization": toss_basic_auth()})


def sandbox_confirm(target, payment_key, order_id, amount):
    """Confirms a payment at the sandbox directly (bypassing Ticketon)."""
    port, prefix = _sandbox_target(target)
    return call(port, "POST", f"{prefix}/v1/payments/confirm",
                {"paymentKey": payment_key, "orderId": order_id, "amount": amount},
                headers={"Authorization": toss_basic_auth()})


def sandbox_faults(target, **faults):
    """POST <sandbox>/sandbox/faults (confirmDelayMs, confirm5xx, dropConfirmResponse)."""
    port, prefix = _sandbox_target(target)
    return _expect(call(port, "POST", f"{prefix}/sandbox/faults", faults), 200,
                   "sandbox POST /sandbox/faults")


def confirm(srv, token, order_id, payment_key, amount, headers=None, timeout=SOCKET_TIMEOUT_S * 2):
    """POST /payments/confirm; returns (status, headers, body)."""
    return srv.call("POST", f"{API}/payments/confirm",
                    {"paymentKey": payment_key, "orderId": order_id, "amount": amount},
                    token=token, headers=headers, timeout=timeout)


def buy(srv, token, event_id, **hold_kwargs):
    """Holds, pays at the sandbox and confirms; returns the PAID order (fails otherwise)."""
    h = hold_ok(srv, token, event_id, **hold_kwargs)
    key = sandbox_pay(srv, h["orderId"], h["amount"])
    order = _expect(confirm(srv, token, h["orderId"], key, h["amount"]), 200, "confirm")
    if order.get("status") != "PAID":
        raise AssertionError(f"confirm answered an order that is not PAID: {order!r}")
    return order


def get_order(srv, token, order_id):
    return srv.call("GET", f"{API}/orders/{order_id}", token=token)


def wait_order_status(srv, token, order_id, statuses, timeout_s):
    """Polls GET /orders/{id} until its status is one of `statuses`; returns the last order."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    last = {}

    def probe():
        status, _, body = get_order(srv, token, order_id)
        last["order"] = body
        return status == 200 and body.get("status") in wanted

    wait_until(probe, timeout_s, 0.1)
    return last.get("order")


def audit(srv, manager_token, event_id):
    """GET /manager/events/{id}/audit; returns the report (fails unless 200)."""
    return _expect(srv.call("GET", f"{API}/manager/events/{event_id}/audit", token=manager_token),
                   200, "audit")


def seat_map(srv, event_id):
    return _expect(srv.call("GET", f"{API}/events/{event_id}/seats"), 200, "seat map")


def seat_statuses(srv, event_id):
    """{seat id: status} of a reserved-seating event's seat map."""
    out = {}
    for section in seat_map(srv, event_id).get("sections", []):
        for row in section["rows"]:
            for seat in row["seats"]:
                out[seat["id"]] = seat["status"]
    return out


def zone_available(srv, event_id, zone="GA"):
    for z in seat_map(srv, event_id).get("zones", []):
        if z["name"] == zone:
            return z["available"]
    raise AssertionError(f"zone {zone} not in the seat map of event {event_id}")


# ---------------------------------------------------------------------------------------------
# MariaDB (the run's fixture server, or one a test starts with tkt-mariadb)
# ---------------------------------------------------------------------------------------------

def mariadb_tool():
    """tkt-mariadb, which starts and stops a MariaDB server in a directory."""
    return os.environ.get("TICKETON_MARIADB_TOOL") or str(
        _REPO_ROOT / "build" / "dev" / "tests" / "support" / "tkt-mariadb")


def mariadb_cli(server_url, sql, check=True):
    """Runs one statement with the mariadb client as the user of `server_url`
    (mysql://user:pass@host:port/); returns its text output."""
    from urllib.parse import unquote, urlsplit
    u = urlsplit(server_url)
    return subprocess.run(["mariadb", "--no-defaults", "-h", u.hostname, "-P", str(u.port),
                           "-u", unquote(u.username), f"-p{unquote(u.password)}", "-e", sql],
                          check=check, timeout=30, capture_output=True, text=True).stdout


class toss_sandbox:
    """`ticketon toss-sandbox` as its own process on a free loopback port (its API at the
    root), for tests that point a server at a real, separate Toss."""

    sandbox_prefix = ""

    def __init__(self, secret_key=SANDBOX_SECRET_KEY):
        self.secret_key = secret_key
        self.root = Path(tempfile.mkdtemp(prefix="ticketon-e2e-toss-"))
        self.proc = None
        self.port = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}"

    def start(self):
        self.port = free_port()
        cmd = [binary(), "toss-sandbox", "--listen", f"{HOST}:{self.port}"]
        env = base_env({"TICKETON_PAYMENT_TOSS_SECRET_KEY": self.secret_key})
        with open(self.root / "stderr.log", "wb") as err, open(self.root / "stdout.log", "wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=self.root, start_new_session=True)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError(f"toss-sandbox exited {self.proc.returncode}: "
                                   f"{(self.root / 'stderr.log').read_text(errors='replace')}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    return True
            except OSError:
                return False

        if not wait_until(listening, START_DEADLINE_S):
            raise RuntimeError(f"toss-sandbox did not listen on {self.port}")

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
