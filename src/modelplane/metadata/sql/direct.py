"""Declared statements run on the driver's connection, compiled once per dialect.

SQLAlchemy's execution of a statement costs about 60 µs of Python on a small machine (execution
context, events, result metadata), twenty times what SQLite takes to answer an indexed lookup, and
a step record or a server read runs several. The statements are still SQLAlchemy's: each is
compiled once per dialect, with SQLAlchemy's own converters for parameters (times, JSON) and
results, and runs on the connection of the transaction SQLAlchemy opened, so it commits or rolls
back with it. A driver error is raised as SQLAlchemy raises it (``IntegrityError``,
``OperationalError``…), so the store's retry of busy databases and lost races holds, and a dropped
connection is invalidated as SQLAlchemy would.

A statement this module cannot run faithfully (an ``IN`` list expanded at execution, a value
rendered into the SQL) runs through SQLAlchemy instead: same answer, usual cost.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

__all__ = ["driver_error", "execute", "first", "insert", "rows", "scalar"]

Row = dict[str, Any]


class _Compiled:
    """A statement's SQL for one dialect, and how to pass its parameters and read its columns."""

    __slots__ = ("statement", "sql", "order", "defaults", "binds", "keys", "types", "results")

    def __init__(self, statement: Any, compiled: Any) -> None:
        self.statement = statement  # kept, so that the id it is cached under stays its own
        self.sql: str = compiled.string
        # Positional paramstyles (qmark, format) take a tuple in this order; named ones a dict.
        self.order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )
        # Values SQLAlchemy bound itself (``LIMIT 1``, a literal in a JSON test), under the
        # names the compiled SQL gives them; the caller passes the others.
        self.defaults: dict[str, Any] = {
            name: value
            for name, value in compiled.construct_params(_check=False).items()
            if value is not None
        }
        self.binds: dict[str, Any] = dict(compiled._bind_processors)
        self.keys: tuple[str, ...] = tuple(column[0] for column in compiled._result_columns)
        self.types: tuple[Any, ...] = tuple(column[3] for column in compiled._result_columns)
        self.results: list[Any] | None = None  # per column, from the first cursor's description


# Statements are meant to be built once (module constants, ``queries.statement``, ``insert``):
# one built per call would be compiled per call, and the cache is emptied when it grows past
# what the store declares rather than let it grow without bound.
_CACHE: dict[tuple[int, str, tuple[str, ...] | None], _Compiled | None] = {}
_CACHE_LIMIT = 2000
_LOCK = threading.Lock()
_INSERTS: dict[sa.Table, Any] = {}


def _compiled(
    statement: Any, dialect: Dialect, keys: tuple[str, ...] | None = None
) -> _Compiled | None:
    """``statement`` compiled for ``dialect``; an INSERT or UPDATE for the columns ``keys``
    (SQLAlchemy writes their SET or VALUES list from the parameters given)."""
    key = (id(statement), dialect.name, keys)
    found = _CACHE.get(key, False)
    if found is not False and (found is None or found.statement is statement):
        return found  # type: ignore[return-value]
    compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
    runnable = not (
        compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
        or getattr(compiled, "insert_prefetch", None)  # Python-side defaults, filled at execution
        or getattr(compiled, "update_prefetch", None)
        or any(bind.callable is not None for bind in compiled.binds.values())
        or getattr(compiled, "_numeric_binds", False)
        or dialect.paramstyle not in ("qmark", "format", "pyformat", "named")
    )
    entry = _Compiled(statement, compiled) if runnable else None
    with _LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = entry
    return entry


def _parameters(entry: _Compiled, params: Mapping[str, Any]) -> Any:
    values = {**entry.defaults, **params} if entry.defaults else params
    binds = entry.binds
    if entry.order is not None:
        return tuple(
            binds[name](values[name]) if name in binds else values[name] for name in entry.order
        )
    return {
        name: binds[name](value) if name in binds else value for name, value in values.items()
    }


_UNSEEN = object()


def _parameters_of_rows(entry: _Compiled, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """``_parameters`` of each row; a value that is the same object as the row before's (a batch's
    one time, say) is converted once."""
    binds, defaults, order = entry.binds, entry.defaults, entry.order
    converted = [name for name in {**defaults, **rows[0]} if name in binds]
    last = {name: (_UNSEEN, None) for name in converted}
    result = []
    for row in rows:
        values = {**defaults, **row} if defaults else dict(row)
        for name in converted:
            value = values[name]
            before, after = last[name]
            if value is not before:
                after = binds[name](value)
                last[name] = (value, after)
            values[name] = after
        result.append(values if order is None else tuple(values[name] for name in order))
    return result


def _run(conn: Connection, entry: _Compiled, params: Any, many: bool) -> Any:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(entry.sql, params)
        else:
            cursor.execute(entry.sql, params)
    except Exception as exc:
        cursor.close()
        raise driver_error(conn, entry.sql, params, exc, cursor) from exc
    return cursor


def driver_error(
    conn: Connection, sql: str, params: Any, exc: Exception, cursor: Any = None
) -> Exception:
    """``exc``, raised by the driver for ``sql`` on ``conn``'s connection, as SQLAlchemy would
    raise it (``IntegrityError``, ``OperationalError``…), so the store's retries see it; a dropped
    connection is invalidated first. Anything that is not a driver error is left as it is."""
    dialect = conn.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    if not isinstance(exc, dbapi_error):
        return exc
    disconnected = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if disconnected:
        conn.invalidate(exc)
    return sa.exc.DBAPIError.instance(
        sql, params, exc, dbapi_error, connection_invalidated=disconnected, dialect=dialect
    )


def execute(
    conn: Connection,
    statement: Any,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> int:
    """Run an INSERT, UPDATE or DELETE with one set of parameters, or with a list of them (one
    row each, all with the same keys); the number of rows it touched."""
    many = not isinstance(params, Mapping)
    if many and not params:
        return 0
    if many and len(params) == 1:
        # A one-row list runs as one statement: psycopg runs a list in pipeline mode, which
        # costs more than the round trip it saves.
        many, params = False, params[0]  # type: ignore[index]
    first: Mapping[str, Any] = params[0] if many else params  # type: ignore[index,assignment]
    entry = _compiled(statement, conn.dialect, tuple(first))
    if entry is None:
        return int(conn.execute(statement, params).rowcount)  # type: ignore[arg-type]
    if many:
        values = _parameters_of_rows(entry, params)  # type: ignore[arg-type]
    else:
        values = _parameters(entry, first)
    cursor = _run(conn, entry, values, many)
    count = int(cursor.rowcount)
    cursor.close()
    return count


def insert(
    conn: Connection, table: sa.Table, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> int:
    """Insert one row (a dict of column keys) or a list of rows with the same keys."""
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS.setdefault(table, table.insert())
    return execute(conn, statement, rows)


def _is_dml(statement: Any) -> bool:
    return bool(getattr(statement, "is_dml", False))


def rows(conn: Connection, statement: Any, params: Mapping[str, Any] = {}) -> list[Row]:  # noqa: B006
    """The rows a SELECT (or a statement with RETURNING) gives, as dicts keyed by its column
    labels, holding the values SQLAlchemy would give."""
    entry = _compiled(statement, conn.dialect, tuple(params) if _is_dml(statement) else None)
    if entry is None:
        return [dict(row._mapping) for row in conn.execute(statement, params)]
    cursor = _run(conn, entry, _parameters(entry, params), False)
    found = cursor.fetchall()
    results = entry.results
    if results is None:
        dialect = conn.dialect
        results = entry.results = [
            kind._cached_result_processor(dialect, described[1])
            for kind, described in zip(entry.types, cursor.description)
        ]
    cursor.close()
    keys = entry.keys
    if not any(results):
        return [dict(zip(keys, row)) for row in found]
    columns = list(zip(keys, results))
    return [
        {
            key: value if convert is None or value is None else convert(value)
            for (key, convert), value in zip(columns, row)
        }
        for row in found
    ]


def first(conn: Connection, statement: Any, params: Mapping[str, Any] = {}) -> Row | None:  # noqa: B006
    """The first row, or ``None`` when there is none."""
    found = rows(conn, statement, params)
    return found[0] if found else None


def scalar(conn: Connection, statement: Any, params: Mapping[str, Any] = {}) -> Any:  # noqa: B006
    """The first column of the first row, or ``None`` when there is no row."""
    found = rows(conn, statement, params)
    return next(iter(found[0].values())) if found else None
