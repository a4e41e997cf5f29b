"""What every API route shares: the ``{x:name}`` path convertor, the store and token dependencies,
and fast JSON responses built straight from records.

Reads run through the app's reader: in the event loop when the store is SQLite (a WAL read never
waits for a lock, and the GIL serialises the work anyway, so a worker thread would only add two
thread switches to every request), in a worker thread for database servers, whose reads wait on
the network.
"""

from __future__ import annotations

from typing import Annotated, Any, Awaitable, Callable, TypeVar
from urllib.parse import quote, unquote

from fastapi import Depends, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from modelplane.metadata.records import TokenRecord
from modelplane.metadata.store import MetadataStore

__all__ = [
    "ReadDep",
    "Reader",
    "StoreDep",
    "TokenDep",
    "inline_reader",
    "encode_result",
    "json_response",
    "threaded_reader",
]


class _NameConvertor(Convertor[str]):
    """One path segment holding a user's name. ``asgi.KeepEncodedSlashes`` leaves ``%2F`` and
    ``%25`` encoded in the routed path, so a name with ``/`` or ``%`` stays one segment; this
    decodes it."""

    regex = "[^/]*"  # empty too: an empty name must reach the store, which explains the error

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("name", _NameConvertor())


async def _store(request: Request) -> MetadataStore:
    # The store of the project the call acts in, chosen by the token check (``server.auth``).
    return request.state.store  # type: ignore[no-any-return]


async def _token(request: Request) -> TokenRecord:
    return request.state.token  # type: ignore[no-any-return]


T = TypeVar("T")
Reader = Callable[..., Awaitable[Any]]


async def inline_reader(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return call(*args, **kwargs)


async def threaded_reader(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(call, *args, **kwargs)


async def _reader(request: Request) -> Reader:
    return request.app.state.reader  # type: ignore[no-any-return]


StoreDep = Annotated[MetadataStore, Depends(_store)]
ReadDep = Annotated[Reader, Depends(_reader)]
TokenDep = Annotated[TokenRecord, Depends(_token)]

_ANY = TypeAdapter(Any)


def _is_named_tuple(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")


def encode_result(kind: Any) -> Callable[[Any], Response]:
    """How a store call's result of type ``kind`` is sent: a record straight from pydantic
    (skipping FastAPI's re-validation of the response model), named pairs as JSON objects,
    nothing as 204."""
    if kind is type(None):
        return lambda _value: Response(status_code=204)
    if _is_named_tuple(kind):
        return lambda value: _json(_ANY.dump_json(value._asdict()))
    adapter = TypeAdapter(kind)
    return lambda value: _json(adapter.dump_json(value))


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def json_response(value: Any, status_code: int = 200) -> Response:
    """Any JSON-able value, records included (lists of records, ``{"files": [...]}``…)."""
    return Response(_ANY.dump_json(value), status_code=status_code, media_type="application/json")
