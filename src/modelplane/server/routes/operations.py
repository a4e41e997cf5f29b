"""A route for every declared store operation (``metadata/store.py``), with its role check.

Nothing here is written per operation: the path, verb, parameters, body, response type and role of
each route come from the operation's declaration, and each route makes exactly that one store call.
Path arguments are text segments (``{x:name}``, so a name with ``/`` stays one segment); a ``GET``
or ``DELETE`` takes the other arguments as query parameters (a list as the parameter repeated: an
absent one is the declared default, or an empty list when there is none), other verbs as one JSON
object.

Body fields and query parameters have the declared types (``routes/wire.py``), checked here with
the declaration's ``Annotated`` bounds (a page ``limit`` from 1 to 1000): a wrong JSON type is a
422 naming the field and what it takes, never a ``TypeError`` in the store, and the OpenAPI
document says what each route accepts and which error statuses it answers, with the error body.
Values of the right type are the store's to check, with the same error over HTTP as on SQL. The
argument named by the declaration's ``caller`` is the calling token's owner.

Reads run in the event loop or a worker thread as ``server.api`` decides; writes always run in a
worker thread (a SQLite write may wait for the database lock). A write sent with an
``Idempotency-Key`` runs through the store's ``once`` (``metadata/idempotency.py``): its answer is
recorded with the key in the write's transaction, and a retry of the key gets that answer again
(with ``Idempotent-Replayed: true``) instead of a second write.
"""

from __future__ import annotations

import inspect
import typing
from datetime import datetime
from typing import Annotated, Any, Callable

from fastapi import Body, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field, create_model
from starlette.concurrency import run_in_threadpool

from modelplane.config import DEFAULT_PROJECT
from modelplane.enums import ExecutionStatus, TokenRole
from modelplane.errors import (
    AlreadyExistsError,
    AuthError,
    InvalidInputError,
    ModelplaneError,
    NotFoundError,
    PermissionDeniedError,
    PromotionBlockedError,
    StageConflictError,
    StoreError,
)
from modelplane.metadata.idempotency import (
    HONOURED_HEADER,
    IDEMPOTENCY_HEADER,
    Answer,
    WritesOnce,
    check_key,
    request_digest,
)
from modelplane.metadata.operations import Operation, jsonable, list_item
from modelplane.metadata.store import store_operations
from modelplane.server.api import encode_result
from modelplane.server.asgi import error_body
from modelplane.server.routes.reads import ReadRoute, read_endpoint
from modelplane.server.routes.wire import body_type, describe, plain

__all__ = ["ErrorBody", "add_operation_routes"]

_EMPTY = inspect.Parameter.empty
_QUERY_TYPES = (int, float, bool, datetime)
# What the server adds to an operation's answer, or does after it, beyond the store call.
_AFTER: dict[str, Callable[[Request, Any], Any]] = {
    "info": lambda request, info: info.model_copy(
        update={"artifact_uri": request.app.state.artifact_uri}
    ),
    "revoke_token": lambda request, token: request.app.state.token_check.forget() or token,
    # A user's role caps their tokens, and disabling them revokes all: apply both at once here.
    "set_user_role": lambda request, user: request.app.state.token_check.forget() or user,
    "disable_user": lambda request, user: request.app.state.token_check.forget() or user,
    # Through a server, the projects listed are those the caller may use.
    "list_projects": lambda request, found: [
        p for p in found if request.state.token.role_in(p.name) is not None
    ],
    "set_project_member": lambda request, member: request.app.state.token_check.forget() or member,
    "remove_project_member": lambda request, _: request.app.state.token_check.forget(),
    "delete_project": lambda request, _: request.app.state.token_check.forget()
    or request.app.state.stores.forget(request.path_params["project"]),
}


def _token_for_another(request: Request, arguments: dict[str, Any]) -> None:
    """A token for an existing user, made by someone who is not a server admin (a project's
    admin), is refused: they would act in the project as that person. New names (jobs, bots) and
    one's own tokens are theirs to make."""
    token = request.state.token
    owner = arguments.get("owner")
    if owner == token.owner or token.role_in(DEFAULT_PROJECT) is TokenRole.ADMIN:
        return
    try:
        request.app.state.stores.control.get_user(owner)
    except NotFoundError:
        return
    raise PermissionDeniedError(
        f"'{token.owner}' may not make a token for the existing user {owner!r}.",
        hint=f"Make tokens for a new name (a job or a bot) or for yourself; {owner!r} signs in "
        "for their own, or a server admin makes one.",
    )


# What the server checks before an operation, beyond the role its declaration needs.
_BEFORE: dict[str, Callable[[Request, dict[str, Any]], None]] = {
    "create_token": _token_for_another,
}
# Errors a store raises after committing what it did: a keyed write records them as its answer
# (a refused promotion is in the stage history; a retry must not add it again).
_COMMITTED_ERRORS = (PromotionBlockedError,)
_REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PARAMETER = {
    "parameters": [
        {
            "name": IDEMPOTENCY_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
            "description": "Names this call: a retry with the same key and arguments is answered "
            "from the record of the first (for 24 h) instead of being run again.",
        }
    ]
}


def _counted(count: Callable[[Any, Any], None]) -> Callable[[Request, Any], Any]:
    """An ``_AFTER`` step that tells the app's metrics (``server.telemetry``) about a result."""

    def after(request: Request, result: Any) -> Any:
        count(request.app.state.telemetry, result)
        return result

    return after


def _run_started(telemetry: Any, _run: Any) -> None:
    telemetry.runs_started.inc()


def _run_finished(telemetry: Any, run: Any) -> None:
    if run.status is ExecutionStatus.FAILED:
        telemetry.runs_failed.labels("client").inc()


def _runs_reaped(telemetry: Any, runs: Any) -> None:
    telemetry.runs_reaped(len(runs))


def _stage_changed(telemetry: Any, version: Any) -> None:
    telemetry.stage_changes.labels(str(version.stage)).inc()


_AFTER.update(
    create_run=_counted(_run_started),
    finish_run=_counted(_run_finished),
    reap_abandoned_runs=_counted(_runs_reaped),
    set_stage=_counted(_stage_changed),
    rollback_stage=_counted(_stage_changed),
)


def _members(hint: Any) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    return tuple(m for arg in args for m in _members(arg)) if args else (hint,)


def _query_type(hint: Any) -> Any:
    """The type a query parameter is parsed as: numbers, flags and times, with the declaration's
    ``Annotated`` bounds; text otherwise; a list of those for a list argument (always optional,
    see ``_list_arguments``)."""
    bounds = hint.__metadata__ if typing.get_origin(hint) is Annotated else ()
    hint = plain(hint)
    item = list_item(hint)
    if item is not None:
        return list[_query_type(item)] | None  # type: ignore[misc]
    members = [m for m in _members(hint) if m is not type(None)]
    for kind in _QUERY_TYPES:
        if members and all(m is kind for m in members):
            return (Annotated[(kind, *bounds)] if bounds else kind) | None
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


class ErrorDetail(BaseModel):
    type: str = Field(description="The class in modelplane.errors, e.g. NotFoundError.")
    message: str = Field(description="What went wrong, naming the thing.")
    hint: str | None = Field(None, description="What to do about it.")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


def _field_types(op: Operation) -> dict[str, Any]:
    """Each wire argument's declared type (a ``**card`` argument as one object of its values)."""
    found = {}
    for p in op.wire_params:
        hint = op.declared_hints.get(p.name, Any)
        found[p.name] = dict[str, hint] if p.kind is inspect.Parameter.VAR_KEYWORD else hint
    return found


def _body_model(op: Operation) -> type[BaseModel] | None:
    if not op.wire_params:
        return None
    fields: dict[str, Any] = {}
    for p in op.wire_params:
        hint = _field_types(op)[p.name]
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            default: Any = Field(default_factory=dict, description=describe(hint))
        elif p.default is _EMPTY:
            default = Field(description=describe(hint))
        else:
            value = list(p.default) if isinstance(p.default, tuple) else p.default
            default = Field(value, description=describe(hint))
        fields[p.name] = (body_type(hint), default)
    title = "".join(part.title() for part in op.name.split("_")) + "Body"
    return create_model(title, **fields)


def _error_classes(op: Operation) -> list[type[ModelplaneError]]:
    """The errors a route of ``op`` can answer with: any call can lack a token or a database;
    a call above viewer can lack the role; a call with arguments can name something unknown or
    send something invalid; a write can collide with what exists."""
    found: list[type[ModelplaneError]] = [AuthError, StoreError]
    if op.role is not TokenRole.VIEWER:
        found.append(PermissionDeniedError)
    if op.path_params or op.wire_params:
        found += [NotFoundError, InvalidInputError]
    if not op.reads:
        found += [AlreadyExistsError, StageConflictError]
    return found


def _responses(
    op: Operation, error_status: Callable[[type[ModelplaneError]], int]
) -> dict[Any, Any]:
    """The OpenAPI ``responses`` of a route: each error status it can answer, with ``ErrorBody``."""
    by_status: dict[int, list[str]] = {}
    for cls in _error_classes(op):
        status = error_status(cls)
        by_status.setdefault(status, []).append(cls.__name__)
    if op.has_body:
        by_status.setdefault(413, []).append("InvalidInputError (the body is too large)")
    return {
        status: {"model": ErrorBody, "description": " or ".join(names)}
        for status, names in sorted(by_status.items())
    }


def _endpoint(
    op: Operation, error_status: Callable[[type[ModelplaneError]], int]
) -> Callable[..., Any]:
    body_model = _body_model(op) if op.has_body else None
    after = _AFTER.get(op.name)
    before = _BEFORE.get(op.name)
    encode = encode_result(op.result)
    lists = _list_arguments(op)

    def keyed(request: Request, arguments: dict[str, Any], key: str) -> Response:
        """The write run through the store's ``once``: a retry of ``key`` gets the recorded
        answer (``Idempotent-Replayed: true``) instead of a second write."""
        store: WritesOnce = request.state.store
        made: list[Answer] = []

        def work() -> Answer:
            try:
                result = op.call(store, arguments)
            except _COMMITTED_ERRORS as exc:
                body = error_body(type(exc).__name__, exc.message, exc.hint)
                made.append(Answer(error_status(type(exc)), body))
                return made[-1]
            if after is not None:
                result = after(request, result)
            response = encode(result)
            made.append(Answer(response.status_code, bytes(response.body)))
            return made[-1]

        owner = request.state.token.owner
        digest = request_digest(op.name, jsonable(arguments))
        answer = store.once(check_key(key), owner, op.name, digest, work)
        headers = {HONOURED_HEADER: "honoured"}
        if not made or made[-1] is not answer:
            headers[_REPLAYED_HEADER] = "true"
        if answer.status == 204:
            return Response(status_code=204, headers=headers)
        return Response(answer.body, answer.status, headers=headers, media_type="application/json")

    async def endpoint(request: Request, **values: Any) -> Response:
        arguments: dict[str, Any] = {name: values[name] for name in op.path_params}
        if body_model is not None:
            body = values["body"]
            arguments.update({name: getattr(body, name) for name in body_model.model_fields})
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
        if before is not None:
            await run_in_threadpool(before, request, arguments)
        store = request.state.store
        honours = hasattr(store, "once")  # the SQL store does
        key = None if op.reads else request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not op.replayable:
            raise InvalidInputError(
                f"{op.name} takes no {IDEMPOTENCY_HEADER}: its answer holds a secret shown once, "
                "which the server does not keep to answer a retry.",
                hint=f"Send it without {IDEMPOTENCY_HEADER}, and do not retry it blindly.",
            )
        if key is not None and honours:
            return await run_in_threadpool(keyed, request, arguments, key)
        if op.reads:
            result = await request.app.state.reader(op.call, store, arguments)
        else:
            result = await run_in_threadpool(op.call, store, arguments)
        if after is not None:
            result = after(request, result)
        response = encode(result)
        if honours:  # so a client may send a write again after a lost answer
            response.headers[HONOURED_HEADER] = "honoured"
        return response

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
                    annotation=Annotated[_query_type(op.declared_hints.get(p.name)), Query()],
                    default=_EMPTY if required else default,
                )
            )
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name
    # What each argument takes, in words, for the 422 answer (``app._on_validation_error``).
    endpoint.__expects__ = {  # type: ignore[attr-defined]
        name: describe(hint) for name, hint in _field_types(op).items()
    }
    return endpoint


def _needs_text(op: Operation) -> str:
    if op.scope == "token":
        return "Needs any valid token."
    where = {
        "project": "in the project the request names (X-Modelplane-Project; none: default)",
        "server": "in the project default (a server role)",
        "named": "in the project the path names",
    }[op.scope]
    return f"Needs the {op.role} role {where}."


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


def add_operation_routes(
    app: FastAPI,
    require: Callable[[Any], Any],
    error_status: Callable[[type[ModelplaneError]], int],
) -> None:
    """A route per store operation, straight on ``app`` (an included router is matched route by
    route on every request); ``require(role)`` is the dependency that checks the calling token has
    that role, ``error_status`` the HTTP status of an error class (``app.status_for``), for the
    routes' documented answers."""
    operations = store_operations()
    for op in sorted(operations, key=lambda op: (_match_order(op), operations.index(op))):
        result = op.result
        if op.reads:  # the lean route answers; the FastAPI route below documents it
            expects = {name: describe(hint) for name, hint in _field_types(op).items()}
            endpoint = read_endpoint(
                op, require(op.role, op.scope), _query_type, _list_arguments(op),
                _AFTER.get(op.name), expects,
            )  # fmt: skip
            app.router.routes.append(
                ReadRoute(_route_path(op), endpoint, methods=["GET"], name=f"{op.name}.lean")
            )
        app.router.add_api_route(
            _route_path(op),
            _endpoint(op, error_status),
            methods=[op.verb],
            name=op.name,
            tags=[_tag(op)],
            summary=op.summary or op.name.replace("_", " "),
            description=_needs_text(op),
            response_model=None if result is type(None) else result,
            status_code=204 if result is type(None) else 200,
            dependencies=[Depends(require(op.role, op.scope))],
            responses=_responses(op, error_status),
            openapi_extra=_KEY_PARAMETER if op.replayable and not op.reads else None,
        )
