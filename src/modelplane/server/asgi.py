"""Plain ASGI middleware of the server: names with ``/`` in URL paths, the request body limit, and
security headers on the dashboard.
"""

from __future__ import annotations

import json
import re
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

__all__ = ["BodyLimit", "KeepEncodedSlashes", "SecurityHeaders", "error_body"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_KEEP = re.compile(r"%(?:2[fF]|25)")


def error_body(type_name: str, message: str, hint: str | None = None) -> bytes:
    return json.dumps({"error": {"type": type_name, "message": message, "hint": hint}}).encode()


def _partly_decoded(raw: str) -> str:
    """``raw`` percent-decoded except ``%2F`` and ``%25``, which the ``name`` convertor decodes."""
    pieces = []
    start = 0
    for match in _KEEP.finditer(raw):
        pieces.append(unquote(raw[start : match.start()]))
        pieces.append(match.group(0).upper())
        start = match.end()
    pieces.append(unquote(raw[start:]))
    return "".join(pieces)


class KeepEncodedSlashes:
    """Routes on the raw path where it holds an encoded ``/`` or ``%``.

    Servers decode ``%2F`` before routing, which would split a model called ``a/b`` into two path
    segments. Here the routed path keeps ``%2F`` (and ``%25``, so decoding stays unambiguous).
    """

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw and b"%" in raw:
            text = raw.decode("latin-1")
            if _KEEP.search(text):
                path = scope["path"]
                decoded = unquote(text)
                prefix = path[: len(path) - len(decoded)] if path.endswith(decoded) else ""
                scope = dict(scope, path=prefix + _partly_decoded(text))
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 before the app sees them."""

    def __init__(self, app: App, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = error_body(
            "InvalidInputError",
            f"The request body is larger than the server's limit of {self.max_bytes} bytes.",
            "Send less data per call; artifact bytes go to the artifact store, not the API.",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_DASHBOARD_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
]
_COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """``nosniff`` and ``DENY`` framing everywhere; a strict CSP on the dashboard's pages."""

    def __init__(self, app: App, dashboard_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = dashboard_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = list(_COMMON_HEADERS)
        if path == "/" or path.startswith(self.prefixes):
            extra += _DASHBOARD_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_headers)
