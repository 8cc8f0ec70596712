"""The web UI's files, served by the binary at `/` (issue 16): content types, ETags and 304,
client-side routes answered with index.html, and the API, the sandbox and the operational
endpoints never shadowed by it."""

import tempfile
import unittest
from pathlib import Path

import harness
from harness import API, e2e_case

WEB = Path(__file__).resolve().parents[2] / "web"


class web_files(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)

    def test_root_is_index_html_with_an_etag(self):
        status, headers, body = self.srv.call("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(headers["Cache-Control"], "no-cache")
        self.assertRegex(headers["ETag"], r'^"[0-9a-f]{32}"$')
        self.assertEqual(body, (WEB / "index.html").read_text())

    def test_a_matching_if_none_match_is_304_and_a_changed_one_200(self):
        _, headers, _ = self.srv.call("GET", "/js/app.js")
        etag = headers["ETag"]
        status, headers, body = self.srv.call("GET", "/js/app.js",
                                              headers={"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertEqual(headers["ETag"], etag)
        self.assertFalse(body)
        status, _, _ = self.srv.call("GET", "/js/app.js", headers={"If-None-Match": '"other"'})
        self.assertEqual(status, 200)

    def test_every_file_under_web_is_served_byte_for_byte(self):
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}
        files = [p for p in WEB.rglob("*") if p.is_file() and not p.name.startswith(".")]
        self.assertGreater(len(files), 3)
        for path in files:
            url = "/" + path.relative_to(WEB).as_posix()
            status, headers, body = self.srv.call("GET", url)
            self.assertEqual(status, 200, url)
            self.assertEqual(headers["Content-Type"], types[path.suffix], url)
            self.assertEqual(body if isinstance(body, str) else body.decode(),
                             path.read_text(), url)

    def test_client_side_routes_get_index_html(self):
        for path in ("/events/7", "/orders/ord_x", "/checkout/ord_x", "/login?next=/orders"):
            status, headers, body = self.srv.call("GET", path)
            self.assertEqual(status, 200, path)
            self.assertTrue(headers["Content-Type"].startswith("text/html"), path)

    def test_the_api_and_operations_are_never_shadowed(self):
        for path in (f"{API}/nope", f"{API}/events/1/nope", "/api", "/sandbox/toss/nope"):
            self.assertProblem(self.srv.call("GET", path), 404, "NOT_FOUND", msg=path)
        self.assertProblem(self.srv.call("GET", "/js/missing.js"), 404, "NOT_FOUND")
        status, headers, body = self.srv.call("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        status, headers, _ = self.srv.call("GET", "/metrics")
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        # Only GET falls back to the UI; a known path with another method is still 405.
        self.assertProblem(self.srv.call("POST", "/events/7", {}), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("DELETE", f"{API}/events"), 405, "METHOD_NOT_ALLOWED")


class web_dir_setting(e2e_case):
    def test_server_web_dir_serves_a_folder_as_it_is_on_each_request(self):
        with tempfile.TemporaryDirectory(prefix="ticketon-web-") as folder:
            root = Path(folder)
            (root / "index.html").write_text("<html>working copy</html>")
            with harness.server(env={"TICKETON_SERVER_WEB_DIR": folder}) as srv:
                status, headers, body = srv.call("GET", "/events/1")
                self.assertEqual((status, body), (200, "<html>working copy</html>"))
                self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
                (root / "index.html").write_text("<html>edited</html>")
                self.assertEqual(srv.call("GET", "/")[2], "<html>edited</html>")
                self.assertProblem(srv.call("GET", "/js/app.js"), 404, "NOT_FOUND")
                self.assertProblem(srv.call("GET", f"{API}/nope"), 404, "NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
