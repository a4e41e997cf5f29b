"""The lean route of a read operation: the same call, answer and errors as the operation's FastAPI
route (``routes/operations.py``), without FastAPI's per-request dependency solving.

Every ``GET`` operation gets both routes on the same path, this one first: the FastAPI route
describes the operation in the OpenAPI document, this one answers. Reads are most of a server's
traffic (every prediction run asks for the version in production), and FastAPI's solving of the
token dependency and the query parameters cost about twice the SQL query behind them. The token is
checked by the same ``TokenCheck``, the query parameters are validated by pydantic with the same
types (bounds included) and a wrong one raises the same ``RequestValidationError``, so a client
cannot tell the two routes apart; the security, typed-parameter and query-list suites run against
these routes.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from modelplane.metadata.idempotency import HONOURED_HEADER
from modelplane.metadata.operations import Operation
from modelplane.server.api import encode_result

__all__ = ["ReadRoute", "read_endpoint"]

_EMPTY = inspect.Parameter.empty


class ReadRoute(Route):
    """A Starlette route that, like FastAPI's, names itself in the scope (the request metrics read
    the route's path template from there)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def read_endpoint(
    op: Operation,
    check: Callable[[Request], Any],
    query_type: Callable[[Any], Any],
    lists: dict[str, bool],
    after: Callable[[Request, Any], Any] | None,
    expects: dict[str, str],
) -> Callable[[Request], Any]:
    """The endpoint of ``op``'s lean route: ``check`` is the token dependency of its FastAPI route,
    ``query_type`` the type each query parameter is parsed as, ``lists`` its list arguments (each
    with whether it is required), ``after`` what the server adds to the answer, ``expects`` each
    argument's type in words (for the 422 answer)."""
    plan = [
        (p.name, TypeAdapter(query_type(op.declared_hints.get(p.name))), p.default)
        for p in op.wire_params
    ]
    encode = encode_result(op.result)

    async def endpoint(request: Request) -> Response:
        await check(request)
        arguments: dict[str, Any] = {name: request.path_params[name] for name in op.path_params}
        query = request.query_params
        problems: list[dict[str, Any]] = []
        for name, adapter, default in plan:
            raw: Any = query.getlist(name) if name in lists else query.get(name)
            if raw is None or raw == []:
                if name in lists:
                    if lists[name]:
                        arguments[name] = []  # a required list sent empty
                    continue  # left out: the store's default
                if default is _EMPTY:
                    problems.append(
                        {"type": "missing", "loc": ("query", name), "msg": "Field required",
                         "input": None}
                    )  # fmt: skip
                    continue
                arguments[name] = default
                continue
            try:
                arguments[name] = adapter.validate_python(raw)
            except ValidationError as exc:
                problems += [
                    {**problem, "loc": ("query", name, *problem["loc"])}
                    for problem in exc.errors(include_url=False)
                ]
        if problems:
            raise RequestValidationError(problems)
        if op.caller is not None:
            arguments[op.caller] = request.state.token.owner
        store = request.state.store
        result = await request.app.state.reader(op.call, store, arguments)
        if after is not None:
            result = after(request, result)
        response = encode(result)
        if hasattr(store, "once"):
            response.headers[HONOURED_HEADER] = "honoured"
        return response

    endpoint.__name__ = op.name
    endpoint.__expects__ = expects  # type: ignore[attr-defined]
    return endpoint
