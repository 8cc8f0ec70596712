"""The built binary on MariaDB instead of SQLite (issue 13, the MySQL Database engine):
`ticketon migrate --db mysql://…` brings an empty database up to date (and again finds nothing
to do), `ticketon serve` on it signs users up, sells seats through the Toss sandbox, refuses a
second sale of a seat, survives a restart with everything sold still sold, and the audit finds
nothing wrong.

The server is the run's MariaDB (CTest's `mariadb` fixture, TICKETON_TEST_MARIADB_DIR), or one
this file starts with tkt-mariadb when run by hand."""

import os
import shutil
import subprocess
import tempfile
import unittest
import uuid
from pathlib import Path

import harness
from harness import (audit, buy, create_event, e2e_case, get_order, hold, hold_ok, run_binary,
                     seat_statuses)



class mariadb:
    """The MariaDB server this file uses, and a database of its own on it."""

    def __init__(self):
        self.own_dir = None
        fixture = os.environ.get("TICKETON_TEST_MARIADB_DIR")
        if fixture and (Path(fixture) / "url").exists():
            self.dir = Path(fixture)
        else:
            self.own_dir = Path(tempfile.mkdtemp(prefix="ticketon-e2e-mariadb-"))
            self.dir = self.own_dir / "server"
            subprocess.run([harness.mariadb_tool(), "start", str(self.dir)], check=True,
                           timeout=180, stdout=subprocess.DEVNULL)
        # mysql://user:pass@127.0.0.1:port/ as tkt-mariadb wrote it.
        self.server_url = (self.dir / "url").read_text().strip()
        self.database = f"e2e_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {self.database} CHARACTER SET utf8mb4 "
                   "COLLATE utf8mb4_nopad_bin")
        self.url = self.server_url + self.database

    def admin(self, sql):
        """Runs one statement with the mariadb client as the test user."""
        harness.mariadb_cli(self.server_url, sql)

    def close(self):
        try:
            self.admin(f"DROP DATABASE IF EXISTS {self.database}")
        finally:
            if self.own_dir is not None:
                subprocess.run([harness.mariadb_tool(), "stop", str(self.dir)], timeout=120,
                               stdout=subprocess.DEVNULL)
                shutil.rmtree(self.own_dir, ignore_errors=True)


class mysql_case(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.db = mariadb()
        cls.addClassCleanup(cls.db.close)
        cls.env = {"TICKETON_DB_URL": cls.db.url, "TICKETON_PAYMENT_PROVIDER": "sandbox"}

    def test_migrate_then_serve_sell_restart_and_audit(self):
        first = run_binary(["migrate", "--db", self.db.url])
        self.assertEqual(first.returncode, 0, first.stderr)
        again = run_binary(["migrate", "--db", self.db.url])
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("up to date", again.stdout)
        self.assertNotIn(self.db.url, again.stdout + again.stderr, "the password is not shown")

        with harness.server(env=self.env) as srv:
            manager = srv.create_user("MANAGER")
            event_id = create_event(srv, manager.access_token)
            buyer = srv.signup()
            order = buy(srv, buyer.access_token, event_id, seats=["A-1-1", "A-1-2"])
            self.assertEqual(len(order["tickets"]), 2, order)
            rival = srv.signup()
            status, _, body = hold(srv, rival.access_token, event_id, seats=["A-1-2"])
            self.assertEqual(status, 409, f"a sold seat is held again: {body!r}")
            held = hold_ok(srv, rival.access_token, event_id, seats=["A-1-3"])
            status, _, pending = get_order(srv, rival.access_token, held["orderId"])
            self.assertEqual((status, pending.get("status")), (200, "PENDING_PAYMENT"), pending)
            report = audit(srv, manager.access_token, event_id)
            self.assertEqual(report["violations"], [], report)
            self.assertEqual(report["sold"], 2, report)
            self.assertEqual(report["held"], 1, report)

            # The store is the truth: after a restart the sold seats are rebuilt from MariaDB.
            srv.restart()
            seats = seat_statuses(srv, event_id)
            self.assertEqual(seats["A-1-1"], "SOLD", seats)
            self.assertEqual(seats["A-1-2"], "SOLD", seats)
            self.assertEqual(seats["A-1-3"], "HELD", seats)
            self.assertEqual(seats["A-1-4"], "AVAILABLE", seats)
            again_buyer = srv.login(buyer.email)
            status, _, orders = srv.call("GET", "orders", token=again_buyer.access_token)
            self.assertEqual(status, 200, orders)
            self.assertEqual([o["id"] for o in orders["items"]], [order["id"]], orders)
            report = audit(srv, manager.access_token, event_id)
            self.assertEqual(report["violations"], [], report)

    def test_a_bad_mysql_url_is_a_usage_error_with_a_reason(self):
        proc = run_binary(["migrate", "--db", "mysql://u:s3cret@127.0.0.1:1/"])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no database name", proc.stderr)
        self.assertNotIn("s3cret", proc.stderr)
        unreachable = run_binary(["migrate", "--db", "mysql://u:s3cret@127.0.0.1:1/db"])
        self.assertNotEqual(unreachable.returncode, 0)
        self.assertIn("cannot connect to MySQL", unreachable.stderr)
        self.assertNotIn("s3cret", unreachable.stderr)


if __name__ == "__main__":
    unittest.main()
