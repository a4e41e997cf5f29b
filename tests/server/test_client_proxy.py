"""The Python client sends its calls straight to the connection pool, but a proxy named in the
environment (``HTTP_PROXY``…) must still carry them, as it does for every httpx program."""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from collections.abc import Iterator

import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer


class _Forwarder(http.server.BaseHTTPRequestHandler):
    """A forward HTTP proxy: takes ``GET http://host:port/path`` and asks that server."""

    seen: list[str] = []

    def _forward(self) -> None:
        target = urllib.parse.urlsplit(self.path)
        self.seen.append(f"{self.command} {target.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    _Forwarder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forwarder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _create_and_read(live_server: LiveServer, name: str) -> None:
    store = HttpMetadataStore(live_server.url, token=live_server.admin_token)
    try:
        store.create_model(name)
        assert store.get_model(name).name == name
    finally:
        store.close()


def test_calls_go_through_the_proxy_the_environment_names(
    live_server: LiveServer, proxy: str, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    _create_and_read(live_server, unique)
    assert "POST /api/v1/models" in _Forwarder.seen
    assert f"GET /api/v1/models/{unique}" in _Forwarder.seen


def test_without_a_proxy_calls_go_straight_to_the_server(
    live_server: LiveServer, proxy: str, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    _create_and_read(live_server, unique)
    assert _Forwarder.seen == []
