"""What a declared argument type accepts on the wire, and how to say it to a person.

The server's routes (``routes/operations.py``) type every body field and query parameter from the
operation's declaration (``metadata/store.py``), so a wrong JSON type is a 422 naming the field
rather than a ``TypeError`` deep in the store, and the OpenAPI document says what is accepted.

Body values are checked strictly (``5`` is not text, ``"5"`` is not a number, ``"yes"`` is not a
flag): JSON has real types, and a client that sends the wrong one has a bug worth naming. Times,
enums and records keep pydantic's JSON parsing (a time as ISO text, an enum member as its value).
The ``Annotated`` constraints of a declaration (``PageLimit``: 1 to 1000) are kept.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import typing
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, StrictBool, StrictFloat, StrictInt, StrictStr

from modelplane.metadata.record_base import Record

__all__ = ["body_type", "describe", "plain"]

_STRICT: dict[Any, Any] = {str: StrictStr, int: StrictInt, float: StrictFloat, bool: StrictBool}
_LISTS = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Iterable)
_UNIONS = (Union, types.UnionType)


def plain(hint: Any) -> Any:
    """``hint`` without its ``Annotated`` layer."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint


def body_type(hint: Any) -> Any:
    """The type a JSON body field of declared type ``hint`` is validated as."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return Annotated[(body_type(args[0]), *hint.__metadata__)]  # type: ignore[misc]
    if origin in _UNIONS:
        return Union[tuple(body_type(arg) for arg in args)]  # type: ignore[return-value]
    if origin in _LISTS:
        items = [arg for arg in args if arg is not Ellipsis]
        return list[body_type(items[0]) if items else Any]  # type: ignore[misc]
    if origin in (dict, collections.abc.Mapping):
        return dict[str, body_type(args[1]) if len(args) == 2 else Any]  # type: ignore[misc]
    return _STRICT.get(hint, hint)


def describe(hint: Any) -> str:
    """``hint`` in words: ``a list of text``, ``an integer ≥ 1 and ≤ 1000 or null``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        bounds = [_bound(c) for item in hint.__metadata__ for c in _constraints(item)]
        bounds = [bound for bound in bounds if bound]
        return " ".join([describe(args[0]), " and ".join(bounds)]) if bounds else describe(args[0])
    if origin in _UNIONS:
        words = [describe(arg) for arg in args if arg is not type(None)]
        words = list(dict.fromkeys(words))
        if type(None) in args:
            words.append("null")
        return " or ".join(words)
    if origin in _LISTS:
        items = [arg for arg in args if arg is not Ellipsis]
        return f"a list of {_plural(describe(items[0]))}" if items else "a list"
    if origin in (dict, collections.abc.Mapping):
        value = describe(args[1]) if len(args) == 2 else "any JSON"
        return "an object" if value == "any JSON" else f"an object of {_plural(value)}"
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in hint)
    if isinstance(hint, type) and issubclass(hint, (BaseModel, Record)):
        return f"a {hint.__name__} object"
    words = {str: "text", int: "an integer", float: "a number", bool: "true or false",
             datetime: "an ISO 8601 time", type(None): "null"}  # fmt: skip
    return words.get(hint, "any JSON")


def _constraints(item: Any) -> list[Any]:
    return list(getattr(item, "metadata", None) or [item])


def _bound(item: Any) -> str:
    for attribute, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        value = getattr(item, attribute, None)
        if value is not None:
            return f"{sign} {value}"
    return ""


def _plural(words: str) -> str:
    if " or " in words:
        return f"({words})"
    if words == "text":
        return "strings"
    for article in ("an ", "a "):
        if words.startswith(article):
            words = words[len(article) :]
            if words.startswith("list of "):
                return "lists" + words[4:]
            return words if words.endswith(("s", "text", "JSON")) else words + "s"
    return words
