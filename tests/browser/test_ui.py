"""Browser tests of the web UI (issue 16): the built `ticketon` serves this checkout's web/ at
`/` (server.web_dir, so the files under test are the ones beside this test), and node drives
Debian's chromium through playwright-core (package-lock.json pins it): flow.mjs as a buyer
would, manage.mjs as a manager, an administrator and a social sign-in would. This file starts
the server with tests/e2e/harness.py (Kakao and Naver pointed at the local OAuth2 stand-in),
makes the accounts, and hands the rest to node.

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
from oauth_standin import kakao_profile, standin  # noqa: E402
from test_oauth_oidc_provider import CLIENT_ID, CLIENT_SECRET, oidc_provider  # noqa: E402

NODE_TIMEOUT_S = 150
WEB_DIR = HERE.parent.parent / "web"


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


def screenshots_dir():
    shots = os.environ.get("TICKETON_SCREENSHOTS") or os.environ.get(
        "TICKETON_SCREENSHOTS_DEFAULT") or str(HERE / "screenshots")
    Path(shots).mkdir(parents=True, exist_ok=True)
    return shots


def run_node(case, script, **env):
    """Runs a node script of this folder against `case.srv`; fails with its stderr."""
    env = {**os.environ, "BASE_URL": case.srv.base_url, "CHROMIUM": chromium(),
           "SCREENSHOTS": screenshots_dir(), **env}
    proc = subprocess.run(["node", str(HERE / script)], env=env, cwd=HERE,
                          capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    sys.stderr.write(proc.stdout[-6000:])
    case.assertEqual(proc.returncode, 0, f"{script} failed:\n{proc.stderr[-6000:]}")


def require_browser():
    if chromium() is None or shutil.which("node") is None:
        raise unittest.SkipTest("chromium or node is missing: run scripts/bootstrap")
    ensure_node_modules()


class web_ui(harness.e2e_case):
    @classmethod
    def setUpClass(cls):
        require_browser()
        # Social login: Kakao, Naver and a generic OpenID provider `acme` configured (all
        # pointed at the local stand-in), Google not.
        cls.provider = standin()
        cls.addClassCleanup(cls.provider.close)
        env = cls.provider.env()
        env["TICKETON_SERVER_WEB_DIR"] = str(WEB_DIR)
        cls.srv = harness.class_server(cls, env=env)
        cls.manager = cls.srv.create_user("MANAGER")

    def run_node(self, script, **env):
        run_node(self, script, **env)

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
        self.run_node("flow.mjs", EVENT_ID=str(event_id), CROWD_TOKENS=json.dumps(crowd))
        # What the browser bought is what the server holds: two seats sold, an audit clean.
        statuses = harness.seat_statuses(self.srv, event_id)
        sold = sorted(seat for seat, status in statuses.items() if status == "SOLD")
        self.assertEqual(len(sold), 2, sold)
        self.assertEqual(harness.audit(self.srv, self.manager.access_token, event_id)["violations"], [])

    def test_manager_admin_and_social_login_in_a_browser(self):
        admin = self.srv.create_user("ADMIN")
        buyer = self.srv.signup(name="Jun")
        second = self.srv.signup(name="Second Buyer")
        victim = self.srv.signup(name="Victim")
        social_email = harness.unique_email("kakao")
        # The person who signs in with Kakao in the browser (the stand-in answers as Kakao).
        self.provider.next = {"profile": kakao_profile("424242", social_email, nickname="카카오 손님")}
        accounts = {"manager": self.manager, "admin": admin, "buyer": buyer, "victim": victim}
        env = {f"{k.upper()}_EMAIL": v.email for k, v in accounts.items()}
        env.update({f"{k.upper()}_PASSWORD": v.password for k, v in accounts.items()})
        env.update({"SECOND_TOKEN": second.access_token, "SOCIAL_EMAIL": social_email,
                    "CROWD_TOKENS": json.dumps([self.srv.signup().access_token
                                                for _ in range(8)])})
        self.run_node("manage.mjs", **env)
        # What the browser did is what the server holds.
        events = self.assertStatus(self.srv.call("GET", "manager/events",
                                                 token=self.manager.access_token), 200)["items"]
        made = [e for e in events if e["title"] == "Night Market Live"]
        self.assertEqual(len(made), 1, events)
        self.assertEqual(made[0]["status"], "CANCELLED")
        self.assertEqual(made[0]["waitingRoom"]["enabled"], True)
        self.assertEqual(made[0]["capacity"], 20)
        self.assertEqual(harness.audit(self.srv, self.manager.access_token, made[0]["id"])["violations"], [])
        # Section A is R with both its rows sold as VIP (the editor's "first rows in another grade").
        detail = self.assertStatus(self.srv.call("GET", f"events/{made[0]['id']}",
                                                 token=self.manager.access_token), 200)
        section_a = next(s for s in detail["sections"] if s["name"] == "A")
        self.assertEqual((section_a["grade"], [r.get("grade") for r in section_a["rows"]]),
                         ("R", ["VIP", "VIP"]))
        lawn = [e for e in events if e["title"] == "Summer Lawn Festival"]
        self.assertEqual([(e["status"], e["seating"], e["capacity"]) for e in lawn],
                         [("DRAFT", "GENERAL", 150)])
        users = self.assertStatus(self.srv.call("GET", f"admin/users?q={victim.email}",
                                                token=admin.access_token), 200)["items"]
        self.assertEqual([u["status"] for u in users], ["DISABLED"])
        users = self.assertStatus(self.srv.call("GET", f"admin/users?q={social_email}",
                                                token=admin.access_token), 200)["items"]
        self.assertEqual([u["name"] for u in users], ["카카오 손님"])


class toss_widget_in_a_browser(harness.e2e_case):
    """payment.provider = toss with a client key: the checkout loads the widget SDK from
    payment.toss.widget_url (here a standalone `ticketon toss-sandbox`, whose stand-in SDK and
    payment window play Toss's part), the buyer pays in the window, and the UI confirms the
    payment when the window sends the browser back (widget.mjs)."""

    CLIENT_KEY = "test_gck_ticketon_browser"

    @classmethod
    def setUpClass(cls):
        require_browser()
        cls.toss = cls.enterClassContext(harness.toss_sandbox())
        cls.widget_url = cls.toss.base_url + "/v2/standard"
        env = {"TICKETON_SERVER_WEB_DIR": str(WEB_DIR),
               "TICKETON_PAYMENT_PROVIDER": "toss",
               "TICKETON_PAYMENT_TOSS_BASE_URL": cls.toss.base_url,
               "TICKETON_PAYMENT_TOSS_SECRET_KEY": cls.toss.secret_key,
               "TICKETON_PAYMENT_TOSS_CLIENT_KEY": cls.CLIENT_KEY,
               "TICKETON_PAYMENT_TOSS_WIDGET_URL": cls.widget_url}
        cls.srv = harness.class_server(cls, env=env)
        cls.manager = cls.srv.create_user("MANAGER")

    def test_pay_through_the_widget_in_a_browser(self):
        self.assertEqual(self.assertStatus(self.srv.call("GET", "payments/config"), 200),
                         {"provider": "toss", "clientKey": self.CLIENT_KEY,
                          "widgetUrl": self.widget_url})
        layout = harness.reserved_layout(rows=1, seats=6, section="A", grade="R", price=70000)
        event_id = harness.create_event(self.srv, self.manager.access_token, layout=layout,
                                        title="Widget Night", hold_seconds=300)
        buyer = self.srv.signup(name="Widget Buyer")
        run_node(self, "widget.mjs", EVENT_ID=str(event_id), BUYER_EMAIL=buyer.email,
                 BUYER_PASSWORD=buyer.password)
        # What the browser did is what the server and Toss hold: one order paid (its payment
        # DONE at Toss), the declined one failed, one seat sold, the audit clean.
        orders = self.assertStatus(self.srv.call("GET", "orders", token=buyer.access_token),
                                   200)["items"]
        self.assertEqual(sorted(o["status"] for o in orders), ["FAILED", "PAID"], orders)
        paid = next(o for o in orders if o["status"] == "PAID")
        self.assertEqual(paid["seats"], ["A-1-1"])
        self.assertEqual(harness.sandbox_status(self.toss, paid["paymentKey"]), "DONE")
        statuses = harness.seat_statuses(self.srv, event_id)
        self.assertEqual(sorted(seat for seat, status in statuses.items() if status == "SOLD"),
                         ["A-1-1"])
        self.assertEqual(harness.audit(self.srv, self.manager.access_token, event_id)["violations"],
                         [])


class social_login_with_a_real_openid_provider(harness.e2e_case):
    """The login page's button for a provider configured by issuer alone, through the real
    oidc-provider (tests/oidc, as tests/e2e/test_oauth_oidc_provider.py starts it)."""

    @classmethod
    def setUpClass(cls):
        require_browser()
        # The redirect URI is registered at the provider before the server starts: fix the port.
        cls.port = harness.free_port()
        redirect_uri = f"http://127.0.0.1:{cls.port}/api/v1/auth/oauth2/idp/callback"
        cls.provider = oidc_provider(redirect_uri)
        cls.addClassCleanup(cls.provider.close)
        env = {"TICKETON_AUTH_OAUTH2_PROVIDERS": "idp",
               "TICKETON_AUTH_OAUTH2_IDP_CLIENT_ID": CLIENT_ID,
               "TICKETON_AUTH_OAUTH2_IDP_CLIENT_SECRET": CLIENT_SECRET,
               "TICKETON_AUTH_OAUTH2_IDP_ISSUER": cls.provider.issuer,
               "TICKETON_SERVER_PUBLIC_URL": f"http://127.0.0.1:{cls.port}",
               "TICKETON_SERVER_WEB_DIR": str(WEB_DIR)}
        cls.srv = harness.class_server(cls, env=env, port=cls.port)

    def test_sign_in_with_the_provider_in_a_browser(self):
        email = harness.unique_email("oidc-web")
        self.provider.set_next(sub="web-person-1", email=email, email_verified=True,
                               name="Oidc Person")
        run_node(self, "social.mjs", PROVIDER_LABEL="Idp", PERSON_NAME="Oidc Person")
        admin = self.srv.create_user("ADMIN")
        users = self.assertStatus(self.srv.call("GET", f"admin/users?q={email}",
                                                token=admin.access_token), 200)["items"]
        self.assertEqual([(u["name"], u["role"]) for u in users], [("Oidc Person", "USER")])


if __name__ == "__main__":
    unittest.main()
