"""How deep stored JSON may nest: refused beyond the limit on write, cut at the limit on read.

Deeply nested JSON cannot travel back: pydantic stops serializing past ~255 levels and its JSON
parser stops at 200, so one deep metadata value would break every listing that carries it. MariaDB
refuses documents deeper than 32 outright. One limit, counted as SQL's ``JSON_DEPTH`` counts (a
scalar or an empty list or dict is 1 level, a non-empty list or dict one more than its deepest
item), keeps every backend, the server and every client able to read back what was stored.

Standard library only: the CLI's SQLite fast path reads JSON with it too.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "TOO_DEEP_MARKER",
    "cut_to_depth",
    "format_json_path",
    "loads_within_depth",
    "too_deep_path",
]

MAX_JSON_DEPTH = 32
# What a read shows in place of a list or dict that nests past the limit (stored before the limit
# was checked on write, or written into the database by hand).
TOO_DEEP_MARKER = f"<not shown: nested deeper than {MAX_JSON_DEPTH} levels>"

_Path = tuple[str | int, ...]
# What JSON lists and dicts arrive as (json.dumps refuses other mappings, so writes use these too).
_CONTAINERS = (dict, list, tuple)


def too_deep_path(value: Any, limit: int = MAX_JSON_DEPTH) -> _Path | None:
    """The path of the first list or dict whose items go past ``limit`` levels, else ``None``.

    Descends at most ``limit`` levels, so it is safe on values of any depth.
    """

    def search(item: Any, level: int) -> list[str | int] | None:
        """The path below ``item`` in reverse, or None."""
        if isinstance(item, dict):
            pairs: Any = item.items()
        elif isinstance(item, (list, tuple)):
            pairs = enumerate(item)
        else:
            return None
        if not item:
            return None
        if level >= limit:
            return []
        for key, child in pairs:
            if isinstance(child, _CONTAINERS):
                found = search(child, level + 1)
                if found is not None:
                    found.append(key)
                    return found
        return None

    found = search(value, 1)
    return None if found is None else tuple(reversed(found))


def format_json_path(path: _Path) -> str:
    """``('eval', 0, 'auc')`` as ``['eval'][0]['auc']`` (``the top level`` for an empty path)."""
    if not path:
        return "the top level"
    return "".join(f"[{part!r}]" for part in path)


def cut_to_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` with every list or dict that goes past ``limit`` levels replaced by
    ``TOO_DEEP_MARKER``; ``value`` itself when nothing does."""
    if too_deep_path(value, limit) is None:
        return value

    def cut(item: Any, level: int) -> Any:
        if isinstance(item, dict) and item:
            if level >= limit:
                return TOO_DEEP_MARKER
            return {key: cut(child, level + 1) for key, child in item.items()}
        if isinstance(item, (list, tuple)) and item:
            if level >= limit:
                return TOO_DEEP_MARKER
            return [cut(child, level + 1) for child in item]
        return item

    return cut(value, 1)


def _cut_text(text: str, limit: int) -> str:
    """JSON text with every list or dict that opens past ``limit`` levels replaced by the marker
    string, scanning without recursion (for text too deep for ``json.loads`` to parse)."""
    out: list[str] = []
    level = 0
    skipping = 0  # open brackets inside the part being cut
    in_string = escaped = False
    for char in text:
        if in_string:
            if skipping == 0:
                out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
            if skipping == 0:
                out.append(char)
        elif char in "[{":
            level += 1
            if skipping:
                skipping += 1
            elif level > limit:
                skipping = 1
                out.append(json.dumps(TOO_DEEP_MARKER))
            else:
                out.append(char)
        elif char in "]}":
            level -= 1
            if skipping:
                skipping -= 1
            else:
                out.append(char)
        elif skipping == 0:
            out.append(char)
    return "".join(out)


def loads_within_depth(text: str | bytes | bytearray | memoryview) -> Any:
    """``json.loads`` for stored values, cutting any part deeper than ``MAX_JSON_DEPTH`` (never an
    error for depth, however deep the text nests)."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")
    if text.count("[") + text.count("{") < MAX_JSON_DEPTH:
        return json.loads(text)  # too few brackets to nest past the limit: the common case
    try:
        value = json.loads(text)
    except RecursionError:
        value = json.loads(_cut_text(text, MAX_JSON_DEPTH + 1))
    return cut_to_depth(value)
