"""Social login against a real OpenID provider (issue 15): `oidc-provider` from npm, started on
loopback by this test (tests/oidc/provider.mjs), driven through the whole browser-less
authorization code flow: discovery, the authorize request with PKCE and a nonce, the provider's
session and consent cookies, the token request, the ID token's RS256 signature, userinfo.

`npm ci` installs the provider from tests/oidc/package-lock.json when node_modules is missing
(scripts/bootstrap installs node and npm).
"""

import http.client
import json
import os
import shutil
import subprocess
import unittest
import urllib.parse
from pathlib import Path

import harness

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "ticketon-e2e"
CLIENT_SECRET = "a-client-secret-for-the-e2e-tests"


def install_provider():
    if (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: run scripts/bootstrap")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=OIDC_DIR,
                   check=True, capture_output=True, timeout=300)


class oidc_provider:
    """`node provider.mjs` on a free loopback port."""

    def __init__(self, redirect_uri):
        install_provider()
        self.port = harness.free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["node", "provider.mjs", str(self.port), CLIENT_ID, CLIENT_SECRET, redirect_uri],
            cwd=OIDC_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"oidc-provider did not start: {line!r} {self.proc.stderr.read()}")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def set_next(self, **person):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/_test/next", body=json.dumps(person),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 204, resp.status
        finally:
            conn.close()

    def browse(self, location, stop_at):
        """Follows the provider's redirects with its cookies, as a browser would, until one
        leads to `stop_at`; returns that URL."""
        cookies = {}
        for _ in range(10):
            if location.startswith(stop_at):
                return location
            url = urllib.parse.urlsplit(urllib.parse.urljoin(self.issuer + "/", location))
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                headers = {}
                if cookies:
                    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
                conn.request("GET", url.path + ("?" + url.query if url.query else ""),
                             headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                for value in resp.headers.get_all("Set-Cookie") or []:
                    name, _, rest = value.partition("=")
                    cookies[name.strip()] = rest.split(";", 1)[0]
                if resp.status not in (302, 303):
                    raise AssertionError(f"the provider answered {resp.status}: {body[:500]!r}")
                location = urllib.parse.urljoin(self.issuer + "/", resp.headers["Location"])
            finally:
                conn.close()
        raise AssertionError("too many redirects at the provider")


class sign_in_with_a_real_openid_provider(harness.e2e_case):
    @classmethod
    def setUpClass(cls):
        # The redirect URI must be registered before ticketon's port is known: fix the port.
        cls.port = harness.free_port()
        cls.redirect_uri = f"http://127.0.0.1:{cls.port}/api/v1/auth/oauth2/idp/callback"
        cls.provider = oidc_provider(cls.redirect_uri)
        cls.addClassCleanup(cls.provider.close)
        env = {"TICKETON_AUTH_OAUTH2_PROVIDERS": "idp",
               "TICKETON_AUTH_OAUTH2_IDP_CLIENT_ID": CLIENT_ID,
               "TICKETON_AUTH_OAUTH2_IDP_CLIENT_SECRET": CLIENT_SECRET,
               "TICKETON_AUTH_OAUTH2_IDP_ISSUER": cls.provider.issuer,
               "TICKETON_SERVER_PUBLIC_URL": f"http://127.0.0.1:{cls.port}"}
        cls.srv = harness.class_server(cls, env=env, port=cls.port)

    def sign_in(self, accept_json=True):
        status, headers, body = self.srv.call("GET", "auth/oauth2/idp")
        self.assertEqual(status, 302, body)
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        back = self.provider.browse(headers["Location"], self.redirect_uri)
        url = urllib.parse.urlsplit(back)
        hdrs = {"Cookie": cookie}
        if accept_json:
            hdrs["Accept"] = "application/json"
        return self.srv.call("GET", url.path + "?" + url.query, headers=hdrs)

    def test_the_whole_code_flow(self):
        email = harness.unique_email("oidc")
        self.provider.set_next(sub="person-1", email=email, email_verified=True, name="Oidc Person")
        body = self.assertStatus(self.sign_in(), 200)
        self.assertEqual(body["user"]["email"], email)
        self.assertEqual(body["user"]["name"], "Oidc Person")
        self.assertEqual(body["user"]["role"], "USER")
        self.assertStatus(self.srv.call("GET", "me", token=body["accessToken"]), 200)
        # Again, as a browser: the same account, the tokens in the fragment.
        status, headers, _ = self.sign_in(accept_json=False)
        self.assertEqual(status, 302)
        fragment = dict(urllib.parse.parse_qsl(headers["Location"].split("#", 1)[1]))
        me = self.assertStatus(self.srv.call("GET", "me", token=fragment["accessToken"]), 200)
        self.assertEqual(me["id"], body["user"]["id"])

    def test_the_person_refuses(self):
        self.provider.set_next(deny=True)
        self.assertProblem(self.sign_in(), 401, "OAUTH_DENIED")

    def test_an_unverified_email_of_an_existing_account_is_not_linked(self):
        existing = self.srv.signup()
        self.provider.set_next(sub="person-2", email=existing.email, email_verified=False,
                               name="Somebody")
        self.assertProblem(self.sign_in(), 409, "CONFLICT")
        self.provider.set_next(sub="person-2", email=existing.email, email_verified=True,
                               name="Somebody")
        body = self.assertStatus(self.sign_in(), 200)
        self.assertEqual(body["user"]["id"], existing.id)


if __name__ == "__main__":
    unittest.main()
