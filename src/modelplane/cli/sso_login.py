"""``modelplane login URL --sso``: sign in through the server's identity provider in a browser.

The flow is the authorization code flow with PKCE for native apps (RFC 8252): this command listens
on a loopback port of its own, opens (or prints) the provider's sign-in address with a fresh state,
nonce and S256 code challenge, and takes the one request the provider's redirect makes to
``http://127.0.0.1:PORT/callback``. It checks the state, then hands the code, the verifier and the
nonce to the server (``POST /api/v1/sso/token``), which trades the code with its client secret,
checks the ID token and answers with a token of the user lasting ``cli_session_seconds``.

The provider's client registration must allow ``http://127.0.0.1/callback`` on any port (RFC 8252
§7.3). Only the standard library and httpx are used here: a machine with the light client signs in
too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from modelplane.errors import AuthError, ConfigError, ModelplaneError

__all__ = ["WAIT_SECONDS", "sso_sign_in"]

WAIT_SECONDS = 300.0
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>modelplane</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body>"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Callback(BaseHTTPRequestHandler):
    """Takes the provider's redirect to ``/callback`` (anything else is a 404) and keeps its query."""

    server: _Loopback

    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if hmac.compare_digest(query.get("state", "").encode(), self.server.state.encode()):
            ok = "code" in query
            title = "Signed in" if ok else "Not signed in"
            text = (
                "You can close this tab and go back to the terminal."
                if ok
                else f"The identity provider answered: {html.escape(query.get('error', 'no code'))}."
            )
        else:
            title, text = "Not signed in", "This answer belongs to another sign-in."
        body = _PAGE.format(title=title, text=text).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.server.answers.append(query)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the codes stay out of logs
        return


class _Loopback(HTTPServer):
    def __init__(self, state: str) -> None:
        super().__init__(("127.0.0.1", 0), _Callback)
        self.state = state
        self.answers: list[dict[str, str]] = []
        self.timeout = 1.0

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"

    def wait(self, seconds: float) -> dict[str, str]:
        """The query of the first redirect that carries this sign-in's state."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.handle_request()  # returns after one request, or after ``timeout``
            for answer in self.answers:
                if hmac.compare_digest(answer.get("state", "").encode(), self.state.encode()):
                    return answer
        raise AuthError(
            f"No sign-in came back within {seconds:.0f} s.",
            hint="Run `modelplane login URL --sso` again and finish signing in in the browser.",
        )


def _server_sso(http: Any, url: str) -> dict[str, Any]:
    from modelplane.metadata.http_transport import error_from_body

    response = http.get(f"{url}/api/v1/sso")
    if response.status_code == 404:
        raise ConfigError(
            f"The server at {url} has no single sign-on.",
            hint="Log in with a token (`modelplane login URL --token TOKEN`), or ask its admin "
            "to set MODELPLANE_OIDC_ISSUER.",
        )
    if response.status_code != 200:
        raise error_from_body(response.status_code, response.content, "GET /api/v1/sso")
    return dict(response.json())


def sso_sign_in(
    url: str, *, open_browser: bool, announce: Any, wait_seconds: float = WAIT_SECONDS
) -> str:
    """Sign in at the server ``url`` through its provider; returns the new token's secret.
    ``announce(text)`` shows the user where to sign in."""
    import httpx

    from modelplane.metadata.http_transport import error_from_body

    with httpx.Client(timeout=60.0) as http:
        info = _server_sso(http, url)
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        challenge = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
        loopback = _Loopback(state)
        try:
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": info["client_id"],
                    "redirect_uri": loopback.redirect_uri,
                    "scope": info["scope"],
                    "state": state,
                    "nonce": nonce,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
            endpoint = str(info["authorization_endpoint"])
            address = f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
            announce(f"Sign in with {info['issuer']} in your browser:\n\n    {address}\n")
            if open_browser and not webbrowser.open(address):
                announce("No browser could be opened here: open the address above in one.")
            answer = loopback.wait(wait_seconds)
        finally:
            loopback.server_close()
        if "code" not in answer:
            raise AuthError(
                f"The identity provider did not sign you in ({answer.get('error', 'no code')}).",
                hint="Run `modelplane login URL --sso` again.",
            )
        response = http.post(
            f"{url}/api/v1/sso/token",
            json={
                "code": answer["code"],
                "code_verifier": verifier,
                "redirect_uri": loopback.redirect_uri,
                "nonce": nonce,
            },
        )
    if response.status_code != 200:
        error: ModelplaneError = error_from_body(
            response.status_code, response.content, "POST /api/v1/sso/token"
        )
        raise error
    return str(response.json()["secret"])
