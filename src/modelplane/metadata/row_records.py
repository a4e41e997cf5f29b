"""Records made from the rows of our own store, without pydantic.

Validating a record imports pydantic and builds the record type's validator, which costs more than
a small pipeline's whole run. The local store's rows come from columns the store itself wrote, and
are already of the records' types but for three things, which ``record`` converts: enum fields
arrive as their text, times read back by the light reader as ISO text, and a NULL JSON list or
mapping stands for the empty one (as the records' ``NoneAs`` fields say). Everything else is handed
to the record's constructor as it is. ``tests/store/test_local_store.py`` holds every record the
local store makes to what validating its fields gives, value and type.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from dataclasses import MISSING
from typing import Any, TypeVar

from modelplane.metadata.record_base import Record, record_fields, record_types

__all__ = ["record"]

R = TypeVar("R")


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value


def _text_as(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    return lambda value: kind(value) if isinstance(value, str) else value


def _nested(kind: type[Any]) -> Callable[[Any], Any]:
    return lambda value: record(kind, value) if isinstance(value, Mapping) else value


def _convert(annotation: Any) -> Callable[[Any], Any] | None:
    """What turns a stored value into the field's type, for the three cases above."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = found[0] if len(found) == 1 else None
    if annotation is datetime:
        return _time
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _text_as(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return _nested(annotation)
    return None


@cache
def _fields(kind: type[Any]) -> tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]:
    types = record_types(kind)
    return tuple(
        (name, _convert(types[name]), None if field.default_factory is MISSING else field.default_factory)
        for name, field in record_fields(kind).items()
    )


def record(kind: type[R], row: Mapping[str, Any]) -> R:
    """A ``kind`` record of ``row`` (extra keys are left out, as validation leaves them out)."""
    values = {}
    for name, convert, empty in _fields(kind):
        if name not in row:
            continue
        value = row[name]
        if value is None:
            if empty is not None:
                value = empty()
        elif convert is not None:
            value = convert(value)
        values[name] = value
    return kind(**values)
