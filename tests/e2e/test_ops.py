"""Operations: health and readiness, Prometheus metrics, JSON logs, graceful shutdown, and
configuration (flags, environment, TOML file, exit codes)."""

import json
import re
import signal
import socket
import tempfile
import time
import unittest
from pathlib import Path

import harness
from harness import API, create_event, e2e_case, hold, request_bytes, unique_email

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float value)] of the samples in Prometheus text format."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        labels = dict(LABEL.findall(m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples


def one_line_error(tc, proc, must_contain=None):
    """Exit code 2 and exactly one non-empty stderr line starting "ticketon:"."""
    tc.assertEqual(proc.returncode, 2, f"exit code; stderr: {proc.stderr!r}")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    tc.assertEqual(len(lines), 1, f"want one line on stderr, got: {proc.stderr!r}")
    tc.assertTrue(lines[0].startswith("ticketon:"), lines[0])
    if must_contain:
        tc.assertIn(must_contain, lines[0])
    return lines[0]


def connect_refused(port):
    try:
        with socket.create_connection((harness.HOST, port), timeout=1.0) as s:
            s.sendall(request_bytes("GET", "/healthz"))
            s.settimeout(1.0)
            return s.recv(1) == b""
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


class health_metrics_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def test_healthz(self):
        status, headers, body = self.srv.call("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("application/json"), headers)
        self.assertEqual(body, {"status": "ok"})

    def test_readyz(self):
        body = self.assertStatus(self.srv.call("GET", "/readyz"), 200)
        self.assertEqual(body.get("status"), "ready", body)
        self.assertEqual(body.get("checks", {}).get("database"), "ok", body)

    def metrics(self):
        status, headers, body = self.srv.call("GET", "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/plain"), headers)
        self.assertIsInstance(body, str)
        return body

    def test_metrics_exposition(self):
        self.srv.call("GET", "/healthz")
        text = self.metrics()
        self.assertIn("ticketon_http_requests_total{", text)
        self.assertIn("ticketon_http_request_duration_seconds_bucket", text)
        self.assertIn("ticketon_http_connections_open", text)
        self.assertRegex(text, r"(?m)^# TYPE ticketon_http_requests_total counter$")
        self.assertRegex(text, r"(?m)^# TYPE ticketon_http_request_duration_seconds histogram$")
        self.assertRegex(text, r"(?m)^# TYPE ticketon_http_connections_open gauge$")
        samples = parse_metrics(text)
        requests = [s for s in samples if s[0] == "ticketon_http_requests_total"]
        self.assertTrue(requests)
        for _, labels, _ in requests:
            self.assertIn("route", labels, labels)
            self.assertIn("status", labels, labels)
        buckets = [s for s in samples if s[0] == "ticketon_http_request_duration_seconds_bucket"]
        self.assertTrue(any(labels.get("le") == "+Inf" for _, labels, _ in buckets), buckets)
        open_now = [v for name, _, v in samples if name == "ticketon_http_connections_open"]
        self.assertTrue(open_now and sum(open_now) >= 1,
                        f"the /metrics request's own connection is open: {open_now}")
        # Every kind of stream is a series from the start, at 0 before its first client.
        kinds = {labels.get("kind") for name, labels, _ in samples if name == "ticketon_sse_clients"}
        self.assertEqual(kinds, {"queue", "seats", "notifications"}, text)

    def test_request_counter_per_route_and_status(self):
        s = self.srv.signup()
        for _ in range(3):
            self.assertStatus(self.srv.call("GET", f"{API}/me", token=s.access_token), 200)
        self.assertStatus(self.srv.call("GET", f"{API}/me"), 401)

        def count(status):
            return sum(v for name, labels, v in parse_metrics(self.metrics())
                       if name == "ticketon_http_requests_total"
                       and labels.get("route") == f"{API}/me" and labels.get("status") == status)

        ok_before = count("200")
        self.assertGreaterEqual(ok_before, 3)
        self.assertGreaterEqual(count("401"), 1)
        self.srv.call("GET", f"{API}/me", token=s.access_token)
        self.assertEqual(count("200"), ok_before + 1, "counter moves with each request")

    def test_database_writer_counters_move_with_holds_and_releases(self):
        def sample(name):
            values = [v for n, _, v in parse_metrics(self.metrics()) if n == name]
            self.assertEqual(len(values), 1, f"{name} in /metrics")
            return values[0]

        text = self.metrics()
        self.assertRegex(text, r"(?m)^# TYPE ticketon_db_writes_total counter$")
        self.assertRegex(text, r"(?m)^# TYPE ticketon_db_writes_queued gauge$")
        manager = self.srv.create_user("MANAGER")
        event_id = create_event(self.srv, manager.access_token)
        buyer = self.srv.signup().access_token  # a write too: counted before the hold
        writes, batches = sample("ticketon_db_writes_total"), sample("ticketon_db_write_batches_total")
        h = self.assertStatus(hold(self.srv, buyer, event_id, seats=["A-1-1"]), 201, "hold")
        self.assertStatus(self.srv.call("DELETE", f"{API}/holds/{h['holdId']}", token=buyer), 204, "release")
        self.assertEqual(sample("ticketon_db_writes_total"), writes + 2, "the hold and the release")
        self.assertEqual(sample("ticketon_db_write_batches_total"), batches + 2, "one at a time: a commit each")
        self.assertEqual(sample("ticketon_db_writes_queued"), 0)

    def test_account_reads_count_cache_misses_in_batches(self):
        def sample(name):
            values = [v for n, _, v in parse_metrics(self.metrics()) if n == name]
            self.assertEqual(len(values), 1, f"{name} in /metrics")
            return values[0]

        self.assertRegex(self.metrics(), r"(?m)^# TYPE ticketon_account_reads_total counter$")
        token = self.srv.create_user("USER").access_token
        reads, batches = sample("ticketon_account_reads_total"), sample("ticketon_account_read_batches_total")
        self.assertStatus(self.srv.call("GET", f"{API}/me", token=token), 200)
        after_first = sample("ticketon_account_reads_total")
        self.assertLessEqual(after_first, reads + 1, "at most one read for one new user")
        self.assertGreaterEqual(sample("ticketon_account_read_batches_total"), batches + (after_first - reads))
        for _ in range(3):
            self.assertStatus(self.srv.call("GET", f"{API}/me", token=token), 200)
        self.assertEqual(sample("ticketon_account_reads_total"), after_first,
                         "the account is remembered: later requests read nothing")

    def test_routes_are_templates_not_raw_paths(self):
        # Unknown paths must not create one series each (unbounded label cardinality).
        marker = unique_email("card").split("@")[0]
        self.srv.call("GET", f"{API}/{marker}")
        self.assertNotIn(marker, self.metrics())


class logs_test(e2e_case):
    def test_stderr_is_json_lines_with_request_ids(self):
        password = "log-secret-password-1"
        with harness.server(env={"TICKETON_LOG_LEVEL": "info"}) as srv:
            s = srv.signup(email=unique_email("log"), password=password)
            srv.call("GET", f"{API}/me", token=s.access_token,
                     headers={"X-Request-Id": "log-probe-123"})
            srv.call("GET", f"{API}/nope", headers={"X-Request-Id": "log-probe-404"})
            self.assertEqual(srv.stop(), 0, srv.stderr_text())
            text = srv.stderr_text()
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.fail(f"stderr line {number} is not JSON: {line!r}")
            self.assertIsInstance(record, dict, f"line {number}: {line!r}")
            records.append(record)
        ids = [r.get("requestId") for r in records]
        self.assertIn("log-probe-123", ids, f"no request log line for it in:\n{text}")
        self.assertIn("log-probe-404", ids, f"no request log line for it in:\n{text}")
        self.assertNotIn(password, text, "the password appears in the logs")
        self.assertNotIn(s.access_token, text, "an access token appears in the logs")
        self.assertNotIn(s.refresh_token, text, "a refresh token appears in the logs")


class shutdown_test(e2e_case):
    def check_graceful(self, sig):
        with harness.server() as srv:
            self.assertStatus(srv.call("GET", "/healthz"), 200)
            port = srv.port
            srv.send_signal(sig)
            self.assertTrue(harness.wait_until(lambda: connect_refused(port), 10.0),
                            "new connections still accepted 10 s after the signal")
            code = srv.wait(10.0)
            self.assertIsNotNone(code, "still running 10 s after the signal")
            self.assertEqual(code, 0, srv.stderr_text())

    def test_sigterm_exits_zero(self):
        self.check_graceful(signal.SIGTERM)

    def test_sigint_exits_zero(self):
        self.check_graceful(signal.SIGINT)

    def test_sigterm_finishes_a_request_in_flight(self):
        # A request whose body is half sent when SIGTERM arrives is in flight: a draining
        # server reads the rest and answers it in full.
        with harness.server() as srv:
            email = unique_email("inflight")
            body = json.dumps({"email": email, "password": harness.DEFAULT_PASSWORD,
                               "name": "In Flight"}).encode()
            with srv.raw() as conn:
                conn.send(request_bytes("POST", f"{API}/auth/signup",
                                        {"Content-Type": "application/json",
                                         "Content-Length": str(len(body))}))
                conn.send(body[:10])
                time.sleep(0.2)
                srv.send_signal(signal.SIGTERM)
                time.sleep(0.2)
                try:
                    conn.send(body[10:])
                    response = conn.read_response()
                except (ConnectionError, BrokenPipeError) as e:
                    self.fail(f"request in flight dropped at shutdown: {e!r}")
            self.assertEqual(response.status, 201, response)
            self.assertEqual(response.json()["user"]["email"], email)
            self.assertEqual(srv.wait(10.0), 0, srv.stderr_text())


class wildcard_server(harness.server):
    """A `serve` listening on 0.0.0.0 (every interface); the tests still only connect to
    127.0.0.1."""

    def free_port(self):
        # Free on every address, not only on 127.0.0.1: client sockets bound to other loopback
        # addresses (the load generator's test) may hold a port 127.0.0.1 does not.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("0.0.0.0", 0))
            return s.getsockname()[1]

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--listen") + 1] = f"0.0.0.0:{self.port}"
        return cmd


class sandbox_listen_test(e2e_case):
    """The Toss sandbox approves any payment and takes fault injection from anyone who reaches
    it: it refuses a listen address that is not loopback unless payment.sandbox_public."""

    def test_serve_with_the_sandbox_on_a_public_address_exits_2(self):
        proc = harness.run_binary(["serve", "--listen", f"0.0.0.0:{harness.free_port()}",
                                   "--no-demo", "--data-dir", "unused"], timeout=15.0)
        one_line_error(self, proc, "payment.sandbox_public")

    def test_standalone_sandbox_on_a_public_address_exits_2(self):
        proc = harness.run_binary(["toss-sandbox", "--listen",
                                   f"0.0.0.0:{harness.free_port()}"], timeout=15.0)
        one_line_error(self, proc, "payment.sandbox_public")

    def test_sandbox_public_lets_it_start(self):
        with wildcard_server(env={"TICKETON_PAYMENT_SANDBOX_PUBLIC": "true"}) as srv:
            self.assertStatus(srv.call("GET", "/healthz"), 200)
            self.assertEqual(srv.stop(), 0, srv.stderr_text())

    def test_the_real_provider_is_not_refused_on_a_public_address(self):
        with wildcard_server(env={"TICKETON_PAYMENT_PROVIDER": "toss"}) as srv:
            self.assertStatus(srv.call("GET", "/healthz"), 200)
            self.assertEqual(srv.stop(), 0, srv.stderr_text())
            self.assertNotIn("sandbox_public", srv.stderr_text())


class config_test(e2e_case):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ticketon-e2e-cfg-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)

    def serve(self, *args, env=None):
        return harness.run_binary(["serve", "--data-dir", str(self.dir / "data"), "--no-demo",
                                   *args], env=env, timeout=15.0)

    def test_bad_listen_flag(self):
        one_line_error(self, self.serve("--listen", "nonsense"))

    def test_bad_number_in_environment(self):
        proc = self.serve("--listen", f"127.0.0.1:{harness.free_port()}",
                          env={"TICKETON_SERVER_MAX_BODY_BYTES": "abc"})
        one_line_error(self, proc, "server.max_body_bytes")

    def test_malformed_trusted_proxy(self):
        proc = self.serve("--listen", f"127.0.0.1:{harness.free_port()}",
                          env={"TICKETON_SERVER_TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.0/33"})
        line = one_line_error(self, proc, "server.trusted_proxies")
        self.assertIn('"10.0.0.0/33"', line)

    def test_unknown_key_in_config_file(self):
        config = self.dir / "ticketon.toml"
        config.write_text('[server]\nlisten_typo = "127.0.0.1:9"\n')
        proc = self.serve("--config", str(config), "--listen",
                          f"127.0.0.1:{harness.free_port()}")
        one_line_error(self, proc, "listen_typo")

    def test_missing_config_file(self):
        proc = self.serve("--config", str(self.dir / "absent.toml"))
        one_line_error(self, proc)

    def test_unknown_command(self):
        proc = harness.run_binary(["frobnicate"], timeout=15.0)
        self.assertEqual(proc.returncode, 2, proc.stderr)

    def test_flag_beats_environment(self):
        with harness.server(env={"TICKETON_SERVER_LISTEN": "127.0.0.1:1"}) as srv:
            self.assertStatus(srv.call("GET", "/healthz"), 200, f"on --listen port {srv.port}")

    def test_config_file_applies_and_environment_beats_it(self):
        toml = "[server]\nmax_body_bytes = 1024\n"
        big = (b'{"email": "' + unique_email("cfg").encode() + b'", "password": "pw-123456789"' +
               b" " * 4000 + b"}")
        with harness.server(toml=toml) as srv:
            self.assertProblem(srv.call("POST", f"{API}/auth/login", big), 413,
                               "PAYLOAD_TOO_LARGE", msg="limit from the TOML file")
        with harness.server(toml=toml,
                            env={"TICKETON_SERVER_MAX_BODY_BYTES": "1000000"}) as srv:
            self.assertProblem(srv.call("POST", f"{API}/auth/login", big), 401, "UNAUTHORIZED",
                               msg="environment overrides the TOML file")

    def test_migrate_fresh_data_dir(self):
        data = self.dir / "data"
        for run in (1, 2):
            proc = harness.run_binary(["migrate", "--data-dir", str(data)], timeout=30.0)
            self.assertEqual(proc.returncode, 0, f"migrate run {run}: {proc.stderr!r}")
        databases = [p for p in data.rglob("*") if p.is_file()
                     and p.read_bytes()[:16] == b"SQLite format 3\x00"]
        self.assertTrue(databases, f"no SQLite file in {list(data.rglob('*'))}")


if __name__ == "__main__":
    unittest.main()
