"""Metadata a user logs, made JSON before it reaches the store: numpy scalars become Python numbers,
small numpy arrays become lists, and anything else that is not JSON is refused naming its key.

Standard library only; numpy is recognised by its types' module, never imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from modelplane.errors import InvalidInputError

__all__ = ["MAX_ARRAY_ITEMS", "to_json_metadata"]

# Arrays up to this many items are logged as lists; bigger ones belong in an artifact.
MAX_ARRAY_ITEMS = 10_000


def to_json_metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` as a dict of JSON values, or ``InvalidInputError`` naming the key and type."""
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(
            f"Metadata must be a dict of names to values, not {type(metadata).__name__}.",
            hint="Pass {'accuracy': 0.97}.",
        )
    return _mapping(metadata, ())


def _where(path: tuple[str, ...]) -> str:
    return ".".join(path) or "(top level)"


def _mapping(value: Mapping[Any, Any], path: tuple[str, ...]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInputError(
                f"Metadata key {key!r} under {_where(path)} is not a string but "
                f"{type(key).__name__}; keys must be strings.",
                hint=f"Use str({key!r}) as the key.",
            )
        converted[key] = _value(item, (*path, key))
    return converted


def _value(value: Any, path: tuple[str, ...]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _finite(value, path)
    if isinstance(value, Mapping):
        return _mapping(value, path)
    if isinstance(value, (list, tuple)):
        return [_value(item, path) for item in value]
    kind = type(value)
    if kind.__module__ == "numpy":
        return _numpy(value, path)
    raise InvalidInputError(
        f"Metadata '{_where(path)}' is a {kind.__module__}.{kind.__qualname__}, which is not JSON.",
        hint="Log numbers, strings, booleans, lists and dicts (convert dates and other objects to "
        "text first), or save the value as an artifact.",
    )


def _finite(value: float, path: tuple[str, ...]) -> float:
    if not math.isfinite(value):
        raise InvalidInputError(
            f"Metadata '{_where(path)}' is {value}, which JSON cannot hold.",
            hint="Log a finite number, or None for a missing value.",
        )
    return value


def _numpy(value: Any, path: tuple[str, ...]) -> Any:
    kind = type(value).__qualname__
    shape = getattr(value, "shape", None)
    if shape is not None and shape != ():  # an array
        size = int(getattr(value, "size", 0))
        if size > MAX_ARRAY_ITEMS:
            raise InvalidInputError(
                f"Metadata '{_where(path)}' is a numpy.{kind} of shape {tuple(shape)} "
                f"({size:,} items); metadata holds at most {MAX_ARRAY_ITEMS:,}.",
                hint="Return the array from the step to store it as an artifact, or log a summary "
                "(mean, min, max).",
            )
        if getattr(getattr(value, "dtype", None), "kind", "") not in ("b", "i", "u", "f"):
            raise InvalidInputError(
                f"Metadata '{_where(path)}' is a numpy.{kind} of dtype {value.dtype}, which is not JSON.",
                hint="Log arrays of booleans or numbers, or convert the items to text first.",
            )
        return _value(value.tolist(), path)
    item = getattr(value, "item", None)
    if callable(item):
        converted = item()
        if converted is None or isinstance(converted, (bool, int, float, str)):
            return _value(converted, path)
    raise InvalidInputError(
        f"Metadata '{_where(path)}' is a numpy.{kind}, which is not JSON.",
        hint="Log numbers, strings, booleans, lists and dicts.",
    )
