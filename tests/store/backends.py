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
import uuid
from datetime import datetime, timezone
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import sqlalchemy as sa

from modelplane.metadata.local_store import LocalStore
from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.sql.tables import ALL_TABLES, metadata, projects
from modelplane.metadata.store import MetadataStore

__all__ = [
    "BACKENDS",
    "MYSQL_URL",
    "POSTGRES_URL",
    "SQL_BACKENDS",
    "BackendFactory",
    "empty_tables",
    "enabled_backends",
    "register_backend",
    "sql_url",
]

# Read at import: the suite-wide autouse fixture clears MODELPLANE_* variables for each test.
# These name a server and a database to connect to; the tests work in a database of their own.
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


@contextlib.contextmanager
def local_store(tmp_path: Path) -> Iterator[MetadataStore]:
    """The store ``Client`` opens on a local SQLite file: a pipeline's writes without SQLAlchemy,
    everything else (and whatever those writes hand back) through the SQL store."""
    path = tmp_path / "store.db"
    shutil.copyfile(_sqlite_template(), path)
    store = LocalStore(f"sqlite:///{path}")
    try:
        yield store  # type: ignore[misc]
    finally:
        store.close()


def empty_tables(conn: sa.Connection) -> None:
    """Delete every row, leaving the store as a fresh one is: with only the project ``default``."""
    for table in ALL_TABLES:
        conn.execute(table.delete())
    conn.execute(
        projects.insert().values(
            id=uuid.uuid4().hex, name="default", created=datetime.now(timezone.utc)
        )
    )


def drop_schema(engine: sa.Engine) -> None:
    """Drop every modelplane table and the Alembic version table."""
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


_PRIVATE_PREFIX = "mp_test_"


def _admin(engine: sa.Engine) -> sa.Connection:
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _drop_database(admin_engine: sa.Engine, name: str) -> None:
    force = " WITH (FORCE)" if admin_engine.dialect.name == "postgresql" else ""
    quoted = admin_engine.dialect.identifier_preparer.quote_identifier(name)
    with _admin(admin_engine) as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}{force}"))


def _drop_abandoned_databases(admin_engine: sa.Engine) -> None:
    """Drop the private databases of earlier test sessions on this machine that were killed."""
    listing = (
        "SELECT datname FROM pg_database"
        if admin_engine.dialect.name == "postgresql"
        else "SHOW DATABASES"
    )
    with _admin(admin_engine) as conn:
        names = [row[0] for row in conn.execute(sa.text(listing))]
    for name in names:
        parts = name.split("__")[0].split("_")  # a project's database: <private>__<project>
        if not name.startswith(_PRIVATE_PREFIX) or len(parts) != 4 or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            _drop_database(admin_engine, name)
        except OSError:
            pass


class ServerDatabase:
    """A PostgreSQL or MySQL database private to this test session: made on first use from the
    configured URL's server, emptied per test, dropped when the session ends.

    Private, so two test sessions on one machine (or a session and CI) never see each other's
    tables or schema revisions; the configured database itself is only used to connect.
    """

    def __init__(self, admin_url: str) -> None:
        self._admin_url = admin_url
        self._name = f"{_PRIVATE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._url: str | None = None
        self._engine: sa.Engine | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            admin_engine = make_engine(self._admin_url)
            try:
                _drop_abandoned_databases(admin_engine)
                quoted = admin_engine.dialect.identifier_preparer.quote_identifier(self._name)
                with _admin(admin_engine) as conn:
                    conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            finally:
                admin_engine.dispose()
            atexit.register(self._drop)
            self._url = sa.make_url(self._admin_url).set(database=self._name).render_as_string(
                hide_password=False
            )
        return self._url

    def _drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        admin_engine = make_engine(self._admin_url)
        try:
            _drop_database(admin_engine, self._name)
            if admin_engine.dialect.name != "postgresql":  # projects' databases (MySQL)
                with _admin(admin_engine) as conn:
                    names = [row[0] for row in conn.execute(sa.text("SHOW DATABASES"))]
                for name in names:
                    if name.startswith(self._name + "__"):
                        _drop_database(admin_engine, name)
        finally:
            admin_engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @contextlib.contextmanager
    def store(self, tmp_path: Path) -> Iterator[MetadataStore]:
        cleaner = self.engine  # the first test of the session rebuilds the schema here
        # Opening migrates again when a migration test dropped the schema.
        store = SqlMetadataStore(self.url)
        try:
            with cleaner.begin() as conn:
                empty_tables(conn)
            yield store
        finally:
            store.close()


_SERVERS = {"postgresql": ServerDatabase(POSTGRES_URL), "mysql": ServerDatabase(MYSQL_URL)}

BACKENDS: dict[str, BackendFactory] = {
    "sqlite": sqlite_store,
    "postgresql": _SERVERS["postgresql"].store,
    "mysql": _SERVERS["mysql"].store,
    "local": local_store,
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
    """A database URL for ``backend``: a new SQLite file, or the session's server database
    (with every modelplane table dropped when ``fresh``)."""
    if backend == "sqlite":
        (tmp_path / "fresh").mkdir(exist_ok=True)  # an explicit SQLite URL needs its folder
        return f"sqlite:///{tmp_path / 'fresh' / 'store.db'}"
    server = _SERVERS[backend]
    if fresh:
        drop_schema(server.engine)
    return server.url
