"""The base of every record: a frozen dataclass of keyword arguments, made without pydantic.

A pipeline process makes records of its own store's rows and reads their fields; it never validates
or serialises one, and importing pydantic was over half of such a process (docs/benchmarks.md).
pydantic knows standard dataclasses, so the server, the HTTP store and the CLI's JSON output still
validate and serialise records with it: ``model_validate``, ``model_dump`` and ``model_dump_json``
build the record type's ``TypeAdapter`` the first time one of them is called.

Two annotations carry what pydantic's ``Field`` and validators said before, without importing it:
``Bounds`` (limits a value keeps when it is validated) and ``NoneAs`` (``null`` read as an empty
value). Building a record in code checks nothing; a store given a record uses it as it is only when
it is ``well_typed`` (what validating it would give) and validates it otherwise, so loose values
built in code are converted or refused as their JSON would be.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    from typing_extensions import dataclass_transform

__all__ = ["Bounds", "NoneAs", "Record", "record_fields", "record_types", "well_typed"]

R = TypeVar("R", bound="Record")

# A field with a default made per record (``tags: list[str] = field(default_factory=list)``).
field = dataclasses.field


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(dataclasses.field,))
class Record:
    """A frozen value whose fields are given by keyword; equal when its type and fields are."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)

    def __iter__(self) -> Iterator[Any]:
        """``(name, value)`` of each field, so ``dict(record)`` is its fields, unconverted."""
        return ((name, getattr(self, name)) for name in record_fields(type(self)))

    @classmethod
    def _adapter(cls) -> Any:
        adapter = cls.__dict__.get("_pydantic_adapter")
        if adapter is None:
            from pydantic import TypeAdapter

            adapter = TypeAdapter(cls)
            cls._pydantic_adapter = adapter  # type: ignore[attr-defined]
        return adapter

    @classmethod
    def model_validate(cls: type[R], value: Any) -> R:
        """A record of ``value`` (a mapping, as JSON gives), checked and converted by pydantic."""
        if isinstance(value, Mapping) and not isinstance(value, dict):  # a database row's mapping
            value = dict(value)
        return cls._adapter().validate_python(value)  # type: ignore[no-any-return]

    @classmethod
    def model_validate_json(cls: type[R], text: str | bytes) -> R:
        return cls._adapter().validate_json(text)  # type: ignore[no-any-return]

    def model_dump(self, **options: Any) -> dict[str, Any]:
        """The record as a dict; ``mode="json"`` for JSON values (pydantic's options apply)."""
        return type(self)._adapter().dump_python(self, **options)  # type: ignore[no-any-return]

    def model_dump_json(self, *, indent: int | None = None, **options: Any) -> str:
        return type(self)._adapter().dump_json(self, indent=indent, **options).decode()  # type: ignore[no-any-return]

    def model_copy(self: R, *, update: dict[str, Any] | None = None, deep: bool = False) -> R:
        """A copy with ``update``'s fields replaced (not validated, as pydantic's is not)."""
        made = dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]
        return copy.deepcopy(made) if deep else made


@cache
def record_fields(kind: type[Any]) -> dict[str, dataclasses.Field[Any]]:
    """The fields of record type ``kind``, by name, in order."""
    return {item.name: item for item in dataclasses.fields(kind)}


@cache
def record_types(kind: type[Any]) -> dict[str, Any]:
    """The type of each field of ``kind`` (``Annotated`` extras left out)."""
    return typing.get_type_hints(kind)


def well_typed(record: Record) -> bool:
    """Whether every field of ``record`` already holds what validating it would give: the exact
    type (an enum member, not its text; a float, not an int), within its ``Bounds``, nested
    records too. Records built by our own code from checked values are; a store validates any
    other record it is given (``arguments.parse_records``), so a record built in code with loose
    values gets the same conversion and the same errors as its JSON."""
    values = record.__dict__
    for name, check in _checks(type(record)):
        if not check(values[name]):
            return False
    return True


Check = Callable[[Any], bool]


@cache
def _checks(kind: type[Any]) -> tuple[tuple[str, Check], ...]:
    hints = typing.get_type_hints(kind, include_extras=True)
    return tuple((name, _check(hints[name])) for name in record_fields(kind))


_EXACT: dict[Any, Check] = {
    kind: (lambda exact: lambda value: type(value) is exact)(kind) for kind in (str, int, float, bool)
}


def _check(hint: Any) -> Check:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        inner, bounds = _check(args[0]), [m for m in hint.__metadata__ if isinstance(m, Bounds)]
        return lambda value: inner(value) and all(bound.holds(value) for bound in bounds)
    if origin in (typing.Union, types.UnionType):
        options = [_check(arg) for arg in args if arg is not type(None)]
        if len(options) == 1:  # X | None, the usual case
            [option] = options
            return lambda value: value is None or option(value)
        none = len(options) < len(args)
        return lambda value: (none and value is None) or any(option(value) for option in options)
    if origin is typing.Literal:
        return lambda value: type(value) is str and value in args
    if origin in (list, tuple):
        item = _check(args[0]) if args else _anything
        return lambda value: type(value) is origin and all(item(x) for x in value)
    if origin is dict:
        key, item = (_check(args[0]), _check(args[1])) if args else (_anything, _anything)
        return lambda value: type(value) is dict and all(key(k) and item(v) for k, v in value.items())
    if hint is Any:
        return _anything
    if hint is type(None):
        return lambda value: value is None
    if hint in _EXACT:
        return _EXACT[hint]
    if isinstance(hint, type) and issubclass(hint, Record):
        return lambda value: type(value) is hint and well_typed(value)
    if isinstance(hint, type) and issubclass(hint, (enum.Enum, datetime)):
        return lambda value: isinstance(value, hint)
    return lambda value: False  # unknown here: pydantic decides


def _anything(value: Any) -> bool:
    return True


class Bounds:
    """Limits a value keeps when it is validated: ``Annotated[int, Bounds(ge=1, le=500)]`` is what
    ``Field(ge=1, le=500)`` said, read by pydantic (and so by the server's checks and its OpenAPI
    document) without being imported here."""

    __slots__ = ("ge", "gt", "le", "lt", "max_length")

    def __init__(
        self,
        *,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        max_length: int | None = None,
    ) -> None:
        self.ge, self.gt, self.le, self.lt, self.max_length = ge, gt, le, lt, max_length

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None}

    def holds(self, value: Any) -> bool:
        """Whether ``value`` (already of the annotated type) keeps these limits."""
        if self.max_length is not None and len(value) > self.max_length:
            return False
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        schema = handler(source)
        schema.update(self.given())  # int, float, str, list and dict schemas all take these keys
        return schema

    def __repr__(self) -> str:
        return "Bounds(" + ", ".join(f"{k}={v!r}" for k, v in self.given().items()) + ")"


class NoneAs:
    """``null`` validates as ``empty()``: a column that was NULL before it had a default."""

    __slots__ = ("empty",)

    def __init__(self, empty: Callable[[], Any]) -> None:
        self.empty = empty

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        empty = self.empty
        return core_schema.no_info_before_validator_function(
            lambda value: empty() if value is None else value, handler(source)
        )
