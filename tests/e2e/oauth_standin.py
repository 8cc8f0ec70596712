"""A small local stand-in for OAuth2 providers, for the social login tests (issue 15).

It answers under /kakao, /naver and /oidc with the documented shapes of Kakao's and Naver's
login APIs (authorize, token, profile) and of an OpenID Connect provider (discovery, JWKS, ID
tokens signed RS256 with a key made by the `openssl` command), and it checks what a real one
checks: the client id and secret, the redirect URI, a code used once, and PKCE S256. Tests
steer the next sign-in with `standin.next` (the person, a refusal, or a fault) and read what
it was sent in `standin.seen`.

The authorize endpoint stands in for the browser's visit: instead of a login page it answers
at once with the redirect back to the client, as the provider would after the person agreed.
"""

import base64
import hashlib
import json
import secrets
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CLIENT_ID = "ticketon-client"
CLIENT_SECRET = "ticketon-secret-value"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kakao_profile(sub, email, verified=True, nickname="라이언"):
    account = {"profile_nickname_needs_agreement": False, "profile": {"nickname": nickname}}
    if email is not None:
        account.update({"has_email": True, "email_needs_agreement": False,
                        "is_email_valid": True, "is_email_verified": verified, "email": email})
    return {"id": int(sub), "connected_at": "2026-12-01T00:00:00Z", "kakao_account": account}


def naver_profile(sub, email, name="네이버 사용자"):
    response = {"id": sub, "nickname": "nick", "name": name}
    if email is not None:
        response["email"] = email
    return {"resultcode": "00", "message": "success", "response": response}


class rsa_key:
    """An RSA key for signing ID tokens, made and used through the openssl command."""

    def __init__(self, directory, kid):
        self.kid = kid
        # Two keys may share a kid (a forger's): the file is named apart.
        self.path = Path(directory) / f"{kid}-{secrets.token_hex(4)}.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(self.path)], check=True,
                       capture_output=True)
        out = subprocess.run(["openssl", "rsa", "-in", str(self.path), "-noout", "-modulus"],
                             check=True, capture_output=True, text=True).stdout
        modulus = bytes.fromhex(out.strip().split("=", 1)[1])
        self.jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                    "n": b64url(modulus), "e": b64url((65537).to_bytes(3, "big"))}

    def sign(self, claims, header=None):
        header = header or {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.path)],
                             input=signing_input, check=True, capture_output=True).stdout
        return signing_input.decode() + "." + b64url(sig)


class standin:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="ticketon-oauth-standin-")
        self.key = rsa_key(self.dir.name, "standin-1")
        self.rogue = rsa_key(self.dir.name, "standin-1")  # same kid, another key
        self.codes = {}
        self.tokens = {}
        self.seen = []
        self.next = {}
        self.lock = threading.Lock()
        owner = self

        class handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner._handle(self, "GET")

            def do_POST(self):
                owner._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self):
        return f"{self.base}/oidc"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.dir.cleanup()

    def env(self):
        """The ticketon settings that point kakao, naver and a generic `acme` OpenID provider
        here."""
        out = {"TICKETON_AUTH_OAUTH2_PROVIDERS": "acme"}
        for name in ("kakao", "naver"):
            prefix = f"TICKETON_AUTH_OAUTH2_{name.upper()}_"
            out.update({prefix + "CLIENT_ID": CLIENT_ID, prefix + "CLIENT_SECRET": CLIENT_SECRET,
                        prefix + "AUTHORIZE_URL": f"{self.base}/{name}/authorize",
                        prefix + "TOKEN_URL": f"{self.base}/{name}/token",
                        prefix + "USERINFO_URL": f"{self.base}/{name}/me"})
        out.update({"TICKETON_AUTH_OAUTH2_ACME_CLIENT_ID": CLIENT_ID,
                    "TICKETON_AUTH_OAUTH2_ACME_CLIENT_SECRET": CLIENT_SECRET,
                    "TICKETON_AUTH_OAUTH2_ACME_ISSUER": self.issuer})
        return out

    # -- the endpoints -------------------------------------------------------------------------

    def _send(self, h, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if body is not None:
            h.send_header("Content-Type", "application/json;charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        try:
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the slow-provider tests): nothing to tell it

    def _handle(self, h, method):
        url = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        parts = url.path.strip("/").split("/")
        kind, action = parts[0], "/".join(parts[1:])
        with self.lock:
            self.seen.append({"kind": kind, "action": action, "query": query, "form": form,
                              "headers": dict(h.headers)})
            nxt = dict(self.next)
        fault = nxt.get("fault", {}).get(action)
        if fault == "slow":
            time.sleep(3.0)
        if fault == "500":
            return self._send(h, 500, {"error": "server_error"})
        if kind == "oidc" and action == ".well-known/openid-configuration":
            return self._send(h, 200, {
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "userinfo_endpoint": f"{self.issuer}/me",
                "jwks_uri": f"{self.issuer}/jwks"})
        if kind == "oidc" and action == "jwks":
            return self._send(h, 200, {"keys": [self.key.jwk]})
        if action == "authorize":
            return self._authorize(h, kind, query, nxt)
        if action == "token" and method == "POST":
            return self._token(h, kind, form, nxt)
        if action == "me":
            return self._me(h, kind, h.headers.get("Authorization", ""), nxt)
        return self._send(h, 404, {"error": "not_found"})

    def _authorize(self, h, kind, q, nxt):
        redirect = q["redirect_uri"]
        if nxt.get("deny"):
            back = {"error": "access_denied", "error_description": "User denied access",
                    "state": q.get("state", "")}
            return self._send(h, 302, None,
                              {"Location": redirect + "?" + urllib.parse.urlencode(back)})
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"kind": kind, "client_id": q.get("client_id"),
                                "redirect_uri": redirect, "challenge": q.get("code_challenge"),
                                "method": q.get("code_challenge_method"),
                                "nonce": q.get("nonce"), "profile": nxt.get("profile")}
        back = {"code": code, "state": q.get("state", "")}
        return self._send(h, 302, None, {"Location": redirect + "?" + urllib.parse.urlencode(back)})

    def _refuse_code(self, h, kind, why):
        if kind == "naver":  # Naver answers errors with 200
            return self._send(h, 200, {"error": "invalid_request", "error_description": why})
        return self._send(h, 400, {"error": "invalid_grant", "error_description": why,
                                   "error_code": "KOE320"})

    def _token(self, h, kind, form, nxt):
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self._send(h, 401, {"error": "invalid_client"})
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if nxt.get("fault", {}).get("token") == "invalid_grant" or grant is None:
            return self._refuse_code(h, kind, "authorization code not found")
        if grant["kind"] != kind or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._refuse_code(h, kind, "redirect_uri mismatch")
        verifier = form.get("code_verifier", "")
        if grant["method"] != "S256" or b64url(hashlib.sha256(verifier.encode()).digest()) != \
                grant["challenge"]:
            return self._refuse_code(h, kind, "PKCE verification failed")
        if kind == "naver" and not form.get("state"):
            return self._refuse_code(h, kind, "state is required")
        access = secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[access] = grant
        body = {"access_token": access, "token_type": "bearer", "expires_in": 3600,
                "refresh_token": secrets.token_urlsafe(8)}
        if kind == "oidc":
            body["id_token"] = self._id_token(grant, nxt.get("id_token_fault"))
        return self._send(h, 200, body)

    def _id_token(self, grant, fault):
        now = int(time.time())
        sub = grant["profile"]["sub"]
        claims = {"iss": self.issuer, "sub": sub, "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "nonce": grant["nonce"]}
        if fault == "audience":
            claims["aud"] = "someone-else"
        elif fault == "nonce":
            claims["nonce"] = "a-nonce-from-another-sign-in"
        elif fault == "expired":
            claims["exp"] = now - 3600
        elif fault == "issuer":
            claims["iss"] = "http://127.0.0.1:1/elsewhere"
        key = self.rogue if fault == "signature" else self.key
        if fault == "alg_none":
            return key.sign(claims, {"alg": "none", "kid": key.kid})[:-1].rsplit(".", 1)[0] + "."
        return key.sign(claims)

    def _me(self, h, kind, authorization, nxt):
        token = authorization.removeprefix("Bearer ").strip()
        with self.lock:
            grant = self.tokens.get(token)
        if grant is None:
            return self._send(h, 401, {"msg": "this access token does not exist", "code": -401})
        return self._send(h, 200, grant["profile"])
