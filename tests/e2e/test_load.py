"""`ticketon load onsale` (issue 14) against the embedded server: a small on-sale from a few
hundred simulated users ends with a clean audit and its figures as JSON and an SVG chart; with a
planted fault (a failpoint that puts sold seats back on sale) the run reports the violation and
exits non-zero."""

import json
import unittest

import harness
from harness import e2e_case, run_binary


class load_test(e2e_case):
    def run_load(self, srv, manager, workdir, users=300, seats=200, extra=()):
        args = ["load", "onsale", "--target", srv.base_url, "--users", str(users),
                "--seats", str(seats), "--duration", "90", "--decline-rate", "0.1",
                "--abandon-rate", "0.1", "--cancel-rate", "0.05",
                "--manager-email", manager.email, "--manager-password", manager.password,
                "--json", str(workdir / "run.json"), "--chart", str(workdir / "run.svg"), *extra]
        return run_binary(args, timeout=150)

    def test_a_small_onsale_ends_with_a_clean_audit(self):
        with harness.server() as srv:
            manager = srv.create_user("MANAGER")
            proc = self.run_load(srv, manager, srv.root)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("invariants: all hold", proc.stdout)
            figures = json.loads((srv.root / "run.json").read_text())
            self.assertEqual(figures["violations"], [])
            steps = {s["name"]: s for s in figures["steps"]}
            for name in ("signup", "join", "wait", "seatmap", "hold", "pay", "confirm"):
                self.assertIn(name, steps, figures)
                for key in ("p50Ms", "p90Ms", "p99Ms", "maxMs", "perSecond"):
                    self.assertIn(key, steps[name])
            self.assertEqual(steps["signup"]["count"], 300)
            self.assertEqual(steps["join"]["outcomes"], {"200": 300})
            totals = figures["totals"]
            # 300 people for 200 seats: it sells out, and every seat is sold, held or free.
            self.assertGreater(totals["ordersPaid"], 0)
            self.assertEqual(totals["audit.sold"], totals["seatsPaidAndKept"])
            self.assertEqual(totals["audit.sold"] + totals["audit.held"] +
                             totals["audit.available"], 200)
            self.assertGreater(steps["hold"]["outcomes"].get("409", 0), 0,
                               "nobody collided on a seat")
            self.assertEqual(totals["queue.admittedTotal"], 300)
            chart = (srv.root / "run.svg").read_text()
            self.assertTrue(chart.startswith("<svg "), chart[:80])
            self.assertIn("invariants hold", chart)

    def test_a_planted_double_sale_is_reported_and_fails_the_run(self):
        with harness.server(env={"TICKETON_FAILPOINTS": "booking.resell_sold_seats"}) as srv:
            manager = srv.create_user("MANAGER")
            proc = self.run_load(srv, manager, srv.root, users=60, seats=40)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("VIOLATED", proc.stdout)
            figures = json.loads((srv.root / "run.json").read_text())
            self.assertTrue(any(v.startswith("audit: ") for v in figures["violations"]),
                            figures["violations"])
            self.assertIn("INVARIANTS VIOLATED", (srv.root / "run.svg").read_text())

    def test_the_one_step_scenarios_run_and_audit(self):
        with harness.server() as srv:
            manager = srv.create_user("MANAGER")
            for scenario, steps in (("seatmap", {"seatmap"}),
                                    ("hold", {"signup", "hold", "release"}),
                                    ("join", {"signup", "join"}),
                                    ("streams", {"open", "hold", "release", "push"})):
                out = srv.root / f"{scenario}.json"
                proc = run_binary(["load", scenario, "--target", srv.base_url, "--users", "10",
                                   "--seats", "50", "--duration", "4",
                                   "--manager-email", manager.email,
                                   "--manager-password", manager.password, "--json", str(out)],
                                  timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                figures = json.loads(out.read_text())
                got = {s["name"]: s for s in figures["steps"]}
                self.assertTrue(steps <= set(got), (scenario, figures["steps"]))
                for name in steps:
                    self.assertGreater(got[name]["ok"], 0, (scenario, name))
                    self.assertEqual(got[name]["ok"], got[name]["count"], (scenario, name))
                self.assertEqual(figures["violations"], [])
                if scenario == "streams":
                    # 9 watchers saw the driver's changes (a hold and a release a second; the first
                    # may come before a slow stream opened, the last after the run ended).
                    self.assertEqual(got["open"]["count"], 9)
                    self.assertGreaterEqual(got["push"]["count"], 9 * (got["hold"]["count"] +
                                                                     got["release"]["count"] - 2))
                # Nothing is left held or sold by these scenarios.
                self.assertEqual(figures["totals"]["audit.available"], 50, scenario)

    def test_users_told_503_come_back_and_waiting_users_poll(self):
        # The server takes 40 connections and the run opens up to 60: the rest are answered
        # 503 with Retry-After, and those users ask again. No queue streams: everyone waiting
        # polls GET /queue.
        with harness.server(env={"TICKETON_SERVER_MAX_CONNECTIONS": "40"}) as srv:
            manager = srv.create_user("MANAGER")
            proc = self.run_load(srv, manager, srv.root, users=150, seats=100,
                                 extra=["--connections", "60", "--streams-max", "0",
                                        "--admit-per-second", "30"])
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            figures = json.loads((srv.root / "run.json").read_text())
            steps = {s["name"]: s for s in figures["steps"]}
            totals = figures["totals"]
            told_503 = sum(s["outcomes"].get("503", 0) for s in figures["steps"])
            self.assertGreater(told_503, 0, steps)
            self.assertEqual(totals["retries"], told_503)
            # Asked again, they got in: every user signed up and joined, nobody was lost.
            self.assertEqual(steps["signup"]["outcomes"].get("201"), 150, steps["signup"])
            self.assertEqual(steps["join"]["outcomes"].get("200"), 150, steps["join"])
            # 30 admitted a second: most waited, on GET /queue.
            self.assertGreater(steps["poll"]["outcomes"].get("200", 0), 0, steps)
            self.assertEqual(totals["queue.admittedTotal"], 150)
            self.assertEqual(totals["audit.sold"] + totals["audit.held"] +
                             totals["audit.available"], 100)

    def test_users_pay_at_a_standalone_sandbox(self):
        # A deployment of several nodes pays at `ticketon toss-sandbox`: --sandbox names it.
        with harness.toss_sandbox() as toss, harness.server(env={
                "TICKETON_PAYMENT_PROVIDER": "toss",
                "TICKETON_PAYMENT_TOSS_BASE_URL": toss.base_url,
                "TICKETON_PAYMENT_TOSS_SECRET_KEY": toss.secret_key}) as srv:
            manager = srv.create_user("MANAGER")
            proc = self.run_load(srv, manager, srv.root, users=60, seats=40,
                                 extra=["--sandbox", toss.base_url])
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            figures = json.loads((srv.root / "run.json").read_text())
            steps = {s["name"]: s for s in figures["steps"]}
            self.assertEqual(steps["pay"]["ok"], steps["pay"]["count"], steps["pay"])
            self.assertGreater(figures["totals"]["ordersPaid"], 0)
            self.assertEqual(figures["totals"]["audit.sold"],
                             figures["totals"]["seatsPaidAndKept"])

    def test_a_bad_target_is_a_usage_error(self):
        proc = run_binary(["load", "onsale", "--target", "https://127.0.0.1:1",
                           "--manager-email", "m@example.com", "--manager-password", "pw"])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--target", proc.stderr)


if __name__ == "__main__":
    unittest.main()
