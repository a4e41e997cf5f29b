"""The wire under ``HttpMetadataStore``: one keep-alive ``httpx.Client``, path encoding, JSON
bodies, errors rebuilt from the server's ``{"error": {"type", "message", "hint"}}`` body, and
retries that ride out a server restart.

A call that fails on the way (refused, reset, timed out) or is answered 502, 503 or 504 is sent
again, after waits growing from 0.05 s to 1 s, until it has tried for
``MODELPLANE_HTTP_RETRY_SECONDS`` (60 by default; 0 turns retries off). That is safe for reads,
and for writes because each carries an ``Idempotency-Key`` (the same on every retry), with which
the server answers a repeated write from its record instead of running it again
(``metadata/idempotency.py``). A write is sent again
after it may have arrived only once the server has said, in any earlier answer, that it honours
keys (an older server would run it twice); without that, or without a key, only when it never
reached the server (the connection could not be made).
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from typing import Any, Mapping
from urllib.parse import quote

from modelplane.errors import (
    AuthError,
    ConfigError,
    InvalidInputError,
    ModelplaneError,
    StoreError,
    error_class,
)
from modelplane.metadata.idempotency import HONOURED_HEADER, IDEMPOTENCY_HEADER
from modelplane.metadata.operations import PROJECT_HEADER

__all__ = [
    "API_PREFIX",
    "RETRY_SECONDS_ENV",
    "Transport",
    "encode_segment",
    "error_from_body",
    "retry_seconds",
]

logger = logging.getLogger("modelplane.http")

API_PREFIX = "/api/v1"
RETRY_SECONDS_ENV = "MODELPLANE_HTTP_RETRY_SECONDS"
# Long enough for a server (or the proxy before it) to restart.
DEFAULT_RETRY_SECONDS = 60.0
# What a proxy answers while the server behind it restarts (and ours for a busy database).
_RETRY_STATUSES = frozenset({502, 503, 504})
_FIRST_WAIT, _LONGEST_WAIT = 0.05, 1.0
_JSON_HEADERS = {"Content-Type": "application/json"}


def retry_seconds() -> float:
    """How long a call keeps trying: ``MODELPLANE_HTTP_RETRY_SECONDS``, or 60."""
    raw = os.environ.get(RETRY_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise ConfigError(
            f"{RETRY_SECONDS_ENV}={raw!r} is not a number of seconds from 0 to 86400.",
            hint=f"Set how long a call to the server keeps retrying (0: never), or leave it unset "
            f"for {DEFAULT_RETRY_SECONDS:g}.",
        )
    return value


def encode_segment(value: object) -> str:
    """``value`` as one URL path segment: every reserved character and ``.`` percent-encoded, so a
    name with ``/``, ``%``, ``?`` or ``..`` in it reaches the server intact."""
    return quote(str(value), safe="").replace(".", "%2E")


def error_from_body(status: int, body: bytes, what: str) -> ModelplaneError:
    """The modelplane error a server response describes (our own classes only)."""
    try:
        payload = json.loads(body)
        error = payload["error"]
        name, message = str(error["type"]), str(error["message"])
        hint = error.get("hint")
    except (ValueError, KeyError, TypeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        return StoreError(
            f"The modelplane server answered {what} with HTTP {status} and no modelplane error "
            f"({snippet or 'empty body'}).",
            hint="Check that MODELPLANE_STORE_URL points at a modelplane server, "
            "not at a proxy's error page.",
        )
    return error_class(name)(message, hint=str(hint) if hint else None)


def _dumps(body: Mapping[str, Any]) -> bytes:
    """The JSON of a request body. NaN passes (the server's store refuses it with its own error);
    what JSON cannot carry at all fails here with the error a SQL store would raise."""
    for field, value in body.items():
        if isinstance(value, Mapping) and any(not isinstance(key, str) for key in value):
            raise InvalidInputError(
                f"The {field} has keys that are not strings.", hint="Use string keys."
            )
    try:
        return json.dumps(body, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The {'/'.join(body)} cannot be stored as JSON: {exc}.",
            hint="Use dicts with string keys, lists, strings, numbers, booleans and None.",
        ) from None


class Transport:
    """Sends requests under ``<url>/api/v1`` with the bearer token; raises our errors."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 60.0,
        http_client: Any = None,
        retry_for: float | None = None,
        project: str | None = None,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise ConfigError(
                "Talking to a modelplane server needs the httpx package.",
                hint="Install it with `pip install 'modelplane[client]'`.",
            ) from None
        self.url = url.rstrip("/")
        self._httpx = httpx
        self.retry_for = retry_seconds() if retry_for is None else retry_for
        # Failures of a call that reached the server, or may have: retried only when repeating
        # the call is harmless. A connection never made is retried for every call.
        self._unsent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        self._lost = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
        self._outage_since: float | None = None
        # Whether the server said it honours idempotency keys (learnt from its first answer).
        self.keys_honoured = False
        headers = {"Accept": "application/json", "User-Agent": "modelplane-http-store"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if project:
            headers[PROJECT_HEADER] = project
        # Our own calls go straight to the connection pool (``httpx.HTTPTransport``): the
        # ``Client`` around it (URL merging, cookies, auth and redirect handling) costs about a
        # third of a call's CPU, and a bearer-token API needs none of it. With a proxy named in
        # the environment, or a client the caller passed (tests do), calls go through the
        # ``Client``.
        self._direct: Any = None
        if http_client is None and not _proxied():
            # (A Client given its own transport applies no proxy from the environment.)
            self._direct = httpx.HTTPTransport(trust_env=True)
            http_client = httpx.Client(
                base_url=self.url + API_PREFIX, timeout=timeout, transport=self._direct
            )
        elif http_client is None:
            http_client = httpx.Client(base_url=self.url + API_PREFIX, timeout=timeout)
        else:
            http_client.base_url = self.url + API_PREFIX
        http_client.headers.update(headers)
        self._client = http_client
        self._headers = {**headers, "Accept-Encoding": "gzip, deflate"}
        self._timeout = {"timeout": httpx.Timeout(timeout).as_dict()}

    def close(self) -> None:
        self._client.close()  # and the pool under it

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> Any:
        """One attempt: the whole answer, read; httpx's ``TransportError`` when it failed."""
        if self._direct is None:
            return self._client.request(
                method, path, params=query, content=content, headers=headers or None
            )
        request = self._httpx.Request(
            method,
            self.url + API_PREFIX + path,
            params=query,
            content=content,
            headers={**self._headers, **headers},
            extensions=self._timeout,
        )
        response = self._direct.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> bytes:
        """The response body of a successful call; a modelplane error otherwise.

        ``key``: the call's ``Idempotency-Key``, which makes a write safe to retry on a server
        that honours keys; a ``GET`` is retried without one."""
        query = None
        if params:
            # A list is sent as the parameter repeated (none for an empty list).
            query = {
                k: [_param(item) for item in v] if isinstance(v, list) else _param(v)
                for k, v in params.items()
                if v is not None
            }
        content = None if body is None else _dumps(body)
        headers = dict(_JSON_HEADERS) if content is not None else {}
        if key is not None:
            headers[IDEMPOTENCY_HEADER] = key
        repeatable = method == "GET" or (key is not None and self.keys_honoured)
        started, attempt = time.monotonic(), 0
        while True:
            try:
                response = self._send(method, path, query, content, headers)
            except self._httpx.TransportError as exc:
                lost = repeatable and isinstance(exc, self._lost)
                retry = lost or isinstance(exc, self._unsent)
                if not (retry and self._wait(attempt, started, None, type(exc).__name__)):
                    raise self._unreachable(exc, started) from None
                attempt += 1
                continue
            if response.status_code in _RETRY_STATUSES and repeatable:
                pause = _retry_after(response.headers.get("Retry-After"))
                if self._wait(attempt, started, pause, f"HTTP {response.status_code}"):
                    attempt += 1
                    continue
            break
        if not self.keys_honoured and HONOURED_HEADER in response.headers:
            self.keys_honoured = True
        if self._outage_since is not None:
            logger.info(
                "The modelplane server at %s answers again (after %.1f s).",
                self.url,
                time.monotonic() - self._outage_since,
            )
            self._outage_since = None
        if response.status_code >= 400:
            error = error_from_body(response.status_code, response.content, f"{method} {path}")
            if response.status_code == 401 and not isinstance(error, AuthError):
                error = AuthError(error.message, hint=error.hint)
            raise error
        return response.content

    def _wait(self, attempt: int, started: float, pause: float | None, why: str) -> bool:
        """Sleep before the next attempt and say True, or say False when the time is up."""
        if pause is None:
            pause = min(_LONGEST_WAIT, _FIRST_WAIT * 2 ** min(attempt, 8))
        wait = pause
        wait *= random.uniform(0.8, 1.0)  # so clients cut off together do not return together
        now = time.monotonic()
        left = started + self.retry_for - now
        if left <= 0:
            return False
        wait = min(wait, left)
        if self._outage_since is None:
            self._outage_since = now
            logger.warning(
                "The modelplane server at %s did not answer (%s); retrying for up to %g s.",
                self.url,
                why,
                self.retry_for,
            )
        time.sleep(wait)
        return True

    def _unreachable(self, exc: Exception, started: float) -> StoreError:
        tried = time.monotonic() - started
        during = f" for {tried:.1f} s" if tried >= 1 else ""
        return StoreError(
            f"Cannot reach the modelplane server at {self.url}{during} "
            f"({type(exc).__name__}: {exc}).",
            hint="Start it with `modelplane server start`, or check MODELPLANE_STORE_URL; "
            f"{RETRY_SECONDS_ENV} sets how long a call keeps trying (now {self.retry_for:g} s).",
        )


def _retry_after(value: str | None) -> float | None:
    """The seconds of a ``Retry-After`` header (a date or nonsense counts as none), at most 10."""
    try:
        return None if value is None else min(10.0, max(0.0, float(value)))
    except ValueError:
        return None


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def _proxied() -> bool:
    """Whether the environment names a proxy (``HTTPS_PROXY``…), which only httpx's ``Client``
    applies (with ``NO_PROXY``)."""
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
