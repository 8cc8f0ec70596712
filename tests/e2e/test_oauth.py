"""Social login against the local stand-in (issue 15): Kakao's and Naver's documented shapes and
a generic OpenID Connect provider, driven through the browser-less code flow, and every way it
can go wrong. The real OpenID provider (oidc-provider from npm) is in test_oauth_oidc_provider.py.
"""

import http.client
import unittest
import urllib.parse
import uuid

import harness
from oauth_standin import CLIENT_ID, CLIENT_SECRET, kakao_profile, naver_profile, standin

WEB = "http://127.0.0.1:1/app/signed-in"


def start(srv, provider, cookie=None):
    """GET /auth/oauth2/{provider}: (status, headers, body)."""
    headers = {"Cookie": cookie} if cookie else None
    return srv.call("GET", f"auth/oauth2/{provider}", headers=headers)


def cookie_of(headers):
    """The binding cookie's "name=value" from a Set-Cookie header."""
    return headers.get("Set-Cookie", "").split(";", 1)[0]


def visit(location):
    """Stands in for the browser at the provider: returns where the provider sends it back."""
    url = urllib.parse.urlsplit(location)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", url.path + "?" + url.query)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 302, resp.status
        return resp.headers["Location"]
    finally:
        conn.close()


def callback_path(back):
    url = urllib.parse.urlsplit(back)
    return url.path + "?" + url.query


class oauth_case(harness.e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.provider = standin()
        cls.addClassCleanup(cls.provider.close)
        env = cls.provider.env()
        env.update({"TICKETON_AUTH_OAUTH2_REDIRECT": WEB, "TICKETON_AUTH_OAUTH2_TIMEOUT_MS": "1000"})
        cls.srv = harness.class_server(cls, env=env)
        cls.admin = cls.srv.create_user("ADMIN")

    def setUp(self):
        self.provider.next = {}

    def sign_in(self, provider, profile=None, accept_json=True, **behaviour):
        """The whole trip: start, the provider's answer, our callback. Returns the callback's
        (status, headers, body)."""
        self.provider.next = dict(behaviour, profile=profile)
        status, headers, _ = start(self.srv, provider)
        self.assertEqual(status, 302)
        cookie = cookie_of(headers)
        back = visit(headers["Location"])
        hdrs = {"Cookie": cookie}
        if accept_json:
            hdrs["Accept"] = "application/json"
        return self.srv.call("GET", callback_path(back), headers=hdrs)

    def users_with(self, email):
        body = self.assertStatus(self.srv.call("GET", f"admin/users?q={email}",
                                               token=self.admin.access_token), 200)
        return [u for u in body["items"] if u["email"] == email]


class sign_in_with_kakao_and_naver(oauth_case):
    def test_the_provider_list_names_the_configured_providers_and_no_secret(self):
        status, headers, body = self.srv.call("GET", "auth/oauth2")
        self.assertEqual(status, 200, body)
        self.assertEqual({p["name"]: p["openid"] for p in body["providers"]},
                         {"kakao": False, "naver": False, "acme": True})
        self.assertEqual([sorted(p) for p in body["providers"]], [["name", "openid"]] * 3)
        self.assertNotIn(CLIENT_SECRET, str(body))
        self.assertNotIn(CLIENT_ID, str(body))

    def test_the_start_sends_the_browser_to_the_provider_with_state_and_pkce(self):
        status, headers, _ = start(self.srv, "kakao")
        self.assertEqual(status, 302)
        url = urllib.parse.urlsplit(headers["Location"])
        q = dict(urllib.parse.parse_qsl(url.query))
        self.assertEqual(f"{url.scheme}://{url.netloc}{url.path}",
                         f"{self.provider.base}/kakao/authorize")
        self.assertEqual(q["response_type"], "code")
        self.assertEqual(q["client_id"], "ticketon-client")
        self.assertEqual(q["redirect_uri"],
                         f"{self.srv.base_url}/api/v1/auth/oauth2/kakao/callback")
        self.assertEqual(q["code_challenge_method"], "S256")
        self.assertEqual(len(q["code_challenge"]), 43)
        self.assertNotIn("nonce", q)
        self.assertEqual(len(q["state"].split(".")), 3)
        set_cookie = headers["Set-Cookie"]
        self.assertIn("HttpOnly", set_cookie)
        self.assertIn("SameSite=Lax", set_cookie)
        self.assertIn("Path=/api/v1/auth/oauth2", set_cookie)
        # The verifier never leaves the server before the token request.
        self.assertNotIn("code_verifier", headers["Location"])

    def test_a_new_kakao_user_gets_an_account_and_a_token_pair(self):
        email = harness.unique_email("kakao")
        sub = str(uuid.uuid4().int % 10**12)
        body = self.assertStatus(self.sign_in("kakao", kakao_profile(sub, email)), 200)
        self.assertEqual(body["user"]["email"], email)
        self.assertEqual(body["user"]["name"], "라이언")
        self.assertEqual(body["user"]["role"], "USER")
        me = self.assertStatus(self.srv.call("GET", "me", token=body["accessToken"]), 200)
        self.assertEqual(me["id"], body["user"]["id"])
        # The same person again: the same account.
        again = self.assertStatus(self.sign_in("kakao", kakao_profile(sub, email)), 200)
        self.assertEqual(again["user"]["id"], body["user"]["id"])
        self.assertEqual(len(self.users_with(email)), 1)
        # The token pair works like any other: refresh, then log out.
        refreshed = self.assertStatus(
            self.srv.call("POST", "auth/refresh", {"refreshToken": body["refreshToken"]}), 200)
        self.assertStatus(self.srv.call("POST", "auth/logout",
                                        {"refreshToken": refreshed["refreshToken"]},
                                        token=refreshed["accessToken"]), 204)
        self.assertProblem(self.srv.call("POST", "auth/refresh",
                                         {"refreshToken": refreshed["refreshToken"]}),
                           401, "UNAUTHORIZED")

    def test_a_browser_is_sent_to_the_web_ui_with_the_tokens_in_the_fragment(self):
        email = harness.unique_email("kakao")
        status, headers, _ = self.sign_in("kakao", kakao_profile("77", email), accept_json=False)
        self.assertEqual(status, 302)
        location = headers["Location"]
        self.assertTrue(location.startswith(WEB + "#"), location)
        fragment = dict(urllib.parse.parse_qsl(location.split("#", 1)[1]))
        self.assertEqual(fragment["tokenType"], "Bearer")
        self.assertEqual(headers["Cache-Control"], "no-store")
        me = self.assertStatus(self.srv.call("GET", "me", token=fragment["accessToken"]), 200)
        self.assertEqual(me["email"], email)
        self.assertTrue(fragment["refreshToken"])

    def test_naver_profile_and_the_state_in_its_token_request(self):
        email = harness.unique_email("naver")
        body = self.assertStatus(self.sign_in("naver", naver_profile("naver-123", email)), 200)
        self.assertEqual(body["user"]["email"], email)
        self.assertEqual(body["user"]["name"], "네이버 사용자")
        token_calls = [s for s in self.provider.seen if s["kind"] == "naver" and
                       s["action"] == "token"]
        self.assertTrue(token_calls[-1]["form"]["state"])
        self.assertEqual(token_calls[-1]["form"]["grant_type"], "authorization_code")

    def test_a_social_user_has_no_password_until_they_set_one(self):
        email = harness.unique_email("kakao")
        body = self.assertStatus(self.sign_in("kakao", kakao_profile("5001", email)), 200)
        self.assertProblem(self.srv.login_raw(email, harness.DEFAULT_PASSWORD), 401,
                           "UNAUTHORIZED")
        self.assertProblem(self.srv.login_raw(email, ""), 401, "UNAUTHORIZED")
        self.assertStatus(self.srv.call("PATCH", "me", {"password": "a-new-password-1"},
                                        token=body["accessToken"]), 200)
        self.srv.login(email, "a-new-password-1")
        # From now on changing it needs the current one, like for everyone.
        self.assertProblem(self.srv.call("PATCH", "me", {"password": "another-password-2"},
                                         token=body["accessToken"]), 400, "VALIDATION_FAILED",
                           field="currentPassword")

    def test_a_disabled_social_user_cannot_sign_in(self):
        email = harness.unique_email("kakao")
        body = self.assertStatus(self.sign_in("kakao", kakao_profile("5002", email)), 200)
        self.assertStatus(self.srv.call("PATCH", f"admin/users/{body['user']['id']}",
                                        {"disabled": True}, token=self.admin.access_token), 200)
        self.assertProblem(self.sign_in("kakao", kakao_profile("5002", email)), 401,
                           "UNAUTHORIZED")


class linking_existing_accounts(oauth_case):
    def test_a_verified_email_links_to_the_existing_account(self):
        existing = self.srv.signup()
        body = self.assertStatus(self.sign_in("kakao", kakao_profile("6001", existing.email)),
                                 200)
        self.assertEqual(body["user"]["id"], existing.id)
        # The password still works.
        self.srv.login(existing.email)

    def test_an_unverified_email_does_not_take_over_an_account(self):
        existing = self.srv.signup()
        # Naver never says an address is verified; Kakao can say it is not.
        self.assertProblem(self.sign_in("naver", naver_profile("n-6002", existing.email)), 409,
                           "CONFLICT")
        self.assertProblem(
            self.sign_in("kakao", kakao_profile("6003", existing.email, verified=False)), 409,
            "CONFLICT")
        self.assertEqual(len(self.users_with(existing.email)), 1)
        # Nothing was linked: a later verified sign-in with the same Kakao id links now.
        body = self.assertStatus(self.sign_in("kakao", kakao_profile("6003", existing.email)),
                                 200)
        self.assertEqual(body["user"]["id"], existing.id)


class failures(oauth_case):
    def test_unknown_provider(self):
        self.assertProblem(start(self.srv, "myspace"), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", "auth/oauth2/myspace/callback?code=x&state=y",
                                         headers={"Accept": "application/json"}),
                           404, "NOT_FOUND")
        # A browser is sent back to the web UI, which reads the problem from the fragment.
        self.assertEqual(self.browser_failure(
            self.srv.call("GET", "auth/oauth2/myspace/callback?code=x&state=y")),
            {"error": "NOT_FOUND", "status": "404", "detail": "no sign-in provider named myspace"})

    def browser_failure(self, answer):
        """The fragment of the web UI address a failed callback sent the browser to."""
        status, headers, _ = answer
        self.assertEqual(status, 302)
        location = headers["Location"]
        self.assertTrue(location.startswith(WEB + "#error="), location)
        self.assertEqual(headers["Cache-Control"], "no-store")
        fragment = dict(urllib.parse.parse_qsl(location.split("#", 1)[1]))
        self.assertNotIn("accessToken", fragment)
        return fragment

    def test_a_browser_whose_sign_in_fails_reads_why_in_the_web_ui(self):
        email = harness.unique_email("denied")
        fragment = self.browser_failure(
            self.sign_in("kakao", kakao_profile("7010", email), accept_json=False, deny=True))
        self.assertEqual((fragment["error"], fragment["status"]), ("OAUTH_DENIED", "401"))
        self.assertIn("access_denied", fragment["detail"])
        self.assertEqual(self.users_with(email), [])

    def test_denied_consent(self):
        body = self.assertProblem(self.sign_in("kakao", None, deny=True), 401, "OAUTH_DENIED")
        self.assertIn("access_denied", body["detail"])

    def flow_until_callback(self, provider, profile):
        self.provider.next = {"profile": profile}
        _, headers, _ = start(self.srv, provider)
        return cookie_of(headers), visit(headers["Location"])

    def test_bad_state_missing_cookie_other_browser_and_replay(self):
        email = harness.unique_email("kakao")
        cookie, back = self.flow_until_callback("kakao", kakao_profile("7001", email))
        path = callback_path(back)
        json_accept = {"Accept": "application/json"}
        # No cookie: the callback did not come from the browser that started.
        self.assertProblem(self.srv.call("GET", path, headers=json_accept), 400,
                           "OAUTH_STATE_INVALID")
        # Another browser's cookie.
        _, other_headers, _ = start(self.srv, "kakao")
        self.assertProblem(self.srv.call("GET", path, headers=dict(
            json_accept, Cookie=cookie_of(other_headers))), 400, "OAUTH_STATE_INVALID")
        # A forged state.
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
        forged = dict(q, state=q["state"][:-2] + ("AA" if not q["state"].endswith("AA") else "BB"))
        self.assertProblem(self.srv.call(
            "GET", "/api/v1/auth/oauth2/kakao/callback?" + urllib.parse.urlencode(forged),
            headers=dict(json_accept, Cookie=cookie)), 400, "OAUTH_STATE_INVALID")
        # No state at all.
        self.assertProblem(self.srv.call(
            "GET", "/api/v1/auth/oauth2/kakao/callback?code=" + q["code"],
            headers=dict(json_accept, Cookie=cookie)), 400, "OAUTH_STATE_INVALID")
        # A state made for another provider.
        self.assertProblem(self.srv.call("GET", path.replace("/kakao/", "/naver/"), headers=dict(
            json_accept, Cookie=cookie)), 400, "OAUTH_STATE_INVALID")
        self.assertEqual(self.users_with(email), [])
        # The real one works once; the same callback again is a replay.
        self.assertStatus(self.srv.call("GET", path, headers=dict(json_accept, Cookie=cookie)),
                          200)
        body = self.assertProblem(self.srv.call("GET", path, headers=dict(
            json_accept, Cookie=cookie)), 400, "OAUTH_STATE_INVALID")
        self.assertIn("already", body["detail"])

    def test_a_bad_code(self):
        for provider, profile in (("kakao", kakao_profile("7002", harness.unique_email())),
                                  ("naver", naver_profile("n-7002", harness.unique_email()))):
            self.assertProblem(self.sign_in(provider, profile, fault={"token": "invalid_grant"}),
                               401, "OAUTH_CODE_INVALID", msg=provider)
        # A code nobody issued.
        cookie, back = self.flow_until_callback("kakao", kakao_profile("7003", "x@example.com"))
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query), code="made-up")
        self.assertProblem(self.srv.call(
            "GET", "/api/v1/auth/oauth2/kakao/callback?" + urllib.parse.urlencode(q),
            headers={"Cookie": cookie, "Accept": "application/json"}), 401, "OAUTH_CODE_INVALID")

    def test_a_provider_that_is_down_or_slow(self):
        email = harness.unique_email("kakao")
        for fault in ({"token": "500"}, {"token": "slow"}, {"me": "500"}, {"me": "slow"}):
            status, headers, body = self.sign_in("kakao", kakao_profile("7004", email),
                                                 fault=fault)
            self.assertProblem((status, headers, body), 503, "UNAVAILABLE", msg=str(fault))
            self.assertTrue(headers.get("Retry-After"))
        self.assertEqual(self.users_with(email), [])

    def test_a_profile_without_the_fields_we_need(self):
        email = harness.unique_email("kakao")
        body = self.assertProblem(self.sign_in("kakao", kakao_profile("7005", None)), 422,
                                  "OAUTH_PROFILE_INCOMPLETE")
        self.assertIn("email", body["detail"])
        self.assertProblem(self.sign_in("naver", {"resultcode": "00", "response": {
            "email": email}}), 422, "OAUTH_PROFILE_INCOMPLETE")
        self.assertEqual(self.users_with(email), [])


class openid_connect_standin(oauth_case):
    """The generic `acme` provider: discovery, JWKS and ID tokens from the stand-in."""

    def profile(self, sub, email):
        return {"sub": sub, "email": email, "email_verified": True, "name": "Acme Person"}

    def test_discovery_nonce_and_a_verified_id_token(self):
        email = harness.unique_email("acme")
        status, headers, _ = start(self.srv, "acme")
        self.assertEqual(status, 302)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
        self.assertTrue(q["nonce"])
        self.assertEqual(q["scope"], "openid email profile")
        body = self.assertStatus(self.sign_in("acme", self.profile("acme-1", email)), 200)
        self.assertEqual(body["user"]["email"], email)
        self.assertEqual(body["user"]["name"], "Acme Person")

    def test_bad_id_tokens(self):
        email = harness.unique_email("acme")
        for fault in ("signature", "audience", "nonce", "expired", "issuer", "alg_none"):
            self.assertProblem(self.sign_in("acme", self.profile("acme-2", email),
                                            id_token_fault=fault),
                               401, "OAUTH_ID_TOKEN_INVALID", msg=fault)
        self.assertEqual(self.users_with(email), [])

    def test_a_profile_of_someone_else_than_the_id_token(self):
        email = harness.unique_email("acme")
        self.provider.next = {"profile": self.profile("acme-3", email)}
        _, headers, _ = start(self.srv, "acme")
        back = visit(headers["Location"])
        # The userinfo answer names another subject than the ID token.
        original = self.provider._me

        def other_person(h, kind, authorization, nxt):
            return self.provider._send(h, 200, self.profile("someone-else", email))

        self.provider._me = other_person
        try:
            self.assertProblem(self.srv.call("GET", callback_path(back), headers={
                "Cookie": cookie_of(headers), "Accept": "application/json"}), 502,
                "OAUTH_PROVIDER_ERROR")
        finally:
            self.provider._me = original
        self.assertEqual(self.users_with(email), [])


if __name__ == "__main__":
    unittest.main()
