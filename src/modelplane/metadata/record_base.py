"""The base of every record: a frozen dataclass of keyword arguments, made without pydantic.

A pipeline process makes records of its own store's rows and reads their fields; it never validates
or serialises one, and importing pydantic was over half of such a process (docs/benchmarks.md).
pydantic knows standard dataclasses, so the server, the HTTP store and the CLI's JSON output still
validate and serialise records with it: ``model_validate``, ``model_dump`` and ``model_dump_json``
build the record type's ``TypeAdapter`` the first time one of them is called.

Two annotations carry what pydantic's ``Field`` and validators said before, without importing it:
``Bounds`` (limits a value keeps when it is validated) and ``NoneAs`` (``null`` read as an empty
value). Building a record in code checks neither: code builds records of values it checked.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, TypeVar, dataclass_transform

__all__ = ["Bounds", "NoneAs", "Record", "record_fields", "record_types"]

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
