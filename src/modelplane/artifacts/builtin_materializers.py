"""Materializers for Python's own values: JSON for plain data, raw bytes, and the pickle fallback.

Imported on demand through ``materializers.BUILTINS`` and ``PICKLE_FALLBACK``.
"""

from __future__ import annotations

import json
import math
import pickle
import sys
from typing import Any

from modelplane.artifacts.materializers import ArtifactFolder, Materializer

__all__ = ["BytesMaterializer", "CloudpickleMaterializer", "JsonMaterializer", "TextMaterializer"]

_SCALARS = frozenset({str, int, float, bool, type(None)})
_MAX_EXACT_JSON_INT = 2**53


class _NotJson(Exception):
    """The value holds something JSON cannot round-trip exactly."""


def _tuple_paths(value: Any) -> list[list[str | int]]:
    """Paths (dict keys, list indexes) of every tuple in ``value``; _NotJson if not plain JSON."""
    found: list[list[str | int]] = []
    path: list[str | int] = []

    def walk(item: Any) -> None:
        kind = type(item)
        if kind in _SCALARS:
            return
        if kind is list or kind is tuple:
            if kind is tuple:
                found.append(list(path))
            for index, child in enumerate(item):
                path.append(index)
                walk(child)
                path.pop()
            return
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    raise _NotJson
                path.append(key)
                walk(child)
                path.pop()
            return
        raise _NotJson

    walk(value)
    return found


def _restore_tuples(value: Any, paths: list[list[Any]]) -> Any:
    # Deepest first, so every container on the way to a path is still a mutable list or dict.
    for path in sorted(paths, key=len, reverse=True):
        if not path:
            value = tuple(value)
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = tuple(parent[path[-1]])
    return value


class JsonMaterializer(Materializer):
    """str, int, float, bool, None, list, tuple and dict (str keys) as ``data.json``.

    Tuples anywhere in the value come back as tuples (their positions go in ``tuples.json``).
    Values JSON cannot round-trip exactly (non-str keys, subclasses, other types) are refused.
    """

    handled_types = (str, int, float, bool, type(None), list, tuple, dict)

    def __init__(self) -> None:
        self._checked: tuple[int, list[list[str | int]]] | None = None

    def can_save(self, value: Any) -> bool:
        try:
            paths = _tuple_paths(value)
        except (_NotJson, RecursionError):
            return False
        self._checked = (id(value), paths)
        return True

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        if self._checked is not None and self._checked[0] == id(value):
            paths = self._checked[1]
        else:
            paths = _tuple_paths(value)
        self._checked = None
        with folder.open("data.json", "wb") as fileobj:
            fileobj.write(json.dumps(value, ensure_ascii=False).encode("utf-8"))
        if paths:
            with folder.open("tuples.json", "wb") as fileobj:
                fileobj.write(json.dumps(paths).encode("utf-8"))

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open("data.json", "rb") as fileobj:
            value = json.loads(fileobj.read())
        if folder.exists("tuples.json"):
            with folder.open("tuples.json", "rb") as fileobj:
                value = _restore_tuples(value, json.loads(fileobj.read()))
        return value

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        if isinstance(value, (str, list, tuple, dict)):
            return {"length": len(value)}
        if isinstance(value, bool) or value is None:
            return {"value": value}
        if isinstance(value, int) and abs(value) < _MAX_EXACT_JSON_INT:
            return {"value": value}
        if isinstance(value, float) and math.isfinite(value):
            return {"value": value}
        return {}


class BytesMaterializer(Materializer):
    """bytes and bytearray as the raw file ``data.bin``."""

    handled_types = (bytes, bytearray)

    def can_save(self, value: Any) -> bool:
        return type(value) in (bytes, bytearray)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open("data.bin", "wb") as fileobj:
            fileobj.write(value)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open("data.bin", "rb") as fileobj:
            data = fileobj.read()
        return bytearray(data) if data_type is bytearray else data

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"length": len(value)}


class TextMaterializer(Materializer):
    """``MarkdownString`` and ``HTMLString``: the text as UTF-8, and itself as a visualization."""

    _FILE = "text.txt"

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open(self._FILE, "wb") as fileobj:
            fileobj.write(str(value).encode("utf-8"))

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open(self._FILE, "rb") as fileobj:
            return data_type(fileobj.read().decode("utf-8"))

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"length": len(value)}

    def visualize(self, value: Any) -> dict[str, bytes]:
        from modelplane.types import HTMLString

        kind = "page.html" if isinstance(value, HTMLString) else "text.md"
        return {kind: str(value).encode("utf-8")}


class CloudpickleMaterializer(Materializer):
    """Any picklable value as ``value.pkl`` (cloudpickle). Loading it runs code: trust needed."""

    handled_types = (object,)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        import cloudpickle  # ~60 ms to import: only when something is really pickled

        with folder.open("value.pkl", "wb") as fileobj:
            cloudpickle.dump(value, fileobj, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open("value.pkl", "rb") as fileobj:
            return pickle.load(fileobj)  # recorded as a pickle materializer

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"python_version": f"{sys.version_info.major}.{sys.version_info.minor}"}
