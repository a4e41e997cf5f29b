"""The store of a local SQLite file: a pipeline's writes and lookups without SQLAlchemy.

SQLAlchemy takes longer to import than a small pipeline takes to run, and its transaction
machinery costs more than SQLite's work for the statements of one step. ``LocalStore`` runs the
writes of ``metadata.run_writes`` (a run, its steps, their outputs), ``metadata.model_writes``
(the run's model version, the links of the outputs to it), ``metadata.log_writes`` (metric points,
metadata) and ``metadata.stage_writes`` (a promotion, its gates and webhook deliveries) on its own
``sqlite3`` connection, with the same statements SQLAlchemy would send (compiled once into
``sqlite_statements.json`` by ``metadata.sql.catalogue``) and the values converted as SQLAlchemy
converts them, so either can read what the other wrote; and the reads a pipeline makes (its runs,
a version's links) with the light reader. Its records are made without validating the rows again
(``metadata.row_records``). Everything else goes to the SQL store (``SqlMetadataStore``), opened on
first need.

The SQL store stays the authority. A call the local path does not take on (a name that matches
nothing and must be explained, a busy database, a lost race, any SQLite error) is rolled back whole
and made again through it, so it answers exactly as it would have alone.
``MODELPLANE_LIGHT_READS=0`` sends every call there.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from modelplane.config import DEFAULT_PROJECT
from modelplane.enums import ExecutionStatus
from modelplane.errors import ModelplaneError
from modelplane.metadata import log_writes, model_writes, run_writes, stage_writes
from modelplane.metadata.json_depth import loads_within_depth
from modelplane.metadata.light import LightReader, Unavailable, catalogue, sqlite_path
from modelplane.metadata.reads import Row
from modelplane.metadata.row_records import record
from modelplane.metadata.sqlite_settings import busy_timeout, configure

if TYPE_CHECKING:
    from modelplane.metadata.records import CompletedStep, Page, RunRecord
    from modelplane.metadata.sql.store import SqlMetadataStore

__all__ = ["LocalStore", "LightTransaction"]

_OFF = "MODELPLANE_LIGHT_READS"
_FULL = object()  # what a local attempt returns when the SQL store must make the call
# How long a local write waits for another writer's lock before it hands the call to the SQL
# store, which waits the rest of the busy timeout and says why when it gives up.
_WAIT = 1.0


# -- values as SQLAlchemy stores and reads them on SQLite -----------------------------------------


def _bind_time(value: datetime | None) -> str | None:
    # UtcDateTime: naive UTC, written as SQLite's DATETIME text, microseconds always.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond,
    )  # fmt: skip


def _read_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


_BIND: dict[str, Callable[[Any], Any]] = {
    "time": _bind_time,
    "json": json.dumps,  # None too: a JSON column stores it as 'null', as SQLAlchemy does
    "bool": lambda value: None if value is None else int(value),
    "float": lambda value: None if value is None else float(value),
}
_READ: dict[str | None, Callable[[Any], Any] | None] = {
    None: None,
    "time": _read_time,
    "json": loads_within_depth,
    "bool": bool,
    "float": float,
}


class _Statement:
    """One compiled statement of the catalogue, with its parameters' and columns' converters."""

    __slots__ = ("sql", "order", "keys", "readers")

    def __init__(self, entry: Mapping[str, Any]) -> None:
        self.sql: str = entry["sql"]
        fixed, binds = entry["fixed"], entry["binds"]
        # Per parameter: (name, converter, the value the statement binds itself if any).
        self.order = [(name, _BIND.get(binds.get(name, "")), fixed.get(name)) for name in entry["params"]]
        self.keys = [key for key, _ in entry["columns"]]
        self.readers = [_READ[kind] for _, kind in entry["columns"]]

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            (params[name] if convert is None else convert(params[name])) if name in params else fixed
            for name, convert, fixed in self.order
        )

    def values_of_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """``values`` of each row (all with the first row's keys); a value that is the same
        object as the row before's (a batch's one time, say) is converted once."""
        first = rows[0]
        template = [None if name in first else fixed for name, _, fixed in self.order]
        given = [(i, name, convert) for i, (name, convert, _) in enumerate(self.order) if name in first]
        plain = [(i, name) for i, name, convert in given if convert is None]
        converted = [(i, name, convert) for i, name, convert in given if convert is not None]
        last: dict[int, tuple[Any, Any]] = {}
        result = []
        for row in rows:
            values = template.copy()
            for i, name in plain:
                values[i] = row[name]
            for i, name, convert in converted:
                value = row[name]
                seen = last.get(i)
                if seen is None or seen[0] is not value:
                    seen = last[i] = (value, convert(value))
                values[i] = seen[1]
            result.append(tuple(values))
        return result

    def rows(self, found: list[tuple[Any, ...]]) -> list[Row]:
        keys, readers = self.keys, self.readers
        return [
            {
                key: value if read is None or value is None else read(value)
                for key, read, value in zip(keys, readers, row)
            }
            for row in found
        ]


class LightTransaction:
    """``run_writes.Transaction`` on an open ``sqlite3`` transaction. It explains nothing:
    ``Unavailable`` hands the whole call to the SQL store."""

    update_returning = sqlite3.sqlite_version_info >= (3, 35)

    def __init__(
        self, conn: sqlite3.Connection, statements: Mapping[str, _Statement], reader: LightReader
    ) -> None:
        self._conn = conn
        self._statements = statements
        self._reader = reader
        self._now = datetime.now(timezone.utc)

    def rows(self, name: str, params: Mapping[str, Any]) -> list[Row]:
        statement = self._statements[name]
        return statement.rows(self._conn.execute(statement.sql, statement.values(params)).fetchall())

    def execute(self, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        statement = self._statements[name]
        if isinstance(params, Mapping):
            return self._conn.execute(statement.sql, statement.values(params)).rowcount
        if not params:
            return 0
        return self._conn.executemany(statement.sql, statement.values_of_rows(params)).rowcount

    def now(self) -> datetime:
        return self._now

    def existing_artifact_versions(self, ids: set[str]) -> set[str]:
        return {av_id for av_id in ids if self.rows("artifact_version.exists", {"id": av_id})}

    def missing(self, kind: str, key: str) -> NoReturn:
        raise Unavailable(f"the SQL store explains a {kind} {key!r} that matches nothing")

    def model(self, model: str, *, lock: bool = False) -> Row:
        return self._reader.call("get_model", model)  # type: ignore[no-any-return]

    def version(self, model: str, version: Any, *, lock: bool = False) -> Row:
        return self._reader.call("get_model_version", model, version)  # type: ignore[no-any-return]

    def inserted_id(self, name: str, params: Mapping[str, Any]) -> Any:
        statement = self._statements[name]
        return self._conn.execute(statement.sql, statement.values(params)).lastrowid

    def replay(self, cached_from: str, step_run_id: str, run_id: str, replay_to: str | None) -> dict[str, Any]:
        return log_writes.replay(self, cached_from, step_run_id, run_id, replay_to)


class LocalStore:
    """``MetadataStore`` of a local SQLite file (``sqlite:///PATH``): ``run_writes``,
    ``model_writes`` and the lookups a pipeline makes run here on ``sqlite3``; every other call,
    and every call this path hands back, goes to the ``SqlMetadataStore`` of the same URL, opened on
    first need."""

    def __init__(self, url: str, *, project: str = DEFAULT_PROJECT) -> None:
        self.url = url
        self.project = project
        self._full_store: SqlMetadataStore | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._statements: dict[str, _Statement] = {}
        self._reader: LightReader | None = None
        self._abandoned: list[sqlite3.Connection] = []
        self._path = sqlite_path(url) if project == DEFAULT_PROJECT else None
        if os.environ.get(_OFF, "1") == "0":
            self._path = None
        if not self._open():
            self._open_full()  # creates or migrates the store (or raises why it cannot)
            self._open()

    # -- the two ways --------------------------------------------------------------------------

    @property
    def full(self) -> SqlMetadataStore:
        """The SQL store of the same URL and project, opened on first need."""
        return self._full_store or self._open_full()

    def _open_full(self) -> SqlMetadataStore:
        with self._lock:
            if self._full_store is None:
                from modelplane.metadata.sql.store import SqlMetadataStore

                self._full_store = SqlMetadataStore(self.url, project=self.project)
            return self._full_store

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.full, name)

    def _open(self) -> bool:
        """Open the local connection when the file is there at the catalogue's revision."""
        if self._path is None or not os.path.isfile(self._path):
            return False
        conn = None
        try:
            statements = catalogue()
            conn = sqlite3.connect(self._path, timeout=_WAIT, check_same_thread=False)
            configure(conn, wait=min(_WAIT, busy_timeout()))
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if revision is None or revision[0] != statements["schema_revision"]:
                raise ValueError("another schema revision: the SQL store migrates it")
        except (OSError, ValueError, sqlite3.Error, ModelplaneError):
            if conn is not None:
                conn.close()
            return False
        self._statements = {name: _Statement(entry) for name, entry in statements["writes"].items()}
        self._reader = LightReader(conn, statements, self.url, self.project)
        self._conn, self._pid = conn, os.getpid()
        return True

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is not None and self._pid != os.getpid():
            # A connection must not cross a fork: keep the parent's open (closing it here could
            # disturb the parent's locks) and open one of this process's own.
            self._abandoned.append(self._conn)
            self._conn = None
            self._open()
        return self._conn

    def _local(self, work: run_writes.Work, *, write: bool = True) -> Any:
        """``work`` in one local transaction (a writer takes the lock at BEGIN, as the SQL store's
        do); ``_FULL`` when the SQL store must make the call, nothing of this attempt kept."""
        full = self._full_store
        if full is not None and getattr(full._batch, "conn", None) is not None:
            return _FULL  # inside the SQL store's transaction (``atomically``): the call joins it
        with self._lock:
            conn = self._connection()
            if conn is None:
                return _FULL
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error:
                return _FULL  # busy for ``_WAIT``: the SQL store waits and retries
            try:
                assert self._reader is not None
                result = work(LightTransaction(conn, self._statements, self._reader))
                conn.execute("COMMIT")
                return result
            except (Unavailable, sqlite3.Error):
                _roll_back(conn)
                return _FULL
            except BaseException:
                _roll_back(conn)
                raise

    # -- a pipeline's calls --------------------------------------------------------------------

    def save_pipeline(self, name: str, spec: dict[str, Any]) -> Any:
        from modelplane.metadata.records import PipelineRecord

        row = self._local(run_writes.save_pipeline(name, spec))
        return self.full.save_pipeline(name, spec) if row is _FULL else record(PipelineRecord, row)

    def create_run(self, **arguments: Any) -> RunRecord:
        from modelplane.metadata.records import RunRecord

        row = self._local(run_writes.create_run(**arguments))
        return self.full.create_run(**arguments) if row is _FULL else record(RunRecord, row)

    def finish_run(self, run_id: str, status: ExecutionStatus, error: str | None = None) -> RunRecord:
        from modelplane.metadata.records import RunRecord

        row = self._local(run_writes.finish_run(run_id, status, error))
        if row is _FULL:
            return self.full.finish_run(run_id, status, error)
        return record(RunRecord, row)

    def heartbeat_run(self, run_id: str) -> None:
        if self._local(run_writes.heartbeat_run(run_id)) is _FULL:
            self.full.heartbeat_run(run_id)

    def reap_abandoned_runs(self, *, gone: Sequence[str] = (), reaper: str | None = None) -> list[RunRecord]:
        from modelplane.metadata.records import RunRecord

        rows = self._local(run_writes.reap_abandoned_runs(gone=gone, reaper=reaper))
        if rows is _FULL:
            return self.full.reap_abandoned_runs(gone=gone, reaper=reaper)
        return [record(RunRecord, row) for row in rows]

    def _read_page(self, record_type: type[Any], operation: str, *args: Any, **filters: Any) -> Any:
        """A page of ``metadata.reads.<operation>`` read here, or ``None`` for the SQL store."""
        from modelplane.metadata.records import Page

        with self._lock:
            reader = self._reader if self._connection() is not None else None
            try:
                found = None if reader is None else reader.call(operation, *args, **filters)
            except (Unavailable, ModelplaneError):
                return None  # the SQL store gives the answer, or the error and its hint
        if found is None:
            return None
        items = [record(record_type, row) for row in found["items"]]
        return Page(
            items=items, total=found["total"], limit=found["limit"], offset=found["offset"]
        )

    def list_runs(self, **filters: Any) -> Page[RunRecord]:
        from modelplane.metadata.records import RunRecord

        found = self._read_page(RunRecord, "list_runs", **filters)
        return self.full.list_runs(**filters) if found is None else found  # type: ignore[no-any-return]

    def create_step_run(self, **arguments: Any) -> Any:
        from modelplane.metadata.records import StepRunRecord

        local = {key: value for key, value in arguments.items() if key != "links"}
        links = arguments.get("links")
        work = (
            model_writes.create_step_run_with_links(links, **local)
            if links
            else run_writes.create_step_run(**local)
        )
        row = self._local(work)
        return self.full.create_step_run(**arguments) if row is _FULL else record(StepRunRecord, row)

    def finish_step_run(self, step_run_id: str, **arguments: Any) -> Any:
        from modelplane.metadata.records import StepRunRecord

        row = self._local(run_writes.finish_step_run(step_run_id, **arguments))
        if row is _FULL:
            return self.full.finish_step_run(step_run_id, **arguments)
        return record(StepRunRecord, row)

    def find_cached_step_run(self, cache_key: str) -> Any:
        from modelplane.metadata.records import StepRunRecord

        row = self._local(run_writes.find_cached_step_run(cache_key), write=False)
        if row is _FULL:
            return self.full.find_cached_step_run(cache_key)
        return None if row is None else record(StepRunRecord, row)

    def create_artifact_version(self, **arguments: Any) -> Any:
        from modelplane.metadata.records import ArtifactVersionRecord

        row = self._local(run_writes.create_artifact_version(**arguments))
        if row is _FULL:
            return self.full.create_artifact_version(**arguments)
        return record(ArtifactVersionRecord, row)

    def get_artifact_version(self, artifact_version_id: str) -> Any:
        from modelplane.metadata.records import ArtifactVersionRecord

        def work(tx: run_writes.Transaction) -> Row:
            found = tx.rows("artifact_version.by_id", {"id": artifact_version_id})
            if not found:
                tx.missing("artifact version", artifact_version_id)
            return found[0]

        row = self._local(work, write=False)
        if row is _FULL:
            return self.full.get_artifact_version(artifact_version_id)
        return record(ArtifactVersionRecord, row)

    def complete_step_run(
        self,
        step_run_id: str,
        *,
        artifacts: Sequence[Any] = (),
        links: Sequence[Any] = (),
        logs: str | None = None,
    ) -> CompletedStep:
        from modelplane.metadata.records import ArtifactVersionRecord, CompletedStep, StepRunRecord

        work = model_writes.complete_step_run(step_run_id, artifacts=artifacts, links=links, logs=logs)
        result = self._local(work)
        if result is _FULL:
            return self.full.complete_step_run(step_run_id, artifacts=artifacts, links=links, logs=logs)
        step_run, saved = result
        return CompletedStep(
            record(StepRunRecord, step_run),
            {output: record(ArtifactVersionRecord, row) for output, row in saved.items()},
        )

    # -- a model's versions and links ---------------------------------------------------------

    def ensure_model_version(self, model: str, version: Any, **arguments: Any) -> Any:
        from modelplane.metadata.records import EnsuredVersion, ModelVersionRecord

        found = self._local(model_writes.ensure_model_version(model, version, **arguments))
        if found is _FULL:
            return self.full.ensure_model_version(model, version, **arguments)
        row, created = found
        return EnsuredVersion(record(ModelVersionRecord, row), created)

    def create_model_version(self, model: str, **arguments: Any) -> Any:
        from modelplane.metadata.records import ModelVersionRecord

        row = self._local(model_writes.create_model_version(model, **arguments))
        if row is _FULL:
            return self.full.create_model_version(model, **arguments)
        return record(ModelVersionRecord, row)

    def link_artifact(self, model_version_id: str, artifact_version_id: str, **arguments: Any) -> Any:
        from modelplane.metadata.records import ArtifactLinkRecord

        work = model_writes.link_artifact(model_version_id, artifact_version_id, **arguments)
        row = self._local(work)
        if row is _FULL:
            return self.full.link_artifact(model_version_id, artifact_version_id, **arguments)
        return record(ArtifactLinkRecord, row)

    def list_artifact_links(self, model: str, version: Any, **filters: Any) -> Any:
        from modelplane.metadata.records import ArtifactLinkRecord

        found = self._read_page(ArtifactLinkRecord, "list_artifact_links", model, version, **filters)
        return self.full.list_artifact_links(model, version, **filters) if found is None else found

    def set_stage(self, model: str, version: Any, stage: Any, **arguments: Any) -> Any:
        from modelplane.metadata.records import ModelVersionRecord

        found = self._local(stage_writes.set_stage(model, version, stage, **arguments))
        if found is _FULL:
            return self.full.set_stage(model, version, stage, **arguments)
        row, refusal = found
        if refusal is not None:
            raise refusal  # pragma: no cover - gates go to the SQL store
        return record(ModelVersionRecord, row)

    # -- what a step logs ----------------------------------------------------------------------

    def log_metrics(self, points: Sequence[Any]) -> int:
        count = self._local(log_writes.log_metrics(points))
        return self.full.log_metrics(points) if count is _FULL else int(count)

    def add_metadata(self, target: Any, target_id: str, metadata: dict[str, Any], **arguments: Any) -> None:
        if self._local(log_writes.add_metadata(target, target_id, metadata, **arguments)) is _FULL:
            self.full.add_metadata(target, target_id, metadata, **arguments)

    # -- the store itself ----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
            self._path = None  # closed: every later call goes to the SQL store
            if self._full_store is not None:
                self._full_store.close()
                self._full_store = None

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # A copy sent to another process (a Ray task) opens the file again there.
        return (_reopen, (self.url, self.project))

    def __repr__(self) -> str:
        return f"LocalStore({self.url!r})"


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # a failed COMMIT may have rolled back already
        conn.execute("ROLLBACK")


def _reopen(url: str, project: str = DEFAULT_PROJECT) -> LocalStore:
    return LocalStore(url, project=project)
