"""The backends the store contract suite runs on: a table of name → factory.

A factory takes the test's ``tmp_path`` and returns a context manager that yields an empty
``MetadataStore`` and cleans up after the test. To run the suite on another backend (say the HTTP
store against a real server), add one entry to ``BACKENDS`` or call ``register_backend``; every
test that uses the ``store`` fixture then runs on it too. ``MODELPLANE_TEST_BACKENDS`` (a comma
list, default: every registered backend) picks which ones run. PostgreSQL and MySQL are not
skipped when unreachable: leave them out of ``MODELPLANE_TEST_BACKENDS`` instead.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import sqlalchemy as sa

from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.sql.tables import ALL_TABLES, metadata
from modelplane.metadata.store import MetadataStore

__all__ = [
    "BACKENDS",
    "MYSQL_URL",
    "POSTGRES_URL",
    "SQL_BACKENDS",
    "BackendFactory",
    "enabled_backends",
    "register_backend",
    "sql_url",
]

# Read at import: the suite-wide autouse fixture clears MODELPLANE_* variables for each test.
POSTGRES_URL = os.environ.get(
    "MODELPLANE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("MODELPLANE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
_WANTED = os.environ.get("MODELPLANE_TEST_BACKENDS", "")

BackendFactory = Callable[[Path], AbstractContextManager[MetadataStore]]


@functools.cache
def _sqlite_template() -> Path:
    """A database migrated once per session; each test gets a copy (migrating per test is slow)."""
    folder = Path(tempfile.mkdtemp(prefix="modelplane-store-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "store.db"
    SqlMetadataStore(f"sqlite:///{path}").close()  # closing the last connection checkpoints the WAL
    return path


@contextlib.contextmanager
def sqlite_store(tmp_path: Path) -> Iterator[MetadataStore]:
    path = tmp_path / "store.db"
    shutil.copyfile(_sqlite_template(), path)
    store = SqlMetadataStore(f"sqlite:///{path}")
    try:
        yield store
    finally:
        store.close()


def drop_schema(engine: sa.Engine) -> None:
    """Drop every modelplane table and the Alembic version table."""
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


class ServerDatabase:
    """A PostgreSQL or MySQL database shared by the session: rebuilt once, emptied per test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
            # Start from the migration chain, not from whatever an earlier session left behind.
            drop_schema(self._engine)
        return self._engine

    @contextlib.contextmanager
    def store(self, tmp_path: Path) -> Iterator[MetadataStore]:
        cleaner = self.engine  # the first test of the session rebuilds the schema here
        # Opening migrates again when a migration test dropped the schema.
        store = SqlMetadataStore(self.url)
        try:
            with cleaner.begin() as conn:
                for table in ALL_TABLES:
                    conn.execute(table.delete())
            yield store
        finally:
            store.close()


_SERVERS = {"postgresql": ServerDatabase(POSTGRES_URL), "mysql": ServerDatabase(MYSQL_URL)}

BACKENDS: dict[str, BackendFactory] = {
    "sqlite": sqlite_store,
    "postgresql": _SERVERS["postgresql"].store,
    "mysql": _SERVERS["mysql"].store,
}
# The backends that are SQL databases (migration and engine tests run only on these).
SQL_BACKENDS = ("sqlite", "postgresql", "mysql")


def register_backend(name: str, factory: BackendFactory) -> None:
    """Run the contract suite on one more backend (import this before the tests are collected)."""
    BACKENDS[name] = factory


def enabled_backends(sql_only: bool = False) -> list[str]:
    """The registered backends named in MODELPLANE_TEST_BACKENDS (all of them when unset).

    Names this table does not know are left to whoever handles them (``http_backend.py`` reads
    the same variable), so they are skipped here rather than refused.
    """
    wanted = [name.strip() for name in _WANTED.split(",") if name.strip()] or list(BACKENDS)
    names = [name for name in wanted if name in BACKENDS]
    return [name for name in names if name in SQL_BACKENDS] if sql_only else names


def sql_url(backend: str, tmp_path: Path, *, fresh: bool = False) -> str:
    """A database URL for ``backend``: a new SQLite file, or the shared server database
    (with every modelplane table dropped when ``fresh``)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'store.db'}"
    server = _SERVERS[backend]
    if fresh:
        drop_schema(server.engine)
    return server.url
