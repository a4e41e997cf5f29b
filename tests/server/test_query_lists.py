"""List arguments of ``GET`` operations travel as repeated query parameters, both ways.

The halves are the HTTP store's request (``metadata/http.py`` and its transport) and the server's
route built from a declaration (``server/routes/operations.py``); they are tested on a declaration
of their own, so any later operation with a list argument gets the same treatment.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from modelplane.enums import ModelStages
from modelplane.metadata.http import _request_parts
from modelplane.metadata.http_transport import Transport
from modelplane.metadata.operations import Operation, declared_operations, operation
from modelplane.metadata.store import VersionRef
from modelplane.server.api import inline_reader
from modelplane.server.app import status_for
from modelplane.server.routes.operations import _endpoint, _list_arguments, _query_type
from modelplane.server.routes.reads import ReadRoute, read_endpoint


class Things:
    """A declaration with list query arguments, and a target that returns what it was given."""

    @operation("GET", "/things/{thing}")
    def find_things(
        self,
        thing: str,
        versions: Sequence[VersionRef],
        names: Sequence[str] = (),
        sizes: list[int] | None = None,
    ) -> dict[str, Any]:
        return {"thing": thing, "versions": versions, "names": names, "sizes": sizes}


class BadDefault:
    @operation("GET", "/bad")
    def bad(self, names: Sequence[str] = ("a",)) -> None: ...


FIND = declared_operations(Things)[0]


def sent(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """The query the HTTP store sends for ``find_things(**arguments)``, as (name, value) pairs."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    http_client = httpx.Client(transport=httpx.MockTransport(answer))
    wire = Transport("http://store", http_client=http_client)
    path, query, body = _request_parts(FIND, FIND.bind((), arguments))
    assert body is None
    wire.request("GET", path, params=query)
    return parse_qsl(urlsplit(str(seen[0].url)).query)


def test_the_http_store_repeats_a_list_parameter() -> None:
    query = sent(
        {"thing": "x", "versions": [1, "production", ModelStages.LATEST], "sizes": [3, 4]}
    )

    assert query == [
        ("versions", "1"),
        ("versions", "production"),
        ("versions", "latest"),
        ("sizes", "3"),
        ("sizes", "4"),
    ]
    assert sent({"thing": "x", "versions": []}) == []


def received(query: str, route: str) -> dict[str, Any]:
    """What the target gets when the server's ``route`` for ``find_things`` answers ``query``:
    the operation's FastAPI route (``full``, which the OpenAPI document describes) or its lean
    route (``lean``, which answers on a real server)."""
    app = FastAPI()
    things = Things()
    app.state.reader = inline_reader

    async def chosen_store(request: Request) -> None:  # what the token check sets on a server
        request.state.store = things

    if route == "full":
        app.add_api_route(
            "/api/v1/things/{thing}",
            _endpoint(FIND, status_for),
            methods=["GET"],
            dependencies=[Depends(chosen_store)],
        )
    else:
        endpoint = read_endpoint(FIND, chosen_store, _query_type, _list_arguments(FIND), None, {})
        app.router.routes.append(ReadRoute("/api/v1/things/{thing}", endpoint, methods=["GET"]))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            return await client.get(f"/api/v1/things/x?{query}")

    response = asyncio.run(call())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


ROUTES = pytest.mark.parametrize("route", ["full", "lean"])


@ROUTES
def test_the_route_collects_a_repeated_parameter_into_a_list(route: str) -> None:
    got = received("versions=1&versions=production&names=a&names=b&sizes=3&sizes=4", route)

    assert got == {
        "thing": "x",
        "versions": ["1", "production"],
        "names": ["a", "b"],
        "sizes": [3, 4],
    }


@ROUTES
def test_an_absent_list_is_the_default_or_empty_when_required(route: str) -> None:
    assert received("", route) == {"thing": "x", "versions": [], "names": [], "sizes": None}


def test_a_list_with_a_non_empty_default_cannot_be_a_query_parameter() -> None:
    op: Operation = declared_operations(BadDefault)[0]

    with pytest.raises(TypeError, match="non-empty default"):
        _endpoint(op, status_for)


def test_every_read_is_answered_by_its_lean_route_and_documented_by_its_full_one(
    tmp_path: Any,
) -> None:
    from starlette.routing import Match

    from modelplane.config import load_settings
    from modelplane.metadata.store import store_operations
    from modelplane.server.app import create_app

    settings = load_settings(env={"MODELPLANE_HOME": str(tmp_path), "MODELPLANE_CONFIG": str(tmp_path / "c")})
    (tmp_path).mkdir(exist_ok=True)
    app = create_app(settings, webhook_interval=None, reap_interval=None)
    documented = app.openapi()["paths"]
    for op in store_operations():
        if not op.reads:
            continue
        path = "/api/v1" + op.path.replace("{", "").replace("}", "")
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        first = next(r for r in app.router.routes if r.matches(scope)[0] is Match.FULL)
        assert isinstance(first, ReadRoute), op.name
        assert "get" in documented["/api/v1" + op.path], op.name
