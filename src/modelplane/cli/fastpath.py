"""A read-only shortcut for ``model list`` and ``model version list`` on a local SQLite store.

Why: SQLAlchemy and pydantic take ~0.6 s to import on a small machine, more than the whole budget
of these two commands (300 ms). For the common case — a SQLite file at the schema revision below —
this module runs the same queries as ``metadata.sql.models`` with the standard library and returns
the same JSON as ``Page.model_dump(mode="json")``. Anything else (another database, an unknown
schema revision, an unknown model, any SQLite error) returns ``None`` and the command goes through
``Client``, which gives the real answer or the real error. ``MODELPLANE_CLI_FASTPATH=0`` turns it
off. ``tests/cli/test_fastpath.py`` checks that both paths print the same thing and that
``SCHEMA_REVISION`` matches the migration head.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from typing import Any

from modelplane.config import Settings
from modelplane.metadata.json_depth import loads_within_depth

__all__ = ["SCHEMA_REVISION", "list_model_versions", "list_models"]

# The schema these queries were written against; any other revision takes the Client path.
SCHEMA_REVISION = "0008_stage_change_kind"
_ID_LENGTH = 32
_CARD = ("license", "description", "audience", "use_cases", "limitations", "trade_offs", "ethics")
_MODEL_COLUMNS = f"id, name, {', '.join(_CARD)}, tags, created, updated, gates"
_MODEL_SORTS = {
    "name": "name ASC",
    "-name": "name DESC",
    "created": "created ASC, id ASC",
    "-created": "created DESC, id DESC",
}
_STAGES = ("none", "staging", "production", "archived")


def _database_path(settings: Settings) -> str | None:
    url = settings.store_url
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            # URL escapes, query options and in-memory databases are left to SQLAlchemy.
            if (
                not path
                or path == ":memory:"
                or "%" in path
                or "?" in path
                or path.startswith("file:")
            ):
                return None
            return path
    return None


def _connect(settings: Settings) -> sqlite3.Connection | None:
    if os.environ.get("MODELPLANE_CLI_FASTPATH", "1") == "0":
        return None
    path = _database_path(settings)
    if path is None or not os.path.isfile(path):
        return None  # the Client creates a missing store; this path never writes
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    if revision is None or revision[0] != SCHEMA_REVISION:
        conn.close()
        return None
    return conn


def _time(value: str | None) -> str | None:
    # Stored as naive UTC text; pydantic writes aware UTC times with a Z suffix.
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=None).isoformat() + "Z"


def _contains(value: str) -> str:
    # SQLAlchemy's icontains(autoescape=True): "/" escapes the LIKE wildcards.
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def list_models(
    settings: Settings, *, name: str | None, tag: str | None, sort: str, limit: int, offset: int
) -> dict[str, Any] | None:
    """The JSON of ``Client.list_models(...)``, or ``None`` when this path cannot answer."""
    if sort not in _MODEL_SORTS:
        return None
    conn = _connect(settings)
    if conn is None:
        return None
    where, params = ["1 = 1"], []
    if name:
        where.append("lower(name) LIKE lower(?) ESCAPE '/'")
        params.append(_contains(name))
    if tag is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(models.tags) WHERE value = ?)")
        params.append(tag)
    condition = " AND ".join(where)
    try:
        with conn:
            conn.execute("BEGIN")  # one snapshot for the page and its total
            rows = conn.execute(
                f"SELECT {_MODEL_COLUMNS} FROM models WHERE {condition} "
                f"ORDER BY {_MODEL_SORTS[sort]} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            total = conn.execute(
                f"SELECT count(*) FROM models WHERE {condition}", params
            ).fetchone()[0]
            stats = _version_stats(conn, [row[0] for row in rows])
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()
    items = []
    for row in rows:
        latest, count = stats.get(row[0], (None, 0))
        items.append(
            {
                "id": row[0],
                "name": row[1],
                **dict(zip(_CARD, row[2:9], strict=True)),
                "tags": loads_within_depth(row[9]),
                "gates": loads_within_depth(row[12] or "null") or {},  # JSON null or SQL NULL: none
                "created": _time(row[10]),
                "updated": _time(row[11]),
                "latest_version_number": latest,
                "version_count": count,
            }
        )
    return _page(items, total, limit, offset)


def _version_stats(
    conn: sqlite3.Connection, model_ids: list[str]
) -> dict[str, tuple[int | None, int]]:
    if not model_ids:
        return {}
    marks = ", ".join("?" * len(model_ids))
    found = conn.execute(
        "SELECT model_id, max(number), count(*) FROM model_versions "
        f"WHERE model_id IN ({marks}) GROUP BY model_id",
        model_ids,
    )
    return {model_id: (latest, count) for model_id, latest, count in found}


def _find_model(conn: sqlite3.Connection, model: str) -> tuple[str, str] | None:
    row = conn.execute("SELECT id, name FROM models WHERE name = ?", [model]).fetchone()
    if row is None and len(model) == _ID_LENGTH and all(c in "0123456789abcdef" for c in model):
        row = conn.execute("SELECT id, name FROM models WHERE id = ?", [model]).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def list_model_versions(
    settings: Settings, model: str, *, stage: str | None, tag: str | None, limit: int, offset: int
) -> dict[str, Any] | None:
    """The JSON of ``Client.list_model_versions(model, ...)`` (newest first), or ``None``."""
    stage = stage.lower() if stage is not None else None
    if stage is not None and stage not in (*_STAGES, "latest"):
        return None
    conn = _connect(settings)
    if conn is None:
        return None
    try:
        with conn:
            conn.execute("BEGIN")  # one snapshot for the page and its total
            found = _find_model(conn, model)
            if found is None:
                return None  # the Client says which models exist
            model_id, model_name = found
            where, params = ["model_id = ?"], [model_id]
            if tag is not None:
                where.append(
                    "EXISTS (SELECT 1 FROM json_each(model_versions.tags) WHERE value = ?)"
                )
                params.append(tag)
            if stage == "latest":
                where.append("number = (SELECT max(number) FROM model_versions WHERE model_id = ?)")
                params.append(model_id)
            elif stage is not None:
                where.append("stage = ?")
                params.append(stage)
            condition = " AND ".join(where)
            rows = conn.execute(
                "SELECT id, number, name, description, tags, stage, metadata, created, updated, created_by "
                f"FROM model_versions WHERE {condition} ORDER BY number DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            total = conn.execute(
                f"SELECT count(*) FROM model_versions WHERE {condition}", params
            ).fetchone()[0]
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()
    items = [
        {
            "id": row[0],
            "model_id": model_id,
            "model_name": model_name,
            "number": row[1],
            "name": row[2],
            "description": row[3],
            "tags": loads_within_depth(row[4]),
            "stage": row[5],
            "metadata": loads_within_depth(row[6]),
            "created": _time(row[7]),
            "updated": _time(row[8]),
            "created_by": row[9],
        }
        for row in rows
    ]
    return _page(items, total, limit, offset)
