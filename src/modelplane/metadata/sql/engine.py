"""Engines for SQLite, PostgreSQL and MySQL/MariaDB, and the migrations that keep them current.

``make_engine`` turns a store URL into a configured engine; ``ensure_schema`` (called when a store
opens) upgrades an empty or older database and refuses one written by a newer modelplane. Every
engine reads JSON columns with ``loads_within_depth``, so no stored value is too deep to serve.
Alembic is imported only when a migration actually runs.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from modelplane.errors import ConfigError, SchemaVersionError, StoreError
from modelplane.metadata.json_depth import loads_within_depth
from modelplane.metadata.sql.direct import driver_error
from modelplane.metadata.sqlite_settings import (
    BUSY_TIMEOUT_ENV,
    busy_timeout,
    configure,
)

__all__ = [
    "BUSY_TIMEOUT_ENV",
    "IMMEDIATE",
    "SCHEMA_HEAD",
    "busy_timeout",
    "current_revision",
    "describe_db_error",
    "display_url",
    "ensure_schema",
    "head_revision",
    "is_transient",
    "known_revisions",
    "make_engine",
    "normalize_url",
    "upgrade",
]

# The newest revision in migrations/versions. Opening a store compares the database with this
# constant so the common case (already current) costs one query and no Alembic import
# (tests/store check that it matches the migration chain).
SCHEMA_HEAD = "0014_projects"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Execution option that makes the SQLite "begin" hook take the write lock up front.
IMMEDIATE = "modelplane_sqlite_immediate"
# How long a write waits for a lock another process holds before it fails (seconds).
_LOCK_NAME = "modelplane_schema_migration"
_PG_LOCK_KEY = zlib.crc32(_LOCK_NAME.encode())

# Bare schemes are rewritten to the drivers modelplane installs through its extras.
_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_EXTRAS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def _config_error(url: str, problem: str) -> ConfigError:
    return ConfigError(
        f"The metadata store URL {url!r} {problem}.",
        hint="Use sqlite:///path/to/store.db, postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db.",
    )


def normalize_url(url: str) -> sa.URL:
    """Parse ``url`` and pick modelplane's driver when none is named."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise _config_error(url, "is malformed") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in _DRIVERS:
        raise _config_error(url, f"names an unsupported database {backend!r}")
    if not driver:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def display_url(url: str | sa.URL) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return (sa.make_url(url) if isinstance(url, str) else url).render_as_string(
            hide_password=True
        )
    except sa.exc.ArgumentError:
        return str(url)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout per connection."""
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend == "postgresql":
            engine = sa.create_engine(parsed, json_deserializer=loads_within_depth)
        else:
            # READ COMMITTED: a statement after a lock wait sees the row the other writer
            # committed, as on PostgreSQL, so get-or-create and retry behave the same on both.
            engine = sa.create_engine(
                parsed,
                pool_recycle=3600,
                isolation_level="READ COMMITTED",
                json_deserializer=loads_within_depth,
            )
        _ping_when_idle(engine)
        return engine
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        extra = _EXTRAS.get(backend)
        raise ConfigError(
            f"The metadata store URL {display_url(parsed)!r} needs the database driver "
            f"{parsed.get_driver_name()!r}, which is not installed ({exc}).",
            hint=f"Install it with pip install 'modelplane[{extra}]'." if extra else None,
        ) from None


# A pooled server connection unused for this long is pinged before it is handed out; one used
# more recently is trusted. SQLAlchemy's ``pool_pre_ping`` pings at every checkout, a round trip
# per transaction, two a step. A connection that died in between anyway fails its first
# statement, and the transaction runs again on a new one (``StoreCore``).
PING_AFTER_IDLE = 5.0


def _ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["modelplane_returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("modelplane_returned")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE:
            return  # new, or used moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool discards the connection and hands out another (SQLAlchemy's contract).
            raise sa.exc.DisconnectionError(f"a pooled connection was closed: {exc}") from exc


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory:
        # Every new connection to :memory: is a new empty database; share one.
        engine = sa.create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            json_deserializer=loads_within_depth,
        )
    else:
        if not database.startswith("file:"):
            path = Path(database).expanduser()
            _check_sqlite_file(path)
            url = url.set(database=str(path))
        # A small pool: connections (and their pragmas) are reused; SQLite has one writer anyway.
        engine = sa.create_engine(
            url,
            pool_size=4,
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": busy_timeout()},
            json_deserializer=loads_within_depth,
        )
    event.listen(engine, "connect", _sqlite_on_connect(in_memory))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _check_sqlite_file(path: Path) -> None:
    """A SQLite store's folder must exist (only the default store's is created, by ``Client``)
    and the file and folder be writable (SQLite writes ``-wal`` and ``-shm`` files beside it)."""
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(
            f"The folder {str(folder)!r} of the SQLite store {str(path)!r} does not exist.",
            hint=f"Create it (mkdir -p {folder}) or fix the store URL; `modelplane init` makes a "
            "project store in ./.modelplane.",
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ConfigError(
            f"The SQLite store {str(path)!r} is read-only for this user.",
            hint=f"Make it writable (chmod u+rw {path}), run as its owner, or copy it somewhere "
            "writable and point the store URL there.",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"The folder {str(folder)!r} of the SQLite store is read-only for this user; SQLite "
            f"needs to write {path.name}-wal and {path.name}-shm beside the store.",
            hint=f"Make the folder writable (chmod u+w {folder}) or move the store to a writable "
            "folder and point the store URL there.",
        )


def _sqlite_on_connect(in_memory: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # BEGIN is left to the "begin" hook below (BEGIN IMMEDIATE for a writer).
        configure(dbapi_connection, in_memory=in_memory)

    return on_connect


def _sqlite_on_begin(conn: Connection) -> None:
    # Writers take the lock at BEGIN: a deferred transaction that later wants to write fails at
    # once with "database is locked" when another writer got in first, whatever the busy timeout.
    # Sent to the driver's connection itself: SQLAlchemy's statement machinery would cost more
    # than the statement, on every transaction.
    statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN"
    driver = conn.connection.driver_connection
    try:
        driver.execute(statement)  # type: ignore[union-attr]
    except Exception as exc:  # as SQLAlchemy would raise it: a busy database is retried
        raise driver_error(conn, statement, (), exc) from exc


# -- schema revisions ---------------------------------------------------------------------------


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` for an empty database."""
    query = sa.text("SELECT version_num FROM alembic_version")
    with engine.connect() as conn:
        try:
            return conn.execute(query).scalar()
        except sa.exc.DBAPIError:
            conn.rollback()
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
        # The table was missing when the query ran but exists now: another process is creating
        # the schema at this moment. Ask again; the table may still be empty (None), and the
        # migration lock in ``upgrade`` then makes this process wait for the other one.
        return conn.execute(query).scalar()


def _alembic_config(connection: Connection | None = None) -> Any:
    # Imported here, not at module level: Alembic costs a quarter of a second to import and is
    # only needed when the schema actually changes, not on every CLI command.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    """The newest revision of the migration chain shipped with this modelplane."""
    head = _script_directory().get_current_head()
    assert head is not None, "the migration chain is empty"
    return str(head)


def known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``; concurrent callers wait for each other."""
    from alembic import command

    dialect = engine.dialect.name
    with engine.connect() as conn, _migration_lock(conn, dialect):
        if dialect == "sqlite":
            # SQLite DDL is transactional; holding the write lock from BEGIN makes a second opener
            # wait and then find the schema current, instead of creating the tables twice.
            conn.execution_options(**{IMMEDIATE: True})
            # Batch migrations copy and drop tables; with foreign keys on, dropping a parent would
            # cascade-delete its children. The pragma only works outside a transaction, so it goes
            # straight to the driver connection.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if dialect == "postgresql":
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                command.upgrade(_alembic_config(conn), revision)
        finally:
            if dialect == "sqlite":
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


@contextlib.contextmanager
def _migration_lock(conn: Connection, dialect: str) -> Iterator[None]:
    # MySQL commits DDL implicitly, so a transaction cannot serialize migrations; a named
    # session lock can.
    if dialect not in ("mysql", "mariadb"):
        yield
        return
    got = conn.execute(sa.text("SELECT GET_LOCK(:name, 600)"), {"name": _LOCK_NAME}).scalar()
    conn.commit()
    if got != 1:
        raise StoreError(
            "Another process has been migrating the metadata database for 10 minutes.",
            hint="Wait for it to finish, or check for a stuck `modelplane db upgrade`.",
        )
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
        conn.commit()


def ensure_schema(engine: Engine, url: str) -> None:
    """Upgrade an empty or older database; refuse one from a newer modelplane."""
    for attempt in range(5):
        try:
            revision = current_revision(engine)
            if revision == SCHEMA_HEAD:
                return
            if revision is not None and revision not in known_revisions():
                raise SchemaVersionError(
                    f"The metadata database at {display_url(url)} has schema revision "
                    f"{revision!r}, which this modelplane does not know (its newest is "
                    f"{SCHEMA_HEAD!r}): a newer modelplane wrote it.",
                    hint="Upgrade modelplane (pip install -U modelplane) or use another store URL.",
                )
            upgrade(engine)
            return
        except sa.exc.DBAPIError as exc:
            # Several processes opening a fresh database at once can collide before the
            # migration lock exists (SQLite switching to WAL); the loser tries again.
            if attempt == 4 or not is_transient(exc):
                raise StoreError(
                    f"The metadata store at {display_url(url)} cannot be opened: "
                    f"{describe_db_error(exc)}",
                    hint="Check that the database server is running and the URL, user and "
                    "password are right.",
                ) from None
            time.sleep(0.05 * (attempt + 1))


def is_transient(exc: sa.exc.DBAPIError) -> bool:
    """Whether retrying the transaction may succeed: a deadlock, a lock timeout, a busy SQLite."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in ("40001", "40P01", "55P03"):
        return True  # PostgreSQL serialization failure, deadlock, lock not available
    args = getattr(orig, "args", ())
    if args and args[0] in (1205, 1213):
        return True  # MySQL lock wait timeout, deadlock
    if getattr(orig, "sqlite_errorcode", None) in (5, 6):
        return True  # SQLITE_BUSY, SQLITE_LOCKED
    return "database is locked" in str(orig)


def describe_db_error(exc: sa.exc.DBAPIError) -> str:
    """The driver's message, first line only (the rest repeats the SQL)."""
    return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
