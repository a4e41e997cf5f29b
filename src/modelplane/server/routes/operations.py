"""A route for every declared store operation (``metadata/store.py``), with its role check.

Nothing here is written per operation: the path, verb, parameters, body, response type and role of
each route come from the operation's declaration, and each route makes exactly that one store call.
Path arguments are text segments (``{x:name}``, so a name with ``/`` stays one segment); a ``GET``
or ``DELETE`` takes the other arguments as query parameters (a list as the parameter repeated: an
absent one is the declared default, or an empty list when there is none), other verbs as one JSON
object.

Body fields are typed ``Any`` except records and times, which are parsed: the store checks every
other value itself, so a bad value gets the same error, word for word, over HTTP as on SQL. The
argument named by the declaration's ``caller`` is the calling token's owner.

Reads run in the event loop or a worker thread as ``server.api`` decides; writes always run in a
worker thread (a SQLite write may wait for the database lock).
"""

from __future__ import annotations

import inspect
import typing
from datetime import datetime
from typing import Annotated, Any, Callable

from fastapi import Body, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from starlette.concurrency import run_in_threadpool

from modelplane.errors import InvalidInputError
from modelplane.metadata.operations import Operation, list_item
from modelplane.metadata.store import store_operations
from modelplane.server.api import encode_result

__all__ = ["add_operation_routes"]

_EMPTY = inspect.Parameter.empty
_QUERY_TYPES = (int, float, bool, datetime)
# What the server adds to an operation's answer, or does after it, beyond the store call.
_AFTER: dict[str, Callable[[Request, Any], Any]] = {
    "info": lambda request, info: info.model_copy(
        update={"artifact_uri": request.app.state.artifact_uri}
    ),
    "revoke_token": lambda request, token: request.app.state.token_check.forget() or token,
}


def _members(hint: Any) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    return tuple(m for arg in args for m in _members(arg)) if args else (hint,)


def _parsed_types(hint: Any) -> bool:
    """Whether a body value of this type is parsed here (records, times) rather than by the store."""
    return any(
        (isinstance(m, type) and (issubclass(m, (BaseModel, datetime)))) for m in _members(hint)
    )


def _query_type(hint: Any) -> Any:
    """The type a query parameter is parsed as: numbers, flags and times; text otherwise; a list
    of those for a list argument (always optional, see ``_list_arguments``)."""
    item = list_item(hint)
    if item is not None:
        return list[_query_type(item)] | None  # type: ignore[misc]
    members = [m for m in _members(hint) if m is not type(None)]
    for kind in _QUERY_TYPES:
        if members and all(m is kind for m in members):
            return kind | None
    return str | None


def _list_arguments(op: Operation) -> dict[str, bool]:
    """The list query arguments of ``op``, each with whether it is required.

    An empty list sends no parameter at all, so an absent one means the declared default (the
    argument is left out, and the store applies it) or, for a required argument, an empty list.
    A non-empty default could not be told from an empty list: refused when the route is built.
    """
    if op.has_body:
        return {}
    found: dict[str, bool] = {}
    for p in op.wire_params:
        if list_item(op.hints.get(p.name)) is None:
            continue
        if p.default not in (_EMPTY, None) and len(p.default) > 0:
            raise TypeError(
                f"{op.name}: the list argument {p.name!r} of a {op.verb} has the non-empty default "
                f"{p.default!r}, which an empty list sent as query parameters cannot override. "
                "Give it an empty default (or None), or none."
            )
        found[p.name] = p.default is _EMPTY
    return found


def _body_model(op: Operation) -> type[BaseModel] | None:
    if not op.wire_params:
        return None
    fields: dict[str, Any] = {}
    for p in op.wire_params:
        hint = op.hints.get(p.name, Any)
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            fields[p.name] = (dict[str, Any], Field(default_factory=dict))
            continue
        described = Field(description=str(hint).replace("typing.", ""))
        if p.default is _EMPTY:
            fields[p.name] = (Any, described)
        else:
            default = list(p.default) if isinstance(p.default, tuple) else p.default
            fields[p.name] = (Any, Field(default, description=described.description))
    title = "".join(part.title() for part in op.name.split("_")) + "Body"
    return create_model(title, **fields)


def _decoder(op: Operation) -> Callable[[dict[str, Any]], dict[str, Any]]:
    adapters = {
        p.name: TypeAdapter(op.hints[p.name])
        for p in op.wire_params
        if op.has_body and _parsed_types(op.hints.get(p.name))
    }

    def decode(arguments: dict[str, Any]) -> dict[str, Any]:
        for name, adapter in adapters.items():
            try:
                arguments[name] = adapter.validate_python(arguments[name])
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(part) for part in (name, *problem.get("loc", ())))
                raise InvalidInputError(
                    f"The {op.name} argument {where} is invalid: {problem.get('msg')}.",
                    hint=f"See {op.verb} {op.path} at /docs.",
                ) from None
        return arguments

    return decode


def _endpoint(op: Operation) -> Callable[..., Any]:
    body_model = _body_model(op) if op.has_body else None
    decode = _decoder(op)
    after = _AFTER.get(op.name)
    encode = encode_result(op.result)
    lists = _list_arguments(op)

    async def endpoint(request: Request, **values: Any) -> Response:
        arguments: dict[str, Any] = {name: values[name] for name in op.path_params}
        if body_model is not None:
            arguments.update(values["body"].model_dump())
        elif not op.has_body:
            arguments.update({p.name: values[p.name] for p in op.wire_params})
            for name, required in lists.items():
                if arguments[name] is None:
                    if required:
                        arguments[name] = []
                    else:
                        del arguments[name]
        if op.caller is not None:
            arguments[op.caller] = request.state.token.owner
        arguments = decode(arguments)
        store = request.app.state.client.store
        if op.reads:
            result = await request.app.state.reader(op.call, store, arguments)
        else:
            result = await run_in_threadpool(op.call, store, arguments)
        if after is not None:
            result = after(request, result)
        return encode(result)

    parameters = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    for name in op.path_params:
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str))
    if body_model is not None:
        parameters.append(
            inspect.Parameter(
                "body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[body_model, Body()]
            )
        )
    elif not op.has_body:
        for p in op.wire_params:
            default = None if p.default is _EMPTY or p.name in lists else p.default
            required = p.default is _EMPTY and p.name not in lists
            parameters.append(
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[_query_type(op.hints.get(p.name)), Query()],
                    default=_EMPTY if required else default,
                )
            )
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name
    return endpoint


def _route_path(op: Operation) -> str:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", "{" + name + ":name}")
    return "/api/v1" + path


def _tag(op: Operation) -> str:
    return op.path.strip("/").split("/")[0]


def _match_order(op: Operation) -> tuple[int, int]:
    """Routes are tried in order and each try costs, so the calls made most go first: model
    versions (every prediction run asks for one by stage), then the rest of the model area, then
    everything else in declaration order. No two routes of one verb differ only in a parameter
    segment (a ``{x:name}`` segment never spans a ``/``), so the order changes speed, not meaning."""
    if op.path.startswith("/models/{model}/versions"):
        return (0, op.path.count("/"))
    return (1 if op.path.startswith("/models") else 2, 0)


def add_operation_routes(app: FastAPI, require: Callable[[Any], Any]) -> None:
    """A route per store operation, straight on ``app`` (an included router is matched route by
    route on every request); ``require(role)`` is the dependency that checks the calling token has
    that role."""
    operations = store_operations()
    for op in sorted(operations, key=lambda op: (_match_order(op), operations.index(op))):
        result = op.result
        app.router.add_api_route(
            _route_path(op),
            _endpoint(op),
            methods=[op.verb],
            name=op.name,
            tags=[_tag(op)],
            summary=op.summary or op.name.replace("_", " "),
            description=f"Needs a {op.role} token.",
            response_model=None if result is type(None) else result,
            status_code=204 if result is type(None) else 200,
            dependencies=[Depends(require(op.role))],
        )
