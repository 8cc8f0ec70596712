"""HTTP behaviour and the server's limits: body and header size, slow clients, connection cap,
auth rate limit, 404/405, keep-alive, pipelining and request ids."""

import http.client
import json
import socket
import time
import unittest

import harness
from harness import API, e2e_case, request_bytes, unique_email

MAX_BODY = 1024
MAX_HEADER = 4096


def padded_login(size):
    """A valid login body of exactly `size` bytes (JSON whitespace padding) for an unknown
    user: below the body limit it is answered 401."""
    body = f'{{"email": "{unique_email("pad")}", "password": "whatever-password"'
    return (body + " " * (size - len(body) - 1) + "}").encode()


def closed_within(conn, seconds):
    """Waits for the server to close `conn`; returns (closed, elapsed, bytes received).
    A reset counts as closed; data (e.g. a 408 answer) before the close is allowed."""
    start = time.monotonic()
    conn.sock.settimeout(0.2)
    received = b""
    while time.monotonic() - start < seconds:
        try:
            chunk = conn.sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, time.monotonic() - start, received
        if not chunk:
            return True, time.monotonic() - start, received
        received += chunk
    return False, time.monotonic() - start, received


class limits_test(e2e_case):
    ENV = {
        "TICKETON_SERVER_MAX_BODY_BYTES": str(MAX_BODY),
        "TICKETON_SERVER_MAX_HEADER_BYTES": str(MAX_HEADER),
        "TICKETON_SERVER_READ_TIMEOUT_MS": "500",
    }

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env=cls.ENV)

    def login_with(self, payload, headers=None):
        return self.srv.call("POST", f"{API}/auth/login", payload, headers=headers)

    def test_body_under_the_limit_is_handled(self):
        self.assertProblem(self.login_with(padded_login(MAX_BODY - 24)), 401, "UNAUTHORIZED")

    def test_body_over_the_limit_is_413(self):
        self.assertProblem(self.login_with(padded_login(4 * MAX_BODY)), 413, "PAYLOAD_TOO_LARGE")

    def test_chunked_body_over_the_limit_is_413(self):
        payload = padded_login(4 * MAX_BODY)
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 512]), payload[i:i + 512])
                          for i in range(0, len(payload), 512)) + b"0\r\n\r\n"
        with self.srv.raw() as conn:
            conn.send(request_bytes("POST", f"{API}/auth/login",
                                    {"Content-Type": "application/json",
                                     "Transfer-Encoding": "chunked"}, chunks))
            response = conn.read_response()
        self.assertEqual(response.status, 413, response)
        self.assertTrue(response.header("content-type").startswith("application/problem+json"),
                        response)
        self.assertEqual(response.json()["code"], "PAYLOAD_TOO_LARGE", response)

    def test_headers_over_the_limit_are_431(self):
        with self.srv.raw() as conn:
            conn.send(request_bytes("GET", "/healthz", {"X-Padding": "a" * (4 * MAX_HEADER)}))
            response = conn.read_response()
        self.assertEqual(response.status, 431, response)
        self.assertTrue(response.header("content-type").startswith("application/problem+json"),
                        response)
        body = response.json()
        self.assertEqual(body["code"], "HEADERS_TOO_LARGE", body)
        self.assertEqual(body["status"], 431, body)
        # The server is still fine for everyone else.
        self.assertStatus(self.srv.call("GET", "/healthz"), 200)

    def test_slow_client_with_partial_headers_is_disconnected(self):
        with self.srv.raw() as conn:
            conn.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            closed, elapsed, _ = closed_within(conn, 3.0)
        self.assertTrue(closed, f"connection still open after {elapsed:.1f} s with a 500 ms "
                                "read timeout")

    def test_slow_client_with_partial_body_is_disconnected(self):
        with self.srv.raw() as conn:
            conn.send(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"")
            closed, elapsed, _ = closed_within(conn, 3.0)
        self.assertTrue(closed, f"connection still open after {elapsed:.1f} s with a 500 ms "
                                "read timeout")

    def test_unknown_path_is_404_problem(self):
        for path in (f"{API}/nope", f"{API}/auth/nope", f"{API}/me/nope/deeper"):
            with self.subTest(path):
                self.assertProblem(self.srv.call("GET", path), 404, "NOT_FOUND", msg=path)

    def test_wrong_method_is_405_with_allow(self):
        cases = [
            ("DELETE", f"{API}/auth/login", {"POST"}),
            ("GET", f"{API}/auth/signup", {"POST"}),
            ("PUT", f"{API}/me", {"GET", "PATCH", "DELETE"}),
            ("POST", "/healthz", {"GET"}),
        ]
        for method, path, allowed in cases:
            with self.subTest(f"{method} {path}"):
                response = self.srv.call(method, path)
                self.assertProblem(response, 405, "METHOD_NOT_ALLOWED", msg=f"{method} {path}")
                allow = response[1].get("Allow")
                self.assertIsNotNone(allow, f"{method} {path}: no Allow header")
                methods = {m.strip().upper() for m in allow.split(",")}
                self.assertTrue(allowed <= methods, f"Allow: {allow!r}, expected {allowed}")
                self.assertNotIn(method, methods, f"Allow: {allow!r}")

    def test_keep_alive_serves_100_requests_on_one_connection(self):
        with self.srv.raw() as conn:
            for i in range(100):
                conn.send(request_bytes("GET", "/healthz", {"X-Request-Id": f"ka-{i}"}))
                response = conn.read_response()
                self.assertEqual(response.status, 200, f"request {i}: {response}")
                self.assertEqual(response.json(), {"status": "ok"}, f"request {i}")
                self.assertEqual(response.header("x-request-id"), f"ka-{i}")
                self.assertNotEqual((response.header("connection") or "").lower(), "close",
                                    f"server closed the keep-alive connection at request {i}")

    def test_pipelined_requests_are_answered_in_order(self):
        requests = (request_bytes("GET", "/healthz", {"X-Request-Id": "pipe-1"}) +
                    request_bytes("GET", f"{API}/nope", {"X-Request-Id": "pipe-2"}) +
                    request_bytes("POST", f"{API}/auth/login", {"X-Request-Id": "pipe-3",
                                                                "Content-Type": "application/json"},
                                  '{"email": "' + unique_email() + '", "password": "pw-12345678"}') +
                    request_bytes("GET", "/healthz", {"X-Request-Id": "pipe-4"}))
        with self.srv.raw() as conn:
            conn.send(requests)
            answers = [conn.read_response() for _ in range(4)]
        self.assertEqual([a.status for a in answers], [200, 404, 401, 200], answers)
        self.assertEqual([a.header("x-request-id") for a in answers],
                         ["pipe-1", "pipe-2", "pipe-3", "pipe-4"])
        self.assertEqual(answers[0].json(), {"status": "ok"})
        self.assertEqual(answers[1].json()["code"], "NOT_FOUND")
        self.assertEqual(answers[2].json()["code"], "UNAUTHORIZED")
        self.assertEqual(answers[3].json(), {"status": "ok"})

    def test_last_chunk_split_across_reads_does_not_kill_the_server(self):
        # Boost 1.81's parser asserts (and a debug build aborts) when the final chunk's CRLF
        # arrives one byte per read; found by fuzz_http_request. The server must answer.
        with self.srv.raw() as conn:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.send(b"POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
            time.sleep(0.2)
            conn.send(b"\r")
            time.sleep(0.2)
            conn.send(b"\n")
            answer = conn.read_response()
        self.assertEqual(answer.status, 405)
        self.assertEqual(answer.header("allow"), "GET")
        self.assertEqual(self.srv.call("GET", "/healthz")[0], 200)

    def test_every_response_has_a_request_id(self):
        cases = [
            ("GET", "/healthz", None),
            ("GET", f"{API}/nope", None),
            ("GET", f"{API}/me", None),
            ("DELETE", f"{API}/auth/login", None),
            ("POST", f"{API}/auth/signup", "{bad json"),
            ("POST", f"{API}/auth/login", padded_login(4 * MAX_BODY)),
        ]
        seen = set()
        for method, path, body in cases:
            with self.subTest(f"{method} {path}"):
                status, headers, _ = self.srv.call(method, path, body)
                generated = headers.get("X-Request-Id")
                self.assertTrue(generated, f"{method} {path} -> {status} without X-Request-Id")
                seen.add(generated)
                status, headers, _ = self.srv.call(method, path, body,
                                                   headers={"X-Request-Id": "client-id-42"})
                self.assertEqual(headers.get("X-Request-Id"), "client-id-42",
                                 f"{method} {path} -> {status}")
        self.assertEqual(len(seen), len(cases), f"generated ids are not unique: {seen}")


class limits_one_thread_test(limits_test):
    """The same, served by one I/O thread: connections then run on the io_context's executor
    without a strand each (server_options::io_threads), timeouts and pipelining included."""

    ENV = dict(limits_test.ENV, TICKETON_SERVER_THREADS="1",
               TICKETON_LOG_LEVEL="info")  # info: for server.listening's "threads"

    def test_the_server_says_it_runs_one_thread(self):
        said = (self.srv.stderr_text() + self.srv.stdout_text()).replace(" ", "")
        self.assertIn('"threads":1,', said)


class max_connections_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={"TICKETON_SERVER_MAX_CONNECTIONS": "5"})

    def test_sixth_connection_is_turned_away_and_slots_come_back(self):
        held = []
        try:
            for i in range(5):
                held.append(self.open_served_connection(f"connection {i + 1}"))
            outcome = self.sixth_connection()
            self.assertIn(outcome[0], ("refused", "closed", "503"), outcome)
            # The held connections keep working.
            held[-1].send(request_bytes("GET", "/healthz"))
            self.assertEqual(held[-1].read_response().status, 200, "a held connection")
        finally:
            for conn in held:
                conn.close()

        def healthy():
            try:
                return self.srv.call("GET", "/healthz", timeout=2.0)[0] == 200
            except OSError:
                return False

        self.assertTrue(harness.wait_until(healthy, 3.0),
                        "no request served after the 5 connections were closed")

    def open_served_connection(self, label):
        """A keep-alive connection that has been served once. The server may still count a
        connection that a client closed a moment ago (the harness's readiness probe), so a 503
        at the cap is retried briefly before it counts as a failure."""
        deadline = time.monotonic() + 3.0
        while True:
            conn = self.srv.raw()
            conn.send(request_bytes("GET", "/healthz"))
            response = conn.read_response()
            if response.status == 200:
                return conn
            conn.close()
            if response.status != 503 or time.monotonic() > deadline:
                self.fail(f"{label}: {response}")
            time.sleep(0.05)

    def sixth_connection(self):
        """How the server treats one connection over the cap: ("refused"|"closed"|"503"|...,
        detail)."""
        try:
            conn = harness.raw_connection(self.srv.port, timeout=3.0)
        except ConnectionRefusedError:
            return "refused", ""
        with conn:
            try:
                conn.send(request_bytes("GET", "/healthz"))
                response = conn.read_response()
            except (ConnectionError, BrokenPipeError) as e:
                return "closed", repr(e)
            except socket.timeout:
                return "hung", "neither answered nor closed within 3 s"
            if response.status == 503:
                body = response.json()
                if body.get("code") == "UNAVAILABLE" and response.header(
                        "content-type").startswith("application/problem+json"):
                    return "503", body
                return "503 without an UNAVAILABLE problem", response
            return f"answered {response.status}", response


class rate_limit_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={
            "TICKETON_RATE_LIMIT_AUTH_BURST": "3",
            "TICKETON_RATE_LIMIT_AUTH_PER_MINUTE": "60",
        })

    def test_auth_routes_are_rate_limited_per_ip(self):
        email = unique_email("rl")
        for attempt in range(1, 4):
            self.assertProblem(self.srv.login_raw(email, "wrong-password"), 401, "UNAUTHORIZED",
                               msg=f"login {attempt} within the burst")
        response = self.srv.login_raw(email, "wrong-password")
        self.assertProblem(response, 429, "RATE_LIMITED", msg="4th rapid login")
        # At 60 per minute a token comes back every second.
        retry_after = self.assertRetryAfter(response[1], 1, 5)
        for _ in range(10):
            self.assertStatus(self.srv.call("GET", "/healthz"), 200, "healthz is not limited")
        time.sleep(retry_after + 0.3)
        self.assertProblem(self.srv.login_raw(email, "wrong-password"), 401, "UNAUTHORIZED",
                           msg=f"login after waiting Retry-After ({retry_after} s)")


def login_from(port, source, forwarded_for=None):
    """A failed login (an unknown user: 401 within the limit) on a fresh connection whose
    socket is bound to the loopback address `source`, as a client on another machine would
    appear; with an X-Forwarded-For header when given. Returns (status, headers, body)."""
    conn = http.client.HTTPConnection(harness.HOST, port, timeout=harness.SOCKET_TIMEOUT_S,
                                      source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    body = json.dumps({"email": unique_email("xff"), "password": "wrong-password"})
    try:
        conn.request("POST", f"{API}/auth/login", body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, response.headers, json.loads(raw) if raw else None
    finally:
        conn.close()


# Three logins, and the next token comes back only after a minute: a test never sees a refill.
XFF_LIMIT_ENV = {
    "TICKETON_RATE_LIMIT_AUTH_BURST": "3",
    "TICKETON_RATE_LIMIT_AUTH_PER_MINUTE": "1",
    "TICKETON_LOG_LEVEL": "info",
}


class forwarded_for_test(e2e_case):
    """server.trusted_proxies: behind a trusted proxy the client address (for the auth rate limit
    and the access log) comes from X-Forwarded-For; from anyone else the header is ignored."""

    def spend_burst(self, srv, source, forwarded_for=None, what=""):
        for attempt in range(1, 4):
            self.assertProblem(login_from(srv.port, source, forwarded_for), 401, "UNAUTHORIZED",
                               msg=f"{what}: login {attempt} within the burst")

    def assertLimited(self, response, what):
        self.assertProblem(response, 429, "RATE_LIMITED", msg=what)

    def test_a_trusted_proxy_gives_each_forwarded_client_its_own_bucket(self):
        env = dict(XFF_LIMIT_ENV, TICKETON_SERVER_TRUSTED_PROXIES="127.0.0.1/32")
        with harness.server(env=env) as srv:
            self.spend_burst(srv, "127.0.0.1", "198.51.100.1", "client A via the proxy")
            self.assertLimited(login_from(srv.port, "127.0.0.1", "198.51.100.1"),
                               "client A's 4th login")
            # Another client behind the same proxy has a bucket of its own ...
            self.spend_burst(srv, "127.0.0.1", "198.51.100.2", "client B via the proxy")
            # ... and only the right-most untrusted entry counts: a forged left part changes
            # nothing.
            self.assertLimited(login_from(srv.port, "127.0.0.1", "203.0.113.66, 198.51.100.1"),
                               "client A with a forged entry in front")
            # A client that connects directly (127.0.0.2, not a trusted proxy) cannot choose its
            # address with the header: it is limited as 127.0.0.2, whatever it forges.
            self.spend_burst(srv, "127.0.0.2", "198.51.100.50", "direct client, forged header")
            self.assertLimited(login_from(srv.port, "127.0.0.2", "198.51.100.51"),
                               "direct client, another forged header")
            self.assertLimited(login_from(srv.port, "127.0.0.2"), "direct client, no header")
            # The proxy naming 127.0.0.2 reaches that same bucket.
            self.assertLimited(login_from(srv.port, "127.0.0.1", "127.0.0.2"),
                               "the proxy forwarding 127.0.0.2")
            self.assertEqual(srv.stop(), 0)
            log = [json.loads(line) for line in srv.stderr_text().splitlines()
                   if line.startswith("{")]
            requests = [e for e in log if e.get("event") == "http.request"
                        and e.get("path") == f"{API}/auth/login"]
            remotes = {(e.get("remote"), e.get("proxy")) for e in requests}
            self.assertIn(("198.51.100.1", "127.0.0.1"), remotes, "the access log's client")
            self.assertIn(("127.0.0.2", None), remotes, "a direct client has no proxy")
            self.assertNotIn("198.51.100.50", {r for r, _ in remotes}, "a forged address logged")

    def test_without_trusted_proxies_the_header_is_ignored(self):
        with harness.server(env=XFF_LIMIT_ENV) as srv:
            self.spend_burst(srv, "127.0.0.1", "198.51.100.1", "client A via 127.0.0.1")
            self.assertLimited(login_from(srv.port, "127.0.0.1", "198.51.100.2"),
                               "client B shares 127.0.0.1's bucket")
            # A peer outside the (empty) list is its own client.
            self.assertProblem(login_from(srv.port, "127.0.0.3", "198.51.100.1"), 401,
                               "UNAUTHORIZED", msg="another peer")


if __name__ == "__main__":
    unittest.main()
