"""The light reader: the reads of ``metadata.reads`` on a local SQLite store, without SQLAlchemy.

SQLAlchemy and pydantic take about half a second to import on a small machine, several times what
a command like ``model version describe NAME production`` may cost in all. For a SQLite file at
the schema revision of ``sqlite_statements.json`` (the declared queries compiled by
``metadata.sql.catalogue``), this reader runs the same statements with the standard library and
returns rows as the records' JSON (what ``record.model_dump(mode="json")`` gives).

It never writes and never explains: a missing store, another schema revision, another database,
an unknown name (``Missing``) or any SQLite error makes ``open_reader`` return ``None`` or the call
raise ``Unavailable``, and the caller asks the full store, which gives the real answer or the real
error. ``MODELPLANE_LIGHT_READS=0`` turns it off.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from modelplane.config import DEFAULT_PROJECT, project_sqlite_path
from modelplane.metadata import reads

__all__ = ["LightReader", "Unavailable", "catalogue", "open_reader", "sqlite_path"]

_CATALOGUE = Path(__file__).with_name("sqlite_statements.json")
_OFF = "MODELPLANE_LIGHT_READS"


@functools.cache
def catalogue() -> dict[str, Any]:
    """``sqlite_statements.json``, read once per process (the local store uses it too)."""
    return json.loads(_CATALOGUE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class Unavailable(Exception):
    """The light reader cannot answer this call; the full store can."""


def sqlite_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///PATH`` URL; ``None`` for anything SQLAlchemy should parse
    (URL escapes, query options, in-memory databases) and for other databases."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if not path or path == ":memory:" or "%" in path or "?" in path:
                return None
            return None if path.startswith("file:") else path
    return None


def _time(value: str) -> str:
    # Stored as naive UTC text; records are aware UTC, written with a Z suffix.
    return datetime.fromisoformat(value).isoformat() + "Z"


_CONVERT: dict[str | None, Callable[[Any], Any]] = {
    None: lambda value: value,
    "time": _time,
    "json": json.loads,
    "bool": bool,
}


class LightReader:
    """Runs the catalogue's statements on one read-only SQLite connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        catalogue: Mapping[str, Any],
        url: str,
        project: str = DEFAULT_PROJECT,
    ) -> None:
        self.project = project
        self._conn = conn
        self._queries: Mapping[str, Any] = catalogue["queries"]
        self.url = url
        self.schema_revision: str = catalogue["schema_revision"]

    def run(
        self, name: str, variant: Mapping[str, Any], params: Mapping[str, Any]
    ) -> list[reads.Row]:
        entry = self._queries.get(reads.variant_key(name, variant))
        if entry is None:
            raise Unavailable(f"no compiled query {reads.variant_key(name, variant)}")
        fixed = entry["fixed"]
        values = [params[key] if key in params else fixed[key] for key in entry["params"]]
        columns = [(key, _CONVERT[kind], if_null) for key, kind, if_null in entry["columns"]]
        try:
            found = self._conn.execute(entry["sql"], values).fetchall()
        except sqlite3.Error as exc:
            raise Unavailable(str(exc)) from exc
        rows = []
        for row in found:
            record = {}
            for (key, convert, if_null), value in zip(columns, row):
                value = None if value is None else convert(value)  # JSON may hold null too
                record[key] = if_null if value is None else value
            rows.append(record)
        return rows

    def call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """``metadata.reads.<operation>`` over this store; ``Unavailable`` when the full store
        must answer (a name that matches nothing, say)."""
        function = getattr(reads, operation, None)
        if function is None:
            raise Unavailable(f"no light read {operation}")
        try:
            return function(self.run, *args, **kwargs)
        except reads.Missing as exc:
            raise Unavailable(f"not found: {exc}") from exc

    def info(self) -> dict[str, Any]:
        """What ``store.info()`` gives for a local SQLite store, as JSON."""
        return {
            "url": self.url,
            "project": self.project,
            "schema_revision": self.schema_revision,
            "counts": self.call("store_counts"),
            "artifact_uri": None,
        }

    def close(self) -> None:
        self._conn.close()


def open_reader(store_url: str, project: str = DEFAULT_PROJECT) -> LightReader | None:
    """A reader of ``project`` in the SQLite store at ``store_url``, or ``None`` when the full
    store must read it (not a local SQLite file, not there yet, another schema revision, turned
    off)."""
    if os.environ.get(_OFF, "1") == "0":
        return None
    path = sqlite_path(store_url)
    if path is not None:
        path = project_sqlite_path(path, project)
    if path is None or not os.path.isfile(path):
        return None  # the full store creates a missing store; this reader never writes
    try:
        statements = catalogue()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except (OSError, ValueError, sqlite3.Error):
        return None
    if revision is None or revision[0] != statements["schema_revision"]:
        conn.close()
        return None
    return LightReader(conn, statements, store_url, project)
