"""Roles: `ticketon user create` and the ADMIN user-management API."""

import unittest
import uuid

import harness
from harness import API, e2e_case, unique_email


def unknown_id_like(real_id):
    """An id of the same shape as a real one that no user has."""
    if isinstance(real_id, int):
        return 987_654_321
    text = str(real_id)
    if text.isdigit():
        return "987654321"
    try:
        uuid.UUID(text)
        return str(uuid.uuid4())
    except ValueError:
        return text[:-4] + ("zzzz" if not text.endswith("zzzz") else "yyyy")


class admin_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)
        # Created with the CLI while the server runs on the same data directory.
        cls.admin = cls.srv.create_user("ADMIN")

    def users_path(self, user_id=None):
        return f"{API}/admin/users" + (f"/{user_id}" if user_id is not None else "")

    def patch_user(self, user_id, body, token=None):
        return self.srv.call("PATCH", self.users_path(user_id), body,
                             token=token or self.admin.access_token)

    def test_cli_created_admin_has_role_admin(self):
        self.assertEqual(self.admin.user["role"], "ADMIN")
        me = self.assertStatus(self.srv.call("GET", f"{API}/me", token=self.admin.access_token),
                               200)
        self.assertEqual(me["role"], "ADMIN")
        _, payload, _ = harness.jwt_parts(self.admin.access_token)
        self.assertEqual(payload.get("role"), "ADMIN")

    def test_cli_rejects_unknown_role(self):
        proc = self.srv.run_cli(["user", "create", "--email", unique_email(), "--password",
                                 harness.DEFAULT_PASSWORD, "--name", "King", "--role", "KING"])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertTrue(proc.stderr.startswith("ticketon:"), proc.stderr)

    def test_user_and_anonymous_cannot_list_users(self):
        user = self.srv.signup()
        self.assertProblem(self.srv.call("GET", self.users_path(), token=user.access_token), 403,
                           "FORBIDDEN")
        self.assertProblem(self.patch_user(user.id, {"role": "ADMIN"}, token=user.access_token),
                           403, "FORBIDDEN", msg="USER promoting itself")
        self.assertProblem(self.srv.call("GET", self.users_path()), 401, "UNAUTHORIZED")
        me = self.assertStatus(self.srv.call("GET", f"{API}/me", token=user.access_token), 200)
        self.assertEqual(me["role"], "USER")

    def test_manager_cannot_list_users(self):
        manager = self.srv.create_user("MANAGER")
        self.assertEqual(manager.user["role"], "MANAGER")
        self.assertProblem(self.srv.call("GET", self.users_path(), token=manager.access_token),
                           403, "FORBIDDEN")

    def test_admin_lists_users(self):
        user = self.srv.signup(name="Listed")
        body = self.assertStatus(self.srv.call("GET", self.users_path() + "?size=100",
                                               token=self.admin.access_token), 200)
        for key in ("items", "page", "size", "total"):
            self.assertIn(key, body, body)
        self.assertIsInstance(body["items"], list)
        self.assertGreaterEqual(body["total"], 2)
        self.assertGreaterEqual(body["total"], len(body["items"]))
        for item in body["items"]:
            for key in ("id", "email", "name", "role"):
                self.assertIn(key, item, item)
            self.assertNotIn("password", item)
            self.assertNotIn("passwordHash", item)
        by_email = {item["email"]: item for item in body["items"]}
        self.assertIn(user.email, by_email)
        self.assertEqual(by_email[user.email]["id"], user.id)
        self.assertEqual(by_email[user.email]["role"], "USER")
        self.assertEqual(by_email[self.admin.email]["role"], "ADMIN")

    def test_admin_list_honours_size(self):
        self.srv.signup()
        self.srv.signup()
        body = self.assertStatus(self.srv.call("GET", self.users_path() + "?size=1",
                                               token=self.admin.access_token), 200)
        self.assertEqual(body["size"], 1, body)
        self.assertEqual(len(body["items"]), 1, body)
        self.assertGreaterEqual(body["total"], 3, body)

    def test_change_role(self):
        user = self.srv.signup()
        body = self.assertStatus(self.patch_user(user.id, {"role": "MANAGER"}), 200)
        self.assertEqual(body["id"], user.id)
        self.assertEqual(body["role"], "MANAGER")
        fresh = self.srv.login(user.email, user.password)
        self.assertEqual(fresh.user["role"], "MANAGER")
        me = self.assertStatus(self.srv.call("GET", f"{API}/me", token=fresh.access_token), 200)
        self.assertEqual(me["role"], "MANAGER")

    def test_disable_blocks_tokens_and_login(self):
        user = self.srv.signup()
        self.assertStatus(self.srv.call("GET", f"{API}/me", token=user.access_token), 200)
        self.assertStatus(self.patch_user(user.id, {"disabled": True}), 200)
        self.assertProblem(self.srv.call("GET", f"{API}/me", token=user.access_token), 401,
                           "UNAUTHORIZED", msg="existing access token of a disabled user")
        self.assertProblem(self.srv.login_raw(user.email, user.password), 401, "UNAUTHORIZED",
                           msg="login of a disabled user")
        self.assertProblem(self.srv.call("POST", f"{API}/auth/refresh",
                                         {"refreshToken": user.refresh_token}), 401,
                           "UNAUTHORIZED", msg="refresh of a disabled user")
        self.assertStatus(self.patch_user(user.id, {"disabled": False}), 200)
        self.assertStatus(self.srv.login_raw(user.email, user.password), 200, "re-enabled")

    def test_unlock(self):
        user = self.srv.signup()
        for attempt in range(6):
            self.srv.login_raw(user.email, f"wrong-password-{attempt}")
        self.assertProblem(self.srv.login_raw(user.email, user.password), 423, "ACCOUNT_LOCKED")
        self.assertStatus(self.patch_user(user.id, {"locked": False}), 200)
        self.assertStatus(self.srv.login_raw(user.email, user.password), 200, "after unlock")

    def test_unknown_user_is_not_found(self):
        missing = unknown_id_like(self.admin.id)
        self.assertProblem(self.patch_user(missing, {"role": "MANAGER"}), 404, "NOT_FOUND",
                           msg=f"PATCH id {missing!r}")

    def test_invalid_role_is_validation_failure(self):
        user = self.srv.signup()
        self.assertProblem(self.patch_user(user.id, {"role": "KING"}), 400, "VALIDATION_FAILED",
                           field="role")
        self.assertProblem(self.patch_user(user.id, {"disabled": "yes"}), 400,
                           "VALIDATION_FAILED", field="disabled")
        me = self.assertStatus(self.srv.call("GET", f"{API}/me", token=user.access_token), 200)
        self.assertEqual(me["role"], "USER", "role unchanged by rejected patches")


class cli_before_serve_test(e2e_case):
    def test_user_created_on_a_fresh_data_dir_before_the_server_starts(self):
        srv = harness.server()  # not started yet: the data directory is empty
        self.addCleanup(srv.__exit__, None, None, None)
        email = unique_email("early-admin")
        proc = srv.run_cli(["user", "create", "--email", email, "--password",
                            harness.DEFAULT_PASSWORD, "--name", "Early", "--role", "ADMIN"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        srv.start()
        admin = srv.login(email)
        self.assertEqual(admin.user["role"], "ADMIN")
        self.assertEqual(admin.user["name"], "Early")
        self.assertStatus(srv.call("GET", f"{API}/admin/users", token=admin.access_token), 200)

if __name__ == "__main__":
    unittest.main()
