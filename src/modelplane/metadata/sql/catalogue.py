"""Compile every variant of the declared read queries (``queries.py``) and every statement of a
pipeline run's writes (``run_statements.py``) to SQLite text.

The result, ``metadata/sqlite_statements.json``, is generated and shipped with the package: the
light reader (``metadata.light``) and the local store (``metadata.local_store``) run its
statements with the standard library's ``sqlite3``. Each entry keeps the SQL, the order of its
parameters (and the values of those SQLAlchemy bound itself) and how to convert values: for a
read, per result column, how to turn the stored text into the record's JSON value and what a NULL
stands for; for a write, which parameters are times, JSON or booleans, and the same of its result
columns. ``tests/cli/test_light_reads.py`` fails when the file is not what this module writes;
regenerate it with::

    python -m modelplane.metadata.sql.catalogue
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from modelplane.metadata.record_base import record_fields
from modelplane.metadata.records import (
    ArtifactRecord,
    ArtifactVersionRecord,
    ModelRecord,
    ModelVersionRecord,
    PipelineRecord,
    RunRecord,
)
from modelplane.metadata.sql.engine import SCHEMA_HEAD
from modelplane.metadata.sql.queries import all_variants, statement
from modelplane.metadata.sql.run_statements import STATEMENTS
from modelplane.metadata.sql.tables import UtcDateTime

__all__ = ["CATALOGUE_PATH", "catalogue_text", "compile_catalogue"]

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "sqlite_statements.json"
# The record each query's rows fill: a NULL column takes the record's default ({} for gates).
_RECORD_OF = {
    "models": ModelRecord,
    "model": ModelRecord,
    "versions": ModelVersionRecord,
    "version": ModelVersionRecord,
    "pipelines": PipelineRecord,
    "pipeline": PipelineRecord,
    "runs": RunRecord,
    "artifacts": ArtifactRecord,
    "artifact_versions": ArtifactVersionRecord,
}


def _kind(column: Any) -> str | None:
    return _kind_of(column.type)


def _kind_of(kind: Any, *, floats: bool = False) -> str | None:
    """How a value of SQL type ``kind`` is converted; ``floats``: a float too (SQLAlchemy makes
    a parameter a float on the way in; a read's JSON needs nothing)."""
    if floats and isinstance(kind, sa.Float):
        return "float"
    if isinstance(kind, UtcDateTime):
        return "time"
    if isinstance(kind, sa.JSON):
        return "json"
    if isinstance(kind, sa.Boolean):
        return "bool"
    return None


def _column(name: str, column: sa.ColumnElement[Any], record: Any) -> list[Any]:
    field = record_fields(record).get(name) if record is not None else None
    if_null = None
    if field is not None and field.default_factory is not dataclasses.MISSING:
        if_null = field.default_factory()
    elif field is not None and field.default is not dataclasses.MISSING:
        if_null = field.default
    return [name, _kind(column), if_null]


def _write_entry(name: str, statement: Any, dialect: Any) -> dict[str, Any]:
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError(f"{name}: a statement run without SQLAlchemy needs one SQL text")
    return {
        "sql": compiled.string,
        "params": list(compiled.positiontup or []),
        "fixed": {k: v for k, v in compiled.params.items() if v is not None},
        "binds": {
            name: kind
            for name, bind in compiled.binds.items()
            if (kind := _kind_of(bind.type, floats=True)) is not None and name in (compiled.positiontup or [])
        },
        # As ``direct`` names them: the keys SQLAlchemy gives the result columns.
        "columns": [
            [column[0], _kind_of(column[3], floats=True)] for column in compiled._result_columns
        ],
    }


def compile_catalogue() -> dict[str, Any]:
    dialect = sqlite.dialect()
    queries: dict[str, Any] = {}
    for key, name, variant in all_variants():
        select = statement(name, "sqlite", variant)
        compiled = select.compile(dialect=dialect)
        record = _RECORD_OF.get(name.partition(".")[0])
        queries[key] = {
            "sql": compiled.string,
            "params": list(compiled.positiontup or []),
            # Values SQLAlchemy bound itself (``LIMIT 1``); the caller passes the others.
            "fixed": {k: v for k, v in compiled.params.items() if v is not None},
            "columns": [_column(c.key, c, record) for c in select.selected_columns],
        }
    writes = {name: _write_entry(name, statement, dialect) for name, statement in STATEMENTS.items()}
    return {"schema_revision": SCHEMA_HEAD, "queries": queries, "writes": writes}


def catalogue_text(catalogue: dict[str, Any] | None = None) -> str:
    return json.dumps(catalogue or compile_catalogue(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    catalogue = compile_catalogue()
    CATALOGUE_PATH.write_text(catalogue_text(catalogue), encoding="utf-8")
    print(
        f"wrote {CATALOGUE_PATH} ({len(catalogue['queries'])} queries, "
        f"{len(catalogue['writes'])} write statements)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
