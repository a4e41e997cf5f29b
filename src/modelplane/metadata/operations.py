"""One declaration per store operation, and what is derived from it.

Each method of the ``MetadataStore`` protocol (``metadata/store.py``) carries an ``@operation``
naming its HTTP verb and path and the role it needs; its name, argument and result types are the
method's own signature. Everything else comes from that one declaration:

- ``HttpMetadataStore`` (``metadata/http.py``) builds a method per operation that sends the call;
- the server (``server/store_routes.py``) builds a route per operation, with its role check;
- ``Client`` (``client.py``) forwards every operation it does not refine.

So adding a store operation is: declare it here in the protocol, implement it in the SQL store,
and test it in the contract suite (``tests/store/``), which runs it on every backend.

The wire: path parameters are text segments; a ``GET`` or ``DELETE`` sends the other arguments as
query parameters (a list as the parameter repeated, so a list argument there needs an empty
default or none: an empty list and an absent one look alike), any other verb as one JSON object
keyed by argument name (a ``**card`` argument travels as one object under its own name). The result is the JSON of the declared return type.
An argument named in ``caller`` is never sent: the server fills it with the name of the token's
owner, a local store with the login name (``Settings.actor``). Every call other than a ``GET``
carries an ``Idempotency-Key`` and is recorded once however often it is retried
(``metadata/idempotency.py``), unless declared ``replayable=False``.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, TypeVar

from modelplane.enums import ModelStages, TokenRole

__all__ = [
    "PROJECT_HEADER",
    "HttpVerb",
    "Operation",
    "Scope",
    "declared_operations",
    "jsonable",
    "list_item",
    "operation",
]

F = TypeVar("F", bound=Callable[..., Any])
HttpVerb = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
# The request header naming the project a call acts in (absent: ``default``).
PROJECT_HEADER = "X-Modelplane-Project"
# Where an operation acts and whose role it needs: ``project``, the caller's project (the
# ``X-Modelplane-Project`` header); ``server``, the whole server (users, creating projects), with
# the role the caller holds in ``default``; ``named``, the project its ``project`` argument names,
# with the role held there; ``token``, any valid token, whatever its roles (the list of projects,
# which the server filters to the caller's).
Scope = Literal["project", "server", "named", "token"]
_PATH_PARAM = re.compile(r"{(\w+)}")
_BODY_VERBS = ("POST", "PUT", "PATCH")
_LISTS = (list, tuple, collections.abc.Sequence, collections.abc.Iterable)


@dataclass(frozen=True)
class Operation:
    """A store operation as declared: the protocol method and how it travels and who may call it."""

    name: str
    verb: HttpVerb
    path: str
    role: TokenRole
    func: Callable[..., Any] = field(repr=False, compare=False)
    caller: str | None = None
    summary: str = ""
    replayable: bool = True
    scope: Scope = "project"

    @property
    def reads(self) -> bool:
        return self.verb == "GET"

    @property
    def has_body(self) -> bool:
        return self.verb in _BODY_VERBS

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        parameters = list(inspect.signature(self.func).parameters.values())[1:]  # drop ``self``
        return inspect.Signature(parameters)

    @functools.cached_property
    def hints(self) -> dict[str, Any]:
        module = inspect.getmodule(self.func)
        return typing.get_type_hints(self.func, vars(module) if module else None)

    @functools.cached_property
    def declared_hints(self) -> dict[str, Any]:
        """``hints`` with their ``Annotated`` constraints (``PageLimit``: an int from 1 to 1000),
        which the server's routes check and publish."""
        module = inspect.getmodule(self.func)
        return typing.get_type_hints(
            self.func, vars(module) if module else None, include_extras=True
        )

    @property
    def result(self) -> Any:
        return self.hints.get("return", Any)

    @functools.cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @functools.cached_property
    def wire_params(self) -> tuple[inspect.Parameter, ...]:
        """The arguments sent as query parameters or body fields (not path, not ``caller``)."""
        return tuple(
            p
            for p in self.signature.parameters.values()
            if p.name not in self.path_params and p.name != self.caller
        )

    @functools.cached_property
    def var_keyword(self) -> str | None:
        for p in self.signature.parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                return p.name
        return None

    @functools.cached_property
    def result_adapter(self) -> Any:
        from pydantic import TypeAdapter

        return TypeAdapter(self.result)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by name, defaults filled in; ``**`` arguments as one dict."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    @functools.cached_property
    def _call_plan(self) -> tuple[tuple[str, inspect._ParameterKind], ...]:
        return tuple((p.name, p.kind) for p in self.signature.parameters.values())

    def call(self, target: Any, arguments: dict[str, Any]) -> Any:
        """Call this operation on ``target`` (a store) with arguments as ``bind`` returns them."""
        positional = []
        keywords: dict[str, Any] = {}
        for name, kind in self._call_plan:
            if name not in arguments:
                continue
            value = arguments[name]
            if kind is inspect.Parameter.VAR_KEYWORD:
                keywords.update(value or {})
            elif kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                positional.append(value)
            else:
                keywords[name] = value
        return getattr(target, self.name)(*positional, **keywords)


def operation(
    verb: HttpVerb,
    path: str,
    *,
    role: TokenRole | None = None,
    caller: str | None = None,
    replayable: bool = True,
    scope: Scope = "project",
) -> Callable[[F], F]:
    """Declare a protocol method as a store operation reachable at ``verb path``.

    ``role`` defaults to viewer for ``GET`` and editor otherwise. ``caller`` names the argument
    that says who makes the call (an actor, a creator): filled by the server from the token and by
    a local client from the login name, never sent over the wire. ``replayable=False``: the
    answer holds a secret shown once, which the server must not keep to answer a retry, so the
    call goes without an idempotency key and is retried only when it never reached the server.
    ``scope`` says where the call acts and whose role it needs (see ``Scope``).
    """

    def declare(func: F) -> F:
        doc = inspect.getdoc(func) or ""
        func.__operation__ = Operation(  # type: ignore[attr-defined]
            name=func.__name__,
            verb=verb,
            path=path,
            role=role or (TokenRole.VIEWER if verb == "GET" else TokenRole.EDITOR),
            func=func,
            caller=caller,
            summary=doc.split("\n\n")[0].replace("\n", " "),
            replayable=replayable,
            scope=scope,
        )
        return func

    return declare


def declared_operations(protocol: type) -> tuple[Operation, ...]:
    """The operations declared on ``protocol`` (and its bases), in declaration order."""
    found: dict[str, Operation] = {}
    for klass in reversed(protocol.__mro__):
        for value in vars(klass).values():
            declared = getattr(value, "__operation__", None)
            if isinstance(declared, Operation):
                found[declared.name] = declared
    return tuple(found.values())


def list_item(hint: Any) -> Any | None:
    """The item type when ``hint`` is a list type (``list[X]``, ``Sequence[X]``, ``tuple[X, ...]``,
    also with ``| None``); ``None`` otherwise."""
    members = [m for m in typing.get_args(hint) if m is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(members) == 1:
        hint = members[0]
    if typing.get_origin(hint) not in _LISTS:
        return None
    args = [a for a in typing.get_args(hint) if a is not Ellipsis]
    return args[0] if len(args) == 1 else Any


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: enums by value, times as ISO text, tuples and sets as
    lists, records as their JSON. A lone string stays a string (a store refuses it where it wants
    a list, over HTTP as on SQL); other values are left for the encoder to refuse."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    dump = getattr(value, "model_dump", None)
    if dump is not None:  # a record built in code with loose values: the receiver validates it
        return dump(mode="json", warnings=False)
    return value


def segment_text(value: Any, version_spec: bool = False) -> str:
    """A path argument as the text of its URL segment (before percent-encoding)."""
    if isinstance(value, ModelStages):
        return value.value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if version_spec and not isinstance(value, str):
        from modelplane.versioning import parse_version_spec

        parse_version_spec(value)  # the store's own error for bools, numbers < 1, other types
    return str(value)
