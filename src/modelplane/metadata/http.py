"""``HttpMetadataStore``: the ``MetadataStore`` protocol over a modelplane server's ``/api/v1``.

Its methods are not written here one by one: each comes from the operation's declaration in
``metadata/store.py`` (verb, path, argument and result types), so the client can never drift from
the server's routes, which come from the same declarations. Every call is one HTTP request on one
keep-alive connection pool; the server runs it on its SQL store, so business rules live there and
errors come back as the same classes. A write carries an ``Idempotency-Key`` of its own, so the
transport may send it again after a reset or a 502/503/504 and the server still records it once
(``metadata/idempotency.py``).
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any, Callable

from modelplane.errors import InvalidInputError
from modelplane.metadata.http_transport import Transport, encode_segment
from modelplane.metadata.operations import Operation, jsonable, list_item, segment_text
from modelplane.metadata.records import StoreInfo, TokenRecord
from modelplane.metadata.store import VersionRef, store_operations
from modelplane.config import DEFAULT_PROJECT, check_project_name

__all__ = ["HttpMetadataStore"]

_VERSION_SPECS = (VersionRef, VersionRef | None)


def _list_spec(op: Operation, name: str, spec: Any) -> str:
    if spec is None:  # a repeated query parameter has no way to say None
        raise InvalidInputError(
            f"The {name} of {op.name} include None, which names no version.",
            hint="Use a version number, name or stage.",
        )
    return segment_text(spec, version_spec=True)


def _request_parts(op: Operation, arguments: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
    """The path, query parameters and JSON body of one call of ``op``."""
    path = op.path
    for name in op.path_params:
        text = segment_text(arguments[name], version_spec=op.hints.get(name) in _VERSION_SPECS)
        path = path.replace("{" + name + "}", encode_segment(text))
    values = {p.name: arguments.get(p.name) for p in op.wire_params}
    if op.has_body:
        return path, {}, {name: jsonable(value) for name, value in values.items()}
    query = {}
    for name, value in values.items():
        hint = op.hints.get(name)
        item = list_item(hint)
        if value is None:
            pass
        elif hint in _VERSION_SPECS:
            value = segment_text(value, version_spec=True)
        elif item in _VERSION_SPECS and isinstance(value, (list, tuple)):
            # Each version spec as its text; anything else goes as it is for the store to refuse.
            value = [_list_spec(op, name, spec) for spec in value]
        query[name] = jsonable(value)
    return path, query, None


def _method(op: Operation) -> Callable[..., Any]:
    returns_nothing = op.result is type(None)
    keyed = not op.reads and op.replayable

    def call(self: HttpMetadataStore, *args: Any, **kwargs: Any) -> Any:
        arguments = op.bind(args, kwargs)
        path, query, body = _request_parts(op, arguments)
        key = uuid.uuid4().hex if keyed else None  # one per call, the same on each retry
        raw = self._wire.request(op.verb, path, params=query, body=body, key=key)
        return None if returns_nothing else op.result_adapter.validate_json(raw)

    call.__name__ = call.__qualname__ = op.name
    call.__doc__ = op.func.__doc__
    call.__signature__ = inspect.signature(op.func)  # type: ignore[attr-defined]
    return call


_INFO = _method(next(op for op in store_operations() if op.name == "info"))


class HttpMetadataStore:
    """A ``MetadataStore`` that forwards every call to the modelplane server at ``url``.

    ``retry_for``: seconds a call keeps retrying while the server does not answer (``None``:
    ``MODELPLANE_HTTP_RETRY_SECONDS``, or 60)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 60.0,
        http_client: Any = None,
        retry_for: float | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> None:
        self.url = url.rstrip("/")
        self.project = check_project_name(project)
        self._wire = Transport(
            self.url,
            token=token,
            timeout=timeout,
            http_client=http_client,
            retry_for=retry_for,
            project=None if project == DEFAULT_PROJECT else project,
        )

    def __repr__(self) -> str:
        if self.project == DEFAULT_PROJECT:
            return f"HttpMetadataStore({self.url!r})"
        return f"HttpMetadataStore({self.url!r}, project={self.project!r})"

    def close(self) -> None:
        self._wire.close()

    def info(self) -> StoreInfo:
        """The server's store description, with ``url`` this store's (the server's) URL."""
        described: StoreInfo = _INFO(self)
        return described.model_copy(update={"url": self.url})

    def whoami(self) -> TokenRecord:
        """The token this store sends (not part of ``MetadataStore``: only a server knows it)."""
        return TokenRecord.model_validate_json(self._wire.request("GET", "/me"))


for _op in store_operations():
    if _op.name not in vars(HttpMetadataStore):
        setattr(HttpMetadataStore, _op.name, _method(_op))
