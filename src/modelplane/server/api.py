"""What every API route shares: the ``{x:name}`` path convertor, the store and token dependencies,
and fast JSON responses built straight from records.

Read routes are ``async`` and make their store call through ``ReadDep``: in the event loop when
the store is SQLite (a WAL read never waits for a lock, and the GIL serialises the work anyway, so
a worker thread would only add two thread switches to every request), in a worker thread for
database servers, whose reads wait on the network. Write routes are plain functions, which
FastAPI always runs in worker threads: a SQLite write may wait for the database lock.

Request bodies declare their fields ``Any`` (the expected type is in each field's description):
the store checks every value itself, so a bad value gets the same error, word for word, over HTTP
as on a SQL store.
"""

from __future__ import annotations

from typing import Annotated, Any, Awaitable, Callable, TypeVar
from urllib.parse import quote, unquote

from fastapi import Depends, Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from modelplane.errors import InvalidInputError
from modelplane.metadata.records import TokenRecord
from modelplane.metadata.store import MetadataStore

__all__ = [
    "OwnerDep",
    "ReadDep",
    "Reader",
    "StoreDep",
    "TokenDep",
    "inline_reader",
    "json_response",
    "no_content",
    "parse_int",
    "record_response",
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
    return request.app.state.client.store  # type: ignore[no-any-return]


async def _token(request: Request) -> TokenRecord:
    return request.state.token  # type: ignore[no-any-return]


async def _owner(request: Request) -> str:
    return str(request.state.token.owner)


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
OwnerDep = Annotated[str, Depends(_owner)]

_ANY = TypeAdapter(Any)


def record_response(record: BaseModel | None, status_code: int = 200) -> Response:
    """A record (or ``null``) as JSON, skipping FastAPI's re-validation of the response model."""
    body = b"null" if record is None else record.model_dump_json().encode()
    return Response(body, status_code=status_code, media_type="application/json")


def json_response(value: Any, status_code: int = 200) -> Response:
    """Any JSON-able value, records included (lists of records, ``{"version": record}``…)."""
    return Response(_ANY.dump_json(value), status_code=status_code, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)


def parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError(f"{what} {text!r} is not a number.", hint="Use 1, 2, 3…") from None
