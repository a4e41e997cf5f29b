"""The writes a pipeline run makes, written once over a transaction of declared statements.

A run records itself a few times (its pipeline, its start, its end) and each step twice (it
started; its outputs and completion), so these writes are what a pipeline costs. Each operation
here is written once: its argument checks, which run before any query so that bad input changes
nothing, then its work, a function of one ``Transaction``. A transaction runs statements by the
name ``metadata.sql.run_statements`` declares them under, finds a model or version the way the
reads do (``model``, ``version``), and explains a name or id that matches nothing (``missing``);
the SQL store runs them with SQLAlchemy's compiled statements on every dialect. A model's writes
(``metadata.model_writes``), what a step logs (``metadata.log_writes``) and a promotion
(``metadata.stage_writes``) run over the same transactions. The rows returned are shaped like the
records (``RunRecord``…); callers make records.

No SQLAlchemy here, so that a local store can run the same writes without it, as the light reader
(``metadata.light``) runs the same reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol

from modelplane.enums import ExecutionStatus
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.arguments import (
    check_dict,
    check_ids,
    check_tags,
    check_text,
    parse_finished_status,
    parse_kind,
)
from modelplane.metadata.reads import MAX_INT, Row, looks_like_id, parse_status
from modelplane.versioning import check_name

__all__ = [
    "SILENT_BEATS",
    "Transaction",
    "Work",
    "create_artifact_version",
    "create_run",
    "create_step_run",
    "find_cached_step_run",
    "first",
    "finish_run",
    "finish_step_run",
    "heartbeat_run",
    "new_id",
    "reap_abandoned_runs",
    "save_pipeline",
]

# A run that misses this many heartbeats in a row is taken for lost (10 minutes at the default 30 s).
SILENT_BEATS = 20
_RUNNING = ExecutionStatus.RUNNING.value


class Transaction(Protocol):
    """One open transaction of a store, running the statements declared for these writes."""

    # Whether an UPDATE can return what it wrote (SQLite ≥ 3.35, PostgreSQL): one statement.
    update_returning: bool

    def rows(self, name: str, params: Mapping[str, Any]) -> list[Row]:
        """The rows the statement declared as ``name`` gives, as dicts keyed by column."""

    def execute(self, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Run a declared INSERT, UPDATE or DELETE once, or once per row of a list; rows touched."""

    def now(self) -> datetime:
        """The store's time, the same for the whole transaction."""

    def existing_artifact_versions(self, ids: set[str]) -> set[str]:
        """Those of ``ids`` that are stored artifact versions."""

    def missing(self, kind: str, key: str) -> NoReturn:
        """Raise the error for a ``kind`` (``run``, ``step run``, ``pipeline``, ``model
        version``) named ``key`` that matches nothing: ``NotFoundError`` saying what exists."""

    def model(self, model: str, *, lock: bool = False) -> Row:
        """The model named (or with id) ``model``; ``NotFoundError`` saying what exists. ``lock``
        holds its row until commit."""

    def version(self, model: str, version: Any, *, lock: bool = False) -> Row:
        """The version ``version`` (number, stage, name, ``latest`` or id) of ``model``, shaped
        like ``ModelVersionRecord``; ``NotFoundError`` saying what exists."""

    def inserted_id(self, name: str, params: Mapping[str, Any]) -> Any:
        """Run a declared INSERT of one row; the key the database gave it (autoincrement)."""

    def replay(self, cached_from: str, step_run_id: str, run_id: str, replay_to: str | None) -> dict[str, Any]:
        """Repeat, for the new cache hit ``step_run_id``, what the step run it reuses recorded
        besides its outputs (metadata, metric points, stage changes); its metadata after."""


Work = Callable[[Transaction], Any]


def first(tx: Transaction, name: str, params: Mapping[str, Any]) -> Row | None:
    """The first row the statement declared as ``name`` gives, or ``None``."""
    found = tx.rows(name, params)
    return found[0] if found else None


def new_id() -> str:
    return uuid.uuid4().hex


def _find(tx: Transaction, kind: str, statement: str, key: str) -> Row:
    """The row of a run with id or name ``key`` (by id first when it looks like one)."""
    row = first(tx, f"{statement}.by_id", {"key": key}) if looks_like_id(key) else None
    if row is None:
        row = first(tx, f"{statement}.by_name", {"key": key})
    if row is None:
        tx.missing(kind, key)
    return row


def _check_links(links: Mapping[str, str] | None, what: str) -> dict[str, str]:
    links = dict(links or {})
    for name, av_id in links.items():
        check_name(name, what)
        if not isinstance(av_id, str):
            raise InvalidInputError(
                f"The {what} {name!r} must map to an artifact version id, not {av_id!r}.",
                hint="Pass the id (a string) of a stored artifact version.",
            )
    return links


def _link_rows(step_run_id: str, direction: str, links: Mapping[str, str]) -> list[Row]:
    return [
        {"step_run_id": step_run_id, "direction": direction, "name": name, "artifact_version_id": av_id}
        for name, av_id in links.items()
    ]


def _artifact_versions_exist(tx: Transaction, ids: Sequence[str], what: str) -> None:
    wanted = set(ids)
    if not wanted:
        return
    missing = sorted(wanted - tx.existing_artifact_versions(wanted))
    if missing:
        raise NotFoundError(
            f"The {what} names artifact version {missing[0]!r}, which does not exist.",
            hint="Pass the id of a stored artifact version (it may have been deleted).",
        )


# -- pipelines and runs ---------------------------------------------------------------------------


def save_pipeline(name: str, spec: Mapping[str, Any]) -> Work:
    """Create the pipeline ``name``, or replace its spec."""
    check_name(name, "pipeline")
    checked = check_dict(spec, "pipeline spec")

    def work(tx: Transaction) -> Row:
        now = tx.now()
        row = first(tx, "pipeline.by_name", {"key": name})
        if row is None:
            values = {"id": new_id(), "name": name, "spec": checked, "created": now, "updated": now}
            tx.execute("pipeline.insert", values)
            return values
        tx.execute("pipeline.update", {"b_id": row["id"], "spec": checked, "updated": now})
        return {**row, "spec": checked, "updated": now}

    return work


def create_run(
    *,
    pipeline_id: str,
    name: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    orchestrator: str = "local",
    model_version_id: str | None = None,
    linked_versions: Sequence[str] = (),
    discard_on_failure: Sequence[str] = (),
    host: str | None = None,
    pid: int | None = None,
    heartbeat_seconds: float | None = None,
) -> Work:
    """Start a run of a pipeline, linked to the model versions it works for."""
    if name is not None:
        check_name(name, "run")
    check_name(orchestrator, "orchestrator")
    check_text(orchestrator, "orchestrator name", 64)
    if host is not None:
        check_text(host, "run host", 255)
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
        raise InvalidInputError(
            f"The run's pid must be a positive integer, not {pid!r}.",
            hint="Pass os.getpid() of the process driving the run, or leave it out.",
        )
    if heartbeat_seconds is not None and (
        isinstance(heartbeat_seconds, bool)
        or not isinstance(heartbeat_seconds, (int, float))
        or not heartbeat_seconds > 0
    ):
        raise InvalidInputError(
            f"The run's heartbeat_seconds must be a positive number, not {heartbeat_seconds!r}.",
            hint="Pass how often the process driving the run beats, or leave it out.",
        )
    linked = check_ids(linked_versions, "linked_versions (versions linked to the run)")
    doomed = check_ids(
        discard_on_failure, "discard_on_failure (versions to discard when the run fails)"
    )
    values: dict[str, Any] = {
        "heartbeat_seconds": None if heartbeat_seconds is None else float(heartbeat_seconds),
        "discard_on_failure": doomed,
        "parameters": check_dict(parameters, "run parameters"),
        "config": check_dict(config, "run config"),
        "extra": check_dict(extra, "run extra"),
        "orchestrator": orchestrator,
        "status": _RUNNING,
        "model_version_id": model_version_id,
        "host": host,
        "pid": pid,
    }
    versions = list(dict.fromkeys([*([model_version_id] if model_version_id else []), *linked]))

    def work(tx: Transaction) -> Row:
        pipeline = first(tx, "pipeline.by_name", {"key": pipeline_id})
        if pipeline is None and looks_like_id(pipeline_id):
            pipeline = first(tx, "pipeline.by_id", {"key": pipeline_id})
        if pipeline is None:
            tx.missing("pipeline", pipeline_id)
        for version_id in sorted({*versions, *doomed}):
            if not tx.rows("model_version.exists", {"key": version_id}):
                tx.missing("model version", version_id)
        now = tx.now()
        run_id = new_id()
        run_name = name or f"{pipeline['name'][:200]}-{now:%Y_%m_%d-%H_%M_%S}-{run_id[:6]}"
        if name is not None and tx.rows("run.name_taken", {"name": name}):
            raise AlreadyExistsError(
                f"A run named {name!r} already exists.", hint="Pick another run name."
            )
        row = {
            **values,
            "id": run_id,
            "name": run_name,
            "pipeline_id": pipeline["id"],
            "created": now,
            "heartbeat": now,
            "ended": None,
            "error": None,
        }
        tx.execute("run.insert", row)
        tx.execute(
            "run.link_version",
            [{"model_version_id": v, "run_id": run_id, "created": now} for v in versions],
        )
        return {**row, "pipeline_name": pipeline["name"]}

    return work


def _fail(tx: Transaction, row: Row, error: str | None) -> Row:
    """Fail a running run and its running step runs, and delete the versions it created that
    were asked to go with a failure. The caller holds the run's row lock."""
    values = {"status": ExecutionStatus.FAILED.value, "ended": tx.now(), "error": error}
    tx.execute("run.finish", {"b_id": row["id"], **values})
    tx.execute("run.fail_steps", {"b_run_id": row["id"], **values})
    # Links go by CASCADE; stage history stays with model_version_id set NULL.
    tx.execute("model_version.delete", [{"id": v} for v in row["discard_on_failure"] or []])
    return values


def finish_run(run_id: str, status: ExecutionStatus, error: str | None = None) -> Work:
    """End a run: completed, or failed (with what failing a run brings, ``_fail``)."""
    parsed = parse_finished_status(status)

    def work(tx: Transaction) -> Row:
        row = _find(tx, "run", "run.locked", run_id)
        if parsed is ExecutionStatus.FAILED:
            values = _fail(tx, row, error)
        else:
            values = {"status": parsed.value, "ended": tx.now(), "error": error}
            tx.execute("run.finish", {"b_id": row["id"], **values})
        return {**row, **values}

    return work


def heartbeat_run(run_id: str) -> Work:
    """Say that the process driving a running run is alive, by the store's clock."""

    def work(tx: Transaction) -> None:
        row = _find(tx, "run", "run", run_id)
        tx.execute("run.beat", {"b_id": row["id"], "heartbeat": tx.now()})

    return work


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _silent_too_long(row: Row, now: datetime) -> bool:
    if row["heartbeat"] is None or not row["heartbeat_seconds"]:
        return False
    return now - row["heartbeat"] > timedelta(seconds=SILENT_BEATS * float(row["heartbeat_seconds"]))


def reap_abandoned_runs(*, gone: Sequence[str] = (), reaper: str | None = None) -> Work:
    """Fail the runs still running whose process is ``gone`` (seen by the caller on its host) or
    that have been silent for ``SILENT_BEATS`` heartbeats by the store's clock."""
    gone_ids = check_ids(gone, "gone (runs whose process is gone)")
    by = check_text(reaper, "reaper name", 255) or "modelplane"

    def work(tx: Transaction) -> list[Row]:
        now = tx.now()
        candidates: dict[str, str] = {}
        for row in tx.rows("runs.beating", {}):
            if _silent_too_long(row, now):
                candidates[row["id"]] = (
                    f"Abandoned: process {row['pid']} on {row['host']} sent no heartbeat since "
                    f"{_stamp(row['heartbeat'])} (its machine or container was lost, or it hung)."
                )
        for run_id in gone_ids:
            row = first(tx, "run.by_id", {"key": run_id}) or first(tx, "run.by_name", {"key": run_id})
            if row is not None and row["status"] == _RUNNING and row["id"] not in candidates:
                candidates[row["id"]] = (
                    f"Abandoned: process {row['pid']} on {row['host']}, which was running this "
                    "pipeline, ended without finishing the run (it was killed or crashed)."
                )
        reaped = []
        for run_id, why in sorted(candidates.items()):
            row = _find(tx, "run", "run.locked", run_id)  # re-read under the lock
            if row["status"] != _RUNNING:
                continue
            values = _fail(tx, row, f"{why} Marked failed at {_stamp(now)} by {by}.")
            reaped.append({**row, **values})
        return reaped

    return work


# -- step runs ------------------------------------------------------------------------------------


def _check_step_run_id(value: str | None) -> str | None:
    if value is not None and not looks_like_id(value):
        raise InvalidInputError(
            f"cached_from={value!r} is not a step run id.",
            hint="Pass the id of the step run whose outputs the cache hit reuses.",
        )
    return value


def create_step_run(
    *,
    run_id: str,
    name: str,
    step_name: str,
    status: ExecutionStatus = ExecutionStatus.RUNNING,
    cache_key: str | None = None,
    source_hash: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    inputs: Mapping[str, str] | None = None,
    upstream: Sequence[str] = (),
    outputs: Mapping[str, str] | None = None,
    cached_from: str | None = None,
    replay_to: str | None = None,
) -> Work:
    """Record a step run of a run, with its input and output artifact versions; a cache hit
    (``cached_from``) repeats what the step run it reuses recorded (``Transaction.replay``)."""
    if replay_to is not None and cached_from is None:
        raise InvalidInputError(
            f"replay_to={replay_to!r} is given for step run {name!r}, which is not a cache hit.",
            hint="Pass cached_from= (the step run whose changes are replayed) with replay_to=.",
        )
    check_name(name, "step run")
    check_name(step_name, "step")
    parsed = parse_status(status)
    ins, outs = _check_links(inputs, "step input"), _check_links(outputs, "step output")
    values: dict[str, Any] = {
        "name": name,
        "step_name": step_name,
        "status": parsed.value,
        "cache_key": check_text(cache_key, "cache key", 128),
        "source_hash": check_text(source_hash, "source hash", 128),
        "parameters": check_dict(parameters, "step parameters"),
        "upstream": [check_name(item, "upstream step") for item in upstream],
        "cached_from": _check_step_run_id(cached_from),
    }

    def work(tx: Transaction) -> Row:
        params = {"key": run_id, "name": name}
        run = first(tx, "step_run.run.by_id", params) if looks_like_id(run_id) else None
        if run is None:
            run = first(tx, "step_run.run.by_name", params)
        if run is None:
            tx.missing("run", run_id)
        _artifact_versions_exist(tx, [*ins.values(), *outs.values()], f"step run {name!r}")
        if run["taken"]:
            raise AlreadyExistsError(
                f"Run {run['name']!r} already has a step run {name!r}.",
                hint="Give each step invocation in a run its own name.",
            )
        now = tx.now()
        row = {
            **values,
            "id": new_id(),
            "run_id": run["id"],
            "meta": {},
            "created": now,
            "ended": now if parsed.is_finished else None,
        }
        tx.execute("step_run.insert", row)
        tx.execute("step_run.link", _link_rows(row["id"], "input", ins) + _link_rows(row["id"], "output", outs))
        row.pop("meta")
        metadata: dict[str, Any] = {}
        if values["cached_from"] is not None:
            metadata = tx.replay(values["cached_from"], row["id"], run["id"], replay_to)
        return {**row, "inputs": ins, "outputs": outs, "metadata": metadata}

    return work


def finish_step_run(
    step_run_id: str,
    *,
    status: ExecutionStatus,
    outputs: Mapping[str, str] | None = None,
    logs: str | None = None,
    error: str | None = None,
    outputs_created: bool = False,
) -> Work:
    """End a step run, adding (or replacing) outputs; ``logs=None`` keeps what was written.
    ``outputs_created``: the outputs were created in this transaction (no need to look them up)."""
    parsed = parse_finished_status(status)
    outs = _check_links(outputs, "step output")

    def work(tx: Transaction) -> Row:
        values: dict[str, Any] = {"status": parsed.value, "ended": tx.now(), "error": error}
        finish = "step_run.finish" if logs is None else "step_run.finish_with_logs"
        params = {"b_id": step_run_id, **values, **({} if logs is None else {"logs": logs})}
        if tx.update_returning:  # the row, locked and updated, in one statement
            row = first(tx, f"{finish}.returning", params)
        else:
            row = first(tx, "step_run.locked", {"id": step_run_id})
            if row is not None:
                tx.execute(finish, params)
        if row is None:
            tx.missing("step run", step_run_id)
        if not outputs_created:
            _artifact_versions_exist(tx, list(outs.values()), f"step run {row['name']!r}")
        links: dict[str, dict[str, str | None]] = {"input": {}, "output": {}}
        for link in tx.rows("step_run.links", {"id": row["id"]}):
            links[link["direction"]][link["name"]] = link["artifact_version_id"]
        replaced = [link_name for link_name in outs if link_name in links["output"]]
        tx.execute(
            "step_run.unlink_output",
            [{"b_step_run_id": row["id"], "b_name": link_name} for link_name in replaced],
        )
        tx.execute("step_run.link", _link_rows(row["id"], "output", outs))
        links["output"].update(outs)
        found = {d: {k: v for k, v in named.items() if v is not None} for d, named in links.items()}
        return {**row, **values, "inputs": found["input"], "outputs": found["output"]}

    return work


def find_cached_step_run(cache_key: str) -> Work:
    """The newest finished step run with ``cache_key`` whose outputs all still exist, or None."""

    def work(tx: Transaction) -> Row | None:
        row = first(tx, "step_run.cached", {"cache_key": cache_key})
        if row is None:
            return None
        links: dict[str, dict[str, str]] = {"input": {}, "output": {}}
        for link in tx.rows("step_run.links", {"id": row["id"]}):
            if link["artifact_version_id"] is not None:
                links[link["direction"]][link["name"]] = link["artifact_version_id"]
        return {**row, "inputs": links["input"], "outputs": links["output"]}

    return work


# -- artifact versions ----------------------------------------------------------------------------


def create_artifact_version(
    *,
    id: str,
    name: str,
    type: Any,
    materializer: str,
    data_type: str,
    uri: str,
    content_hash: str,
    size: int,
    producer_step_run_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> Work:
    """Record the next version of artifact ``name`` (numbered in the store, 1, 2, 3…)."""
    if not looks_like_id(id):
        raise InvalidInputError(
            f"The artifact version id {id!r} is not 32 lowercase hex digits.",
            hint="Use uuid.uuid4().hex.",
        )
    check_name(name, "artifact")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_INT:
        raise InvalidInputError(
            f"The artifact size {size!r} is not a byte count.", hint="Pass an int ≥ 0."
        )
    values: dict[str, Any] = {
        "id": id,
        "type": parse_kind(type).value,
        "materializer": materializer,
        "data_type": data_type,
        "uri": uri,
        "content_hash": check_text(content_hash, "content hash", 128),
        "size": size,
        "producer_step_run_id": producer_step_run_id,
        "meta": check_dict(metadata, "artifact metadata"),
        "tags": check_tags(tags),
    }

    def work(tx: Transaction) -> Row:
        params = {"id": id, "producer": producer_step_run_id, "name": name}
        id_taken, producer_found, artifact_id = tx.rows("artifact_version.precheck", params)[0].values()
        if id_taken:
            raise AlreadyExistsError(
                f"An artifact version with id {id!r} already exists.",
                hint="Use a fresh uuid.uuid4().hex.",
            )
        if producer_step_run_id is not None and not producer_found:
            tx.missing("step run", producer_step_run_id)
        if artifact_id is None:
            # A concurrent creator of the same name makes this INSERT fail on the unique key; the
            # transaction then runs again and its first query finds the winner's row.
            artifact_id = new_id()
            tx.execute(
                "artifact.insert",
                {"id": artifact_id, "name": name, "last_version": 0, "created": tx.now()},
            )
        if tx.update_returning:
            number = tx.rows("artifact.bump_returning", {"b_id": artifact_id})[0]["last_version"]
        else:
            tx.execute("artifact.bump", {"b_id": artifact_id})
            number = tx.rows("artifact.last_version", {"id": artifact_id})[0]["last_version"]
        row = {**values, "artifact_id": artifact_id, "version": int(number), "created": tx.now()}
        tx.execute("artifact_version.insert", row)
        return {**row, "name": name, "metadata": row["meta"]}

    return work
