"""``GET /ready``: whether this server can do its work now, unlike ``/health``, which only says
the process answers.

Two checks, run on every call, each bounded by ``READY_TIMEOUT`` seconds:

* ``database``: a query through the store (the schema revision, one row), so a database that is
  down, unreachable, locked out or without modelplane's schema fails. For a SQLite file the file
  must also still be the one the server opened, and start like a SQLite database: a server whose
  file was deleted or replaced would otherwise go on writing to a file nobody will see again.
* ``artifacts``: a small file written, read back and removed under the artifact root's ``.tmp``
  through the artifact store, as a step's save would (on S3: three requests).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from modelplane.artifacts.store import ArtifactStore, new_artifact_id
from modelplane.errors import ArtifactError, ModelplaneError, StoreError
from modelplane.metadata.store import MetadataStore

__all__ = ["READY_TIMEOUT", "Readiness"]

READY_TIMEOUT = 5.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PROBE = b"modelplane ready check\n"
_REVISION = sa.text("SELECT version_num FROM alembic_version")


@dataclass(frozen=True)
class _SqliteFile:
    path: str
    device: int
    inode: int


def _sqlite_file(store_url: str) -> _SqliteFile | None:
    """The SQLite file of ``store_url`` as it is now (``None`` for other databases and for
    in-memory ones)."""
    url = sa.make_url(store_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    path = os.path.abspath(os.path.expanduser(database))
    stat = os.stat(path)
    return _SqliteFile(path, stat.st_dev, stat.st_ino)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ModelplaneError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Readiness:
    """The checks of one app's stores; ``check()`` answers ``(ready, {check: "ok" or why})``."""

    def __init__(
        self,
        store: MetadataStore,
        artifacts: ArtifactStore,
        store_url: str,
        timeout: float = READY_TIMEOUT,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._timeout = timeout
        self._sqlite = _sqlite_file(store_url)

    def _database(self) -> None:
        read: Callable[[Callable[[Any], Any]], Any] | None = getattr(self._store, "read", None)
        if read is not None:  # the SQL store: one row, one short read transaction
            revision = read(lambda conn: conn.execute(_REVISION).scalar())
            if revision is None:
                raise StoreError(
                    "The database has no modelplane schema.", hint="Run `modelplane db upgrade`."
                )
        else:
            self._store.info()
        if self._sqlite is not None:
            self._check_sqlite_file(self._sqlite)

    @staticmethod
    def _check_sqlite_file(opened: _SqliteFile) -> None:
        try:
            stat = os.stat(opened.path)
        except FileNotFoundError:
            raise StoreError(
                f"The SQLite file {opened.path} was deleted while the server had it open; what is "
                "written now is lost when the server stops."
            ) from None
        if (stat.st_dev, stat.st_ino) != (opened.device, opened.inode):
            raise StoreError(
                f"The SQLite file {opened.path} was replaced by another file since the server "
                "opened it; restart the server to use the new one."
            )
        with open(opened.path, "rb") as file:
            if file.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                raise StoreError(
                    f"The SQLite file {opened.path} is not a SQLite database any more."
                )

    def _artifact_store(self) -> None:
        write = self._artifacts.begin_write(new_artifact_id())
        try:
            with write.folder.open("ready", "wb") as file:
                file.write(_PROBE)
            with write.folder.open("ready", "rb") as file:
                if file.read() != _PROBE:
                    raise ArtifactError(
                        "A file written under the artifact root read back different."
                    )
        finally:
            write.abort()

    async def _run(self, check: Callable[[], None]) -> str:
        try:
            await asyncio.wait_for(run_in_threadpool(check), self._timeout)
        except asyncio.TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - whatever fails is what the operator must see
            return _describe(exc)
        return "ok"

    async def check(self) -> tuple[bool, dict[str, str]]:
        database, artifacts = await asyncio.gather(
            self._run(self._database), self._run(self._artifact_store)
        )
        checks = {"database": database, "artifacts": artifacts}
        return all(value == "ok" for value in checks.values()), checks
