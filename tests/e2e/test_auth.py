"""Sign-up, login, lockout, refresh-token rotation, logout, /me and access-token checks."""

import time
import unittest

import harness
from harness import API, DEFAULT_PASSWORD, e2e_case, unique_email


def assert_auth_answer(tc, body, email, name=None):
    """The {user, accessToken, refreshToken, expiresIn} answer of signup and login."""
    tc.assertIsInstance(body, dict, body)
    for key in ("user", "accessToken", "refreshToken", "expiresIn"):
        tc.assertIn(key, body, body)
    user = body["user"]
    for key in ("id", "email", "name", "role"):
        tc.assertIn(key, user, user)
    tc.assertEqual(user["email"], email)
    if name is not None:
        tc.assertEqual(user["name"], name)
    tc.assertNotIn("password", user)
    tc.assertNotIn("passwordHash", user)
    tc.assertIsInstance(body["accessToken"], str)
    tc.assertIsInstance(body["refreshToken"], str)
    tc.assertTrue(body["refreshToken"], "empty refresh token")
    tc.assertNotEqual(body["accessToken"], body["refreshToken"])
    tc.assertIsInstance(body["expiresIn"], int)
    tc.assertGreater(body["expiresIn"], 0)


class signup_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def signup_raw(self, body):
        return self.srv.call("POST", f"{API}/auth/signup", body)

    def test_signup_returns_user_and_token_pair(self):
        email = unique_email()
        response = self.signup_raw({"email": email, "password": DEFAULT_PASSWORD, "name": "Kim"})
        body = self.assertStatus(response, 201)
        assert_auth_answer(self, body, email, "Kim")
        self.assertEqual(body["user"]["role"], "USER")

    def test_access_token_is_hs256_jwt_with_kid_and_claims(self):
        s = self.srv.signup()
        header, payload, signature = harness.jwt_parts(s.access_token)
        self.assertEqual(header.get("alg"), "HS256", header)
        self.assertTrue(header.get("kid"), f"no kid in {header}")
        self.assertEqual(str(payload.get("sub")), str(s.id), payload)
        self.assertEqual(payload.get("role"), "USER", payload)
        for claim in ("iat", "exp", "iss"):
            self.assertIn(claim, payload, payload)
        self.assertGreater(payload["exp"], payload["iat"])
        self.assertEqual(len(signature), 32, "an HS256 signature is 32 bytes")

    def test_duplicate_email_is_conflict(self):
        s = self.srv.signup()
        response = self.signup_raw({"email": s.email, "password": DEFAULT_PASSWORD,
                                    "name": "Again"})
        self.assertProblem(response, 409, "CONFLICT")

    def test_invalid_bodies_name_the_field(self):
        good = {"email": None, "password": DEFAULT_PASSWORD, "name": "Lee"}

        def body(**changes):
            b = dict(good, email=unique_email())
            for key, value in changes.items():
                if value is ...:
                    del b[key]
                else:
                    b[key] = value
            return b

        cases = [
            ("email without @", body(email="not-an-email"), "email"),
            ("empty email", body(email=""), "email"),
            ("password of 7 chars", body(password="short12"), "password"),
            ("empty name", body(name=""), "name"),
            ("missing email", body(email=...), "email"),
            ("missing password", body(password=...), "password"),
            ("missing name", body(name=...), "name"),
            ("password is a number", body(password=123), "password"),
            ("email is a number", body(email=42), "email"),
            ("name is null", body(name=None), "name"),
            ("malformed JSON", '{"email": "a@b.io", "password": ', "body"),
            ("JSON array body", [body()], "body"),
            ("JSON string body", '"hello"', "body"),
            ("empty body", b"", "body"),
        ]
        for label, payload, field in cases:
            with self.subTest(label):
                self.assertProblem(self.signup_raw(payload), 400, "VALIDATION_FAILED",
                                   field=field, msg=f"{label}: {payload!r}")

    def test_rejected_signup_creates_no_user(self):
        email = unique_email()
        self.assertProblem(self.signup_raw({"email": email, "password": "short", "name": "X"}),
                           400, "VALIDATION_FAILED", field="password")
        self.assertStatus(self.signup_raw({"email": email, "password": DEFAULT_PASSWORD,
                                           "name": "X"}), 201)


class login_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def test_login_returns_same_user_and_fresh_tokens(self):
        s = self.srv.signup(name="Park")
        response = self.srv.login_raw(s.email, s.password)
        body = self.assertStatus(response, 200)
        assert_auth_answer(self, body, s.email, "Park")
        self.assertEqual(body["user"]["id"], s.id)
        self.assertNotEqual(body["refreshToken"], s.refresh_token)
        self.assertStatus(self.srv.call("GET", f"{API}/me", token=body["accessToken"]), 200)

    def test_wrong_password_is_unauthorized(self):
        s = self.srv.signup()
        self.assertProblem(self.srv.login_raw(s.email, "wrong-password-1"), 401, "UNAUTHORIZED")

    def test_unknown_email_is_unauthorized(self):
        self.assertProblem(self.srv.login_raw(unique_email("nobody"), DEFAULT_PASSWORD), 401,
                           "UNAUTHORIZED")

    def test_login_validation(self):
        self.assertProblem(self.srv.call("POST", f"{API}/auth/login", {"email": unique_email()}),
                           400, "VALIDATION_FAILED", field="password")
        self.assertProblem(self.srv.call("POST", f"{API}/auth/login", "{not json"), 400,
                           "VALIDATION_FAILED", field="body")

    def test_five_wrong_passwords_lock_the_account_for_five_minutes(self):
        s = self.srv.signup()
        for attempt in range(1, 5):
            self.assertProblem(self.srv.login_raw(s.email, f"wrong-password-{attempt}"), 401,
                               "UNAUTHORIZED", msg=f"wrong attempt {attempt}")
        fifth = self.srv.login_raw(s.email, "wrong-password-5")
        self.assertIn(fifth[0], (401, 423), f"fifth wrong attempt -> {fifth[0]} {fifth[2]!r}")
        response = self.srv.login_raw(s.email, s.password)
        self.assertProblem(response, 423, "ACCOUNT_LOCKED", msg="right password while locked")
        self.assertRetryAfter(response[1], 240, 300, "of a 5-minute lock")

    def test_lock_is_per_account(self):
        locked = self.srv.signup()
        other = self.srv.signup()
        for attempt in range(6):
            self.srv.login_raw(locked.email, f"wrong-password-{attempt}")
        self.assertProblem(self.srv.login_raw(locked.email, locked.password), 423,
                           "ACCOUNT_LOCKED")
        self.assertStatus(self.srv.login_raw(other.email, other.password), 200)

    def test_successful_login_resets_the_failure_count(self):
        s = self.srv.signup()
        for attempt in range(4):
            self.assertStatus(self.srv.login_raw(s.email, f"wrong-{attempt}-pass"), 401)
        self.srv.login(s.email, s.password)
        for attempt in range(4):
            self.assertProblem(self.srv.login_raw(s.email, f"wrong-again-{attempt}"), 401,
                               "UNAUTHORIZED", msg=f"wrong attempt {attempt} after a success")
        self.assertStatus(self.srv.login_raw(s.email, s.password), 200)


class short_timers_test(e2e_case):
    """Lockout and access-token lifetime shortened to seconds."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls, env={
            "TICKETON_AUTH_LOCKOUT_SECONDS": "2",
            # Two seconds: exp is whole seconds from iat, so a token lives at least one.
            "TICKETON_AUTH_ACCESS_TTL_SECONDS": "2",
        })

    def test_lock_ends_after_lockout_seconds(self):
        s = self.srv.signup()
        for attempt in range(5):
            self.srv.login_raw(s.email, f"wrong-password-{attempt}")
        response = self.srv.login_raw(s.email, s.password)
        self.assertProblem(response, 423, "ACCOUNT_LOCKED")
        retry_after = self.assertRetryAfter(response[1], 1, 2, "of a 2-second lock")
        time.sleep(retry_after + 0.5)
        self.assertStatus(self.srv.login_raw(s.email, s.password), 200, "after the lock ended")
        self.assertProblem(self.srv.login_raw(s.email, "wrong-password-x"), 401, "UNAUTHORIZED",
                           msg="one wrong password after the lock ended")

    def test_expired_access_token_is_unauthorized(self):
        s = self.srv.signup()
        self.assertEqual(s.body["expiresIn"], 2)
        self.assertStatus(self.srv.call("GET", f"{API}/me", token=s.access_token), 200,
                          "fresh token")
        time.sleep(3.1)
        self.assertProblem(self.srv.call("GET", f"{API}/me", token=s.access_token), 401,
                           "UNAUTHORIZED", msg="token past exp")
        # The refresh token outlives the access token and yields a working one.
        response = self.srv.call("POST", f"{API}/auth/refresh", {"refreshToken": s.refresh_token})
        body = self.assertStatus(response, 200)
        self.assertStatus(self.srv.call("GET", f"{API}/me", token=body["accessToken"]), 200)


class refresh_logout_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def refresh(self, token):
        return self.srv.call("POST", f"{API}/auth/refresh", {"refreshToken": token})

    def test_refresh_rotates_the_pair(self):
        s = self.srv.signup()
        body = self.assertStatus(self.refresh(s.refresh_token), 200)
        self.assertIsInstance(body.get("accessToken"), str, body)
        self.assertIsInstance(body.get("refreshToken"), str, body)
        self.assertNotEqual(body["refreshToken"], s.refresh_token)
        # The access token may equal the old one when issued within the same second (same
        # claims); what must change is the refresh token, and the new access token must work.
        me = self.assertStatus(self.srv.call("GET", f"{API}/me", token=body["accessToken"]), 200)
        self.assertEqual(me["id"], s.id)
        # The new refresh token rotates again.
        again = self.assertStatus(self.refresh(body["refreshToken"]), 200)
        self.assertNotEqual(again["refreshToken"], body["refreshToken"])

    def test_reused_refresh_token_revokes_the_family(self):
        s = self.srv.signup()
        first = self.assertStatus(self.refresh(s.refresh_token), 200)
        second = self.assertStatus(self.refresh(first["refreshToken"]), 200)
        self.assertProblem(self.refresh(s.refresh_token), 401, "UNAUTHORIZED",
                           msg="reusing the original refresh token")
        self.assertProblem(self.refresh(second["refreshToken"]), 401, "UNAUTHORIZED",
                           msg="newest token of a revoked family")
        self.assertProblem(self.refresh(first["refreshToken"]), 401, "UNAUTHORIZED",
                           msg="middle token of a revoked family")

    def test_reuse_revokes_only_that_family(self):
        s = self.srv.signup()
        other = self.srv.login(s.email, s.password)  # a second device: its own family
        self.assertStatus(self.refresh(s.refresh_token), 200)
        self.assertStatus(self.refresh(s.refresh_token), 401)
        self.assertStatus(self.refresh(other.refresh_token), 200, "the other device's family")

    def test_unknown_refresh_token_is_unauthorized(self):
        self.assertProblem(self.refresh("not-a-refresh-token"), 401, "UNAUTHORIZED")

    def test_missing_refresh_token_is_validation_failure(self):
        self.assertProblem(self.srv.call("POST", f"{API}/auth/refresh", {}), 400,
                           "VALIDATION_FAILED", field="refreshToken")

    def test_logout_revokes_the_refresh_token(self):
        s = self.srv.signup()
        response = self.srv.call("POST", f"{API}/auth/logout", {"refreshToken": s.refresh_token},
                                 token=s.access_token)
        self.assertStatus(response, 204)
        self.assertIsNone(response[2], "204 has no body")
        self.assertProblem(self.refresh(s.refresh_token), 401, "UNAUTHORIZED",
                           msg="refresh after logout")

    def test_logout_needs_an_access_token(self):
        s = self.srv.signup()
        self.assertProblem(self.srv.call("POST", f"{API}/auth/logout",
                                         {"refreshToken": s.refresh_token}), 401, "UNAUTHORIZED")
        self.assertStatus(self.refresh(s.refresh_token), 200, "refresh token still valid")

    def test_logout_cannot_revoke_another_users_token(self):
        victim = self.srv.signup()
        attacker = self.srv.signup()
        response = self.srv.call("POST", f"{API}/auth/logout",
                                 {"refreshToken": victim.refresh_token},
                                 token=attacker.access_token)
        self.assertNotEqual(response[0], 500, response)
        self.assertStatus(self.refresh(victim.refresh_token), 200,
                          "victim's refresh token after another user's logout call")


class me_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def me(self, token, headers=None):
        return self.srv.call("GET", f"{API}/me", token=token, headers=headers)

    def test_me_returns_the_user(self):
        s = self.srv.signup(name="Choi")
        body = self.assertStatus(self.me(s.access_token), 200)
        self.assertEqual(body, {**body, "id": s.id, "email": s.email, "name": "Choi",
                                "role": "USER"})
        self.assertNotIn("password", body)
        self.assertNotIn("passwordHash", body)

    def test_bad_tokens_are_unauthorized(self):
        s = self.srv.signup()
        header, payload, signature = harness.jwt_parts(s.access_token)
        h64, p64, s64 = s.access_token.split(".")

        alg_none = harness.jwt_encode({"alg": "none", "typ": "JWT", "kid": header["kid"]},
                                      payload)
        # One character of the payload changed, signature kept.
        i = len(p64) // 2
        flipped = p64[:i] + ("A" if p64[i] != "A" else "B") + p64[i + 1:]
        tampered_char = f"{h64}.{flipped}.{s64}"
        # Privilege escalation attempt: role ADMIN in the payload, signature kept.
        escalated_payload = harness.b64url_encode(
            harness.json.dumps(dict(payload, role="ADMIN")).encode())
        escalated = f"{h64}.{escalated_payload}.{s64}"
        wrong_key = harness.jwt_encode(header, payload, key=b"not-the-server-key")
        wrong_kid = harness.jwt_encode(dict(header, kid="no-such-kid"), payload,
                                       key=b"not-the-server-key")
        wrong_kid_same_sig = (harness.b64url_encode(harness.json.dumps(
            dict(header, kid="no-such-kid")).encode()) + f".{p64}.{s64}")
        expired = harness.jwt_encode(header, dict(payload, exp=1_000_000_000),
                                     key=b"not-the-server-key")
        cases = [
            ("no Authorization header", {}),
            ("garbage token", {"Authorization": "Bearer garbage"}),
            ("empty bearer", {"Authorization": "Bearer "}),
            ("Basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}),
            ("token without scheme", {"Authorization": s.access_token}),
            ("alg none", {"Authorization": f"Bearer {alg_none}"}),
            ("payload char changed", {"Authorization": f"Bearer {tampered_char}"}),
            ("role changed to ADMIN", {"Authorization": f"Bearer {escalated}"}),
            ("signature removed", {"Authorization": f"Bearer {h64}.{p64}."}),
            ("HS256 with a wrong key", {"Authorization": f"Bearer {wrong_key}"}),
            ("wrong kid", {"Authorization": f"Bearer {wrong_kid}"}),
            ("wrong kid, original signature", {"Authorization": f"Bearer {wrong_kid_same_sig}"}),
            ("expired, wrong key", {"Authorization": f"Bearer {expired}"}),
            ("two segments", {"Authorization": f"Bearer {h64}.{p64}"}),
        ]
        for label, headers in cases:
            with self.subTest(label):
                self.assertProblem(self.me(None, headers=headers), 401, "UNAUTHORIZED",
                                   msg=label)
        # The genuine token still works after all that.
        self.assertStatus(self.me(s.access_token), 200)

    def test_token_in_the_url_is_refused(self):
        # Tokens in URLs end up in proxy and access logs: only streaming routes take them.
        s = self.srv.signup()
        self.assertStatus(self.me(s.access_token), 200, "the same token in the header")
        body = self.assertProblem(self.srv.call("GET", f"{API}/me?access_token={s.access_token}"),
                                  401, "UNAUTHORIZED", msg="valid token as ?access_token=")
        self.assertIn("Authorization", body["detail"])
        self.assertProblem(self.srv.call("GET", f"{API}/orders?access_token={s.access_token}"),
                           401, "UNAUTHORIZED", msg="/orders with ?access_token=")
        self.assertProblem(self.srv.call("GET", f"{API}/events?access_token={s.access_token}"),
                           401, "UNAUTHORIZED", msg="a public list with ?access_token=")
        self.assertStatus(self.srv.call("GET", f"{API}/events"), 200, "the public list")
        # With the header present the token is the header's; the query parameter is ignored.
        self.assertStatus(self.srv.call("GET", f"{API}/me?access_token=junk",
                                        token=s.access_token), 200, "header and junk in the URL")

    def test_patch_name(self):
        s = self.srv.signup(name="Before")
        response = self.srv.call("PATCH", f"{API}/me", {"name": "After"}, token=s.access_token)
        body = self.assertStatus(response, 200)
        self.assertEqual(body["name"], "After")
        self.assertEqual(body["id"], s.id)
        self.assertEqual(self.assertStatus(self.me(s.access_token), 200)["name"], "After")

    def test_patch_rejects_empty_name(self):
        s = self.srv.signup(name="Keep")
        self.assertProblem(self.srv.call("PATCH", f"{API}/me", {"name": ""},
                                         token=s.access_token), 400, "VALIDATION_FAILED",
                           field="name")
        self.assertEqual(self.assertStatus(self.me(s.access_token), 200)["name"], "Keep")

    def test_patch_needs_a_token(self):
        self.assertProblem(self.srv.call("PATCH", f"{API}/me", {"name": "X"}), 401,
                           "UNAUTHORIZED")

    def test_change_password(self):
        s = self.srv.signup()
        new_password = "a-brand-new-password"
        response = self.srv.call("PATCH", f"{API}/me",
                                 {"password": new_password, "currentPassword": s.password},
                                 token=s.access_token)
        self.assertStatus(response, 200)
        self.assertProblem(self.srv.login_raw(s.email, s.password), 401, "UNAUTHORIZED",
                           msg="old password after change")
        self.assertStatus(self.srv.login_raw(s.email, new_password), 200, "new password")

    def test_change_password_with_wrong_current_password(self):
        s = self.srv.signup()
        response = self.srv.call("PATCH", f"{API}/me",
                                 {"password": "another-new-password",
                                  "currentPassword": "not-my-password"},
                                 token=s.access_token)
        self.assertProblem(response, 401, "UNAUTHORIZED")
        self.assertStatus(self.srv.login_raw(s.email, s.password), 200, "password unchanged")
        self.assertStatus(self.srv.login_raw(s.email, "another-new-password"), 401)

    def test_change_password_too_short(self):
        s = self.srv.signup()
        response = self.srv.call("PATCH", f"{API}/me",
                                 {"password": "short", "currentPassword": s.password},
                                 token=s.access_token)
        self.assertProblem(response, 400, "VALIDATION_FAILED", field="password")
        self.assertStatus(self.srv.login_raw(s.email, s.password), 200, "password unchanged")

    def test_delete_me(self):
        s = self.srv.signup()
        response = self.srv.call("DELETE", f"{API}/me", token=s.access_token)
        self.assertStatus(response, 204)
        self.assertProblem(self.me(s.access_token), 401, "UNAUTHORIZED",
                           msg="access token of a withdrawn user")
        self.assertProblem(self.srv.call("POST", f"{API}/auth/refresh",
                                         {"refreshToken": s.refresh_token}), 401,
                           "UNAUTHORIZED", msg="refresh token of a withdrawn user")
        self.assertProblem(self.srv.login_raw(s.email, s.password), 401, "UNAUTHORIZED",
                           msg="login of a withdrawn user")
        again = self.srv.signup(email=s.email, name="Returning")
        self.assertNotEqual(again.id, s.id, "a new account, not the withdrawn one")
        self.assertEqual(self.assertStatus(self.me(again.access_token), 200)["name"], "Returning")


class key_persistence_test(e2e_case):
    def test_tokens_survive_a_restart(self):
        with harness.server() as srv:
            s = srv.signup()
            self.assertStatus(srv.call("GET", f"{API}/me", token=s.access_token), 200)
            srv.restart()
            body = self.assertStatus(srv.call("GET", f"{API}/me", token=s.access_token), 200,
                                     "access token issued before the restart")
            self.assertEqual(body["id"], s.id)
            self.assertStatus(srv.call("POST", f"{API}/auth/refresh",
                                       {"refreshToken": s.refresh_token}), 200,
                              "refresh token issued before the restart")
            self.assertStatus(srv.login_raw(s.email, s.password), 200, "user persisted")


if __name__ == "__main__":
    unittest.main()
