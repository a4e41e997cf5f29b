"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock`` (PyPI) in a
subprocess on loopback, behind a small proxy in this process that the tests can watch and turn.

The proxy forwards every request with its own ``Host``, so the provider names the proxy's address
as its issuer and endpoints and every request of the server and the browser passes through it. It
records what the sign-in sent (the authorization requests' queries, the token requests' forms and
headers), so a test can check PKCE and state; ``forge`` makes it replace the ID token of the next
token answers by one with the same claims signed with another key (what an attacker between the
server and the provider would send); ``upstream`` may point at another provider process (one that
issues expired ID tokens).

``sign_in`` drives the dashboard's flow without a browser: it follows the redirects as a browser
would and submits the provider's form for a subject.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.server.live import free_port

__all__ = ["MockProvider", "ProviderProxy", "s256", "sign_in"]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class MockProvider:
    """``python -m oidc_provider_mock`` on a free loopback port; ``token_max_age`` (seconds, may
    be negative: expired on issue) sets the ID tokens' lifetime."""

    def __init__(self, *, token_max_age: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port)]
        if token_max_age is not None:
            self.args.append(f"--token-max-age={token_max_age}")
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> MockProvider:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:  # its log says when it listens
            self.lines.append(line.rstrip("\n"))
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError("oidc-provider-mock did not start:\n" + "\n".join(self.lines))
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        return self

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class ProviderProxy:
    """Forwards to ``upstream`` (a provider's URL), recording and optionally forging."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.forge = False
        self.authorize_queries: list[dict[str, str]] = []
        self.token_requests: list[tuple[dict[str, str], dict[str, str]]] = []
        self.attacker_key = RSAKey.generate_key(2048)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                if parts.path == "/oauth2/authorize" and self.command == "GET":  # the form shown
                    proxy.authorize_queries.append(dict(parse_qsl(parts.query)))
                if parts.path == "/oauth2/token":
                    proxy.token_requests.append(
                        (dict(parse_qsl(body.decode())), {k.lower(): v for k, v in self.headers.items()})
                    )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
                answer = httpx.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body, timeout=30
                )
                content = answer.content
                if parts.path == "/oauth2/token" and proxy.forge and answer.status_code == 200:
                    content = proxy._forged(content)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = _forward

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _forged(self, content: bytes) -> bytes:
        """The same token answer with its ID token's claims re-signed by the attacker's key
        (under the header, key id included, of the real one)."""
        answer = json.loads(content)
        header_part = answer["id_token"].split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
        claims_part = answer["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
        answer["id_token"] = jwt.encode(header, claims, self.attacker_key)
        return json.dumps(answer).encode()

    def start(self) -> ProviderProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider puts in ``sub``'s ID tokens (the mock's ``PUT /users/<sub>``)."""
        httpx.put(f"{self.url}/users/{sub}", json=claims, timeout=30).raise_for_status()


def sign_in(server_url: str, sub: str, *, next: str = "#/models", http: httpx.Client | None = None) -> tuple[httpx.Response, httpx.Client]:
    """The dashboard's sign-in as a browser does it, choosing ``sub`` on the provider's form.
    Returns the server's answer to the provider's redirect back, and the client (its cookies)."""
    http = http or httpx.Client(timeout=30)
    start = http.get(f"{server_url}/api/v1/sso/login", params={"next": next})
    assert start.status_code == 302, start.text
    shown = http.get(start.headers["location"])  # the provider's sign-in form
    assert shown.status_code == 200, shown.text
    form = http.post(start.headers["location"], data={"sub": sub})  # submitted
    assert form.status_code == 302, form.text
    back = http.get(form.headers["location"])  # the browser sent back to the server
    return back, http


@contextlib.contextmanager
def running_provider() -> Iterator[ProviderProxy]:
    """A real provider process behind a proxy, for a test module's ``provider`` fixture."""
    real = MockProvider().start()
    proxy = ProviderProxy(real.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()
        real.stop()
