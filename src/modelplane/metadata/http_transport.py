"""The wire under ``HttpMetadataStore``: one keep-alive ``httpx.Client``, path encoding, JSON
bodies, and errors rebuilt from the server's ``{"error": {"type", "message", "hint"}}`` body.
"""

from __future__ import annotations

import json
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

__all__ = ["API_PREFIX", "Transport", "encode_segment", "error_from_body"]

API_PREFIX = "/api/v1"
_JSON_HEADERS = {"Content-Type": "application/json"}


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
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise ConfigError(
                "Talking to a modelplane server needs the httpx package.",
                hint="Install it with `pip install 'modelplane[server]'`.",
            ) from None
        self.url = url.rstrip("/")
        self._httpx = httpx
        headers = {"Accept": "application/json", "User-Agent": "modelplane-http-store"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if http_client is None:
            http_client = httpx.Client(
                base_url=self.url + API_PREFIX,
                timeout=timeout,
                transport=httpx.HTTPTransport(retries=2),
            )
        else:
            http_client.base_url = self.url + API_PREFIX
        http_client.headers.update(headers)
        self._client = http_client

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The response body of a successful call; a modelplane error otherwise."""
        query = None
        if params:
            # A list is sent as the parameter repeated (none for an empty list).
            query = {
                k: [_param(item) for item in v] if isinstance(v, list) else _param(v)
                for k, v in params.items()
                if v is not None
            }
        content = None if body is None else _dumps(body)
        try:
            response = self._client.request(
                method,
                path,
                params=query,
                content=content,
                headers=_JSON_HEADERS if content is not None else None,
            )
        except self._httpx.TransportError as exc:
            raise StoreError(
                f"Cannot reach the modelplane server at {self.url} ({type(exc).__name__}: {exc}).",
                hint="Start it with `modelplane server start`, or check MODELPLANE_STORE_URL.",
            ) from None
        if response.status_code >= 400:
            error = error_from_body(response.status_code, response.content, f"{method} {path}")
            if response.status_code == 401 and not isinstance(error, AuthError):
                error = AuthError(error.message, hint=error.hint)
            raise error
        return response.content


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
