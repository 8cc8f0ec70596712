"""Browser tests of the web UI (issue 16): the built `ticketon` serves web/ at `/`, and
flow.mjs drives Debian's chromium through playwright-core (package-lock.json pins it) as a
buyer would. This file starts the server with tests/e2e/harness.py, makes the manager's event,
and hands the rest to node.

Screenshots go to $TICKETON_SCREENSHOTS (docs/screenshots to refresh the README's), else to
the build tree's folder CTest names in TICKETON_SCREENSHOTS_DEFAULT.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import harness  # noqa: E402

NODE_TIMEOUT_S = 150


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_node_modules():
    """`npm ci` once per checkout: playwright-core at the version package-lock.json pins. It
    downloads no browser; Debian's chromium is the one driven."""
    if (HERE / "node_modules" / "playwright-core").is_dir():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                   env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}, timeout=300)


class web_ui(harness.e2e_case):
    @classmethod
    def setUpClass(cls):
        if chromium() is None or shutil.which("node") is None:
            raise unittest.SkipTest("chromium or node is missing: run scripts/bootstrap")
        ensure_node_modules()
        cls.srv = harness.class_server(cls)
        cls.manager = cls.srv.create_user("MANAGER")

    def test_buyer_flow_in_a_browser(self):
        # One section of 2 rows of 8; the waiting room lets one person in per second, so the
        # people who join just before the buyer (flow.mjs does it) keep them waiting a while.
        layout = harness.reserved_layout(rows=2, seats=8, section="A", grade="VIP", price=88000)
        layout["grades"].append({"name": "R", "price": 55000})
        layout["sections"].append({"name": "B", "grade": "R",
                                   "rows": [{"row": "1", "seats": 10}, {"row": "2", "seats": 10}]})
        event_id = harness.create_event(
            self.srv, self.manager.access_token, layout=layout, title="Ticketon Live 2027",
            location="Seoul", hold_seconds=300,
            waitingRoom={"enabled": True, "admitPerSecond": 1, "maxActive": 500,
                         "entryTtlSeconds": 600})
        harness.create_event(self.srv, self.manager.access_token, layout=harness.ga_layout(capacity=300),
                             title="Summer Musical", category="MUSICAL", location="Busan")
        crowd = [self.srv.signup().access_token for _ in range(4)]
        shots = os.environ.get("TICKETON_SCREENSHOTS") or os.environ.get(
            "TICKETON_SCREENSHOTS_DEFAULT") or str(HERE / "screenshots")
        Path(shots).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BASE_URL": self.srv.base_url, "EVENT_ID": str(event_id),
               "CROWD_TOKENS": json.dumps(crowd), "CHROMIUM": chromium(),
               "SCREENSHOTS": shots}
        proc = subprocess.run(["node", str(HERE / "flow.mjs")], env=env, cwd=HERE,
                              capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
        sys.stderr.write(proc.stdout[-6000:])
        self.assertEqual(proc.returncode, 0, f"flow.mjs failed:\n{proc.stderr[-6000:]}")
        # What the browser bought is what the server holds: two seats sold, an audit clean.
        statuses = harness.seat_statuses(self.srv, event_id)
        sold = sorted(seat for seat, status in statuses.items() if status == "SOLD")
        self.assertEqual(len(sold), 2, sold)
        self.assertEqual(harness.audit(self.srv, self.manager.access_token, event_id)["violations"], [])


if __name__ == "__main__":
    unittest.main()
