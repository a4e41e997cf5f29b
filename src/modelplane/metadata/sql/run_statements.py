"""The statements of a pipeline run's writes (``metadata.run_writes``, ``metadata.model_writes``),
declared once, and the SQL store's transaction that runs them by name.

Every statement is built once here with bind parameters and runs through ``direct`` (compiled
once per dialect, on the driver's connection). INSERT and UPDATE statements name the columns
they set, so each has one SQL text whatever the dialect. Lookups that may take a row lock
(``FOR UPDATE``, nothing on SQLite) are declared under ``….locked``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ArtifactType, ExecutionStatus
from modelplane.errors import NotFoundError
from modelplane.metadata import log_writes, reads
from modelplane.metadata.reads import Row
from modelplane.metadata.sql import direct, queries
from modelplane.metadata.sql.resolve import (
    ARTIFACT_VERSION_EXISTS,
    MODEL_BY_ID,
    MODEL_BY_NAME,
    PIPELINE_BY_ID,
    PIPELINE_BY_NAME,
    RUN_BY_ID,
    RUN_BY_NAME,
    VERSION_BY_ID,
    find_model,
    find_pipeline,
    find_run,
    find_step_run,
    find_version,
    find_version_by_id,
    found_artifact_versions,
)
from modelplane.metadata.sql.rows import (
    ARTIFACT_VERSION_SELECT,
    LINK_SELECT,
    MODEL_VERSION_SELECT,
    RUN_SELECT,
    STEP_RUN_SELECT,
    utcnow,
)
from modelplane.metadata.store_types import MODEL_CARD_FIELDS
from modelplane.metadata.sql.tables import (
    artifact_versions,
    artifacts,
    metric_points,
    model_version_artifacts,
    model_version_runs,
    model_versions,
    models,
    pipeline_runs,
    pipelines,
    stage_changes,
    step_run_artifacts,
    step_runs,
    webhook_deliveries,
    webhooks,
)

__all__ = ["STATEMENTS", "SqlTransaction", "in_transaction"]

_RUNNING = ExecutionStatus.RUNNING.value


def _binds(table: sa.Table, keys: Sequence[str]) -> dict[sa.Column[Any], Any]:
    return {table.c[key]: sa.bindparam(key, type_=table.c[key].type) for key in keys}


def _insert(table: sa.Table, *keys: str) -> sa.Insert:
    return table.insert().values(_binds(table, keys))


def _update(table: sa.Table, *keys: str) -> sa.Update:
    """An UPDATE of the row with id ``b_id`` setting ``keys``."""
    return table.update().where(table.c.id == sa.bindparam("b_id")).values(_binds(table, keys))


_RUN_COLUMNS = (
    "id", "name", "pipeline_id", "status", "orchestrator", "parameters", "config", "extra",
    "model_version_id", "created", "ended", "error", "host", "pid", "heartbeat",
    "heartbeat_seconds", "discard_on_failure",
)
_STEP_RUN_COLUMNS = (
    "id", "run_id", "name", "step_name", "status", "cache_key", "source_hash", "parameters",
    "upstream", "cached_from", "meta", "created", "ended",
)
_ARTIFACT_VERSION_COLUMNS = (
    "id", "artifact_id", "version", "type", "materializer", "data_type", "uri", "content_hash",
    "size", "producer_step_run_id", "meta", "tags", "created",
)
_STAGE_CHANGE_COLUMNS = (
    "model_id", "model_version_id", "version_number", "version_name", "from_stage", "to_stage",
    "actor", "reason", "created", "kind",
)
_ARTIFACT_ID = sa.select(artifacts.c.id).where(artifacts.c.name == sa.bindparam("name"))
# The run a new step run belongs to, and whether the step name is taken in it: one query.
_STEP_NAME_TAKEN = (
    sa.select(step_runs.c.id)
    .where(step_runs.c.run_id == pipeline_runs.c.id, step_runs.c.name == sa.bindparam("name"))
    .exists()
)
# An output whose artifact version was deleted is still linked, with a NULL id (ON DELETE SET
# NULL); such a step run cannot serve a cache hit.
_LOST_OUTPUT = (
    sa.select(step_run_artifacts.c.id)
    .where(
        step_run_artifacts.c.step_run_id == step_runs.c.id,
        step_run_artifacts.c.direction == "output",
        step_run_artifacts.c.artifact_version_id.is_(None),
    )
    .exists()
)
_BUMP = (
    artifacts.update()
    .where(artifacts.c.id == sa.bindparam("b_id"))
    .values(last_version=artifacts.c.last_version + 1)
)
_BUMP_MODEL = (
    models.update()
    .where(models.c.id == sa.bindparam("b_id"))
    .values(last_version_number=models.c.last_version_number + 1)
)
_FINISH = _update(step_runs, "status", "ended", "error")
_FINISH_WITH_LOGS = _update(step_runs, "status", "ended", "error", "logs")
_VERSIONS_OF = MODEL_VERSION_SELECT.where(model_versions.c.model_id == sa.bindparam("model_id"))
_LINKS = model_version_artifacts.c


def _id_of(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table.c.id).where(table.c.id == sa.bindparam("id"))


def _meta_locked(column: sa.Column[Any]) -> sa.Select[Any]:
    """A row's metadata (as ``meta``), under its write lock."""
    return (
        sa.select(column.label("meta"))
        .where(column.table.c.id == sa.bindparam("id"))  # type: ignore[attr-defined]
        .with_for_update()
    )


_POINT_KEYS = ("key", "value", "step", "model_version_id", "run_id", "step_run_id", "created")
_SAME_LINK_NAME = sa.and_(
    _LINKS.model_version_id == sa.bindparam("mv_id"), _LINKS.name == sa.bindparam("name")
)


_POINTS = metric_points.c
_OF_VERSION = _POINTS.model_version_id == sa.bindparam("model_version_id")
# Each series' points, newest first (highest step; the later point among equal steps).
_RANKED = (
    sa.select(
        _POINTS.key,
        _POINTS.step,
        _POINTS.value,
        sa.func.row_number()
        .over(partition_by=_POINTS.key, order_by=(_POINTS.step.desc(), _POINTS.id.desc()))
        .label("rank"),
    )
    .where(_OF_VERSION)
    .subquery()
)


STATEMENTS: dict[str, Any] = {
    # pipelines
    "pipeline.by_name": PIPELINE_BY_NAME,
    "pipeline.by_id": PIPELINE_BY_ID,
    "pipeline.insert": _insert(pipelines, "id", "name", "spec", "created", "updated"),
    "pipeline.update": _update(pipelines, "spec", "updated"),
    # runs
    "run.by_id": RUN_BY_ID[False],
    "run.by_name": RUN_BY_NAME[False],
    "run.locked.by_id": RUN_BY_ID[True],
    "run.locked.by_name": RUN_BY_NAME[True],
    "run.name_taken": sa.select(pipeline_runs.c.id).where(
        pipeline_runs.c.name == sa.bindparam("name")
    ),
    "run.insert": _insert(pipeline_runs, *_RUN_COLUMNS),
    "run.link_version": _insert(model_version_runs, "model_version_id", "run_id", "created"),
    "run.finish": _update(pipeline_runs, "status", "ended", "error"),
    "run.fail_steps": step_runs.update()
    .where(step_runs.c.run_id == sa.bindparam("b_run_id"), step_runs.c.status == _RUNNING)
    .values(_binds(step_runs, ("status", "ended", "error"))),
    "run.beat": pipeline_runs.update()
    .where(pipeline_runs.c.id == sa.bindparam("b_id"), pipeline_runs.c.status == _RUNNING)
    .values(_binds(pipeline_runs, ("heartbeat",))),
    "runs.beating": RUN_SELECT.where(
        pipeline_runs.c.status == _RUNNING, pipeline_runs.c.heartbeat_seconds.is_not(None)
    ),
    "model_version.exists": VERSION_BY_ID[False],
    "model_version.delete": model_versions.delete().where(
        model_versions.c.id == sa.bindparam("id")
    ),
    # step runs
    "step_run.run.by_id": sa.select(
        pipeline_runs.c.id, pipeline_runs.c.name, _STEP_NAME_TAKEN.label("taken")
    ).where(pipeline_runs.c.id == sa.bindparam("key")),
    "step_run.run.by_name": sa.select(
        pipeline_runs.c.id, pipeline_runs.c.name, _STEP_NAME_TAKEN.label("taken")
    ).where(pipeline_runs.c.name == sa.bindparam("key")),
    "step_run.insert": _insert(step_runs, *_STEP_RUN_COLUMNS),
    "step_run.link": _insert(
        step_run_artifacts, "step_run_id", "direction", "name", "artifact_version_id"
    ),
    "step_run.locked": STEP_RUN_SELECT.where(step_runs.c.id == sa.bindparam("id")).with_for_update(),
    # Every link of one step run, deleted artifacts (NULL ids) included.
    "step_run.links": sa.select(
        step_run_artifacts.c.direction,
        step_run_artifacts.c.name,
        step_run_artifacts.c.artifact_version_id,
    ).where(step_run_artifacts.c.step_run_id == sa.bindparam("id")),
    "step_run.finish": _FINISH,
    "step_run.finish_with_logs": _FINISH_WITH_LOGS,
    "step_run.finish.returning": _FINISH.returning(*STEP_RUN_SELECT.selected_columns),
    "step_run.finish_with_logs.returning": _FINISH_WITH_LOGS.returning(
        *STEP_RUN_SELECT.selected_columns
    ),
    "step_run.unlink_output": step_run_artifacts.delete().where(
        step_run_artifacts.c.step_run_id == sa.bindparam("b_step_run_id"),
        step_run_artifacts.c.direction == "output",
        step_run_artifacts.c.name == sa.bindparam("b_name"),
    ),
    "step_run.cached": STEP_RUN_SELECT.where(
        step_runs.c.cache_key == sa.bindparam("cache_key"),
        # Not ``IN (…)``: a list is expanded at execution, and each statement here has one text.
        sa.or_(
            step_runs.c.status == ExecutionStatus.COMPLETED.value,
            step_runs.c.status == ExecutionStatus.CACHED.value,
        ),
        ~_LOST_OUTPUT,
    )
    .order_by(step_runs.c.created.desc(), step_runs.c.id.desc())
    .limit(1),
    # artifact versions: every check before the insert in one round trip (id free? producer
    # there? artifact row?), then the artifact's counter bumped (``RETURNING`` where it exists)
    "artifact_version.precheck": sa.select(
        sa.select(artifact_versions.c.id)
        .where(artifact_versions.c.id == sa.bindparam("id"))
        .exists(),
        sa.select(step_runs.c.id).where(step_runs.c.id == sa.bindparam("producer")).exists(),
        _ARTIFACT_ID.scalar_subquery(),
    ),
    "artifact.insert": _insert(artifacts, "id", "name", "last_version", "created"),
    "artifact.bump": _BUMP,
    "artifact.bump_returning": _BUMP.returning(artifacts.c.last_version),
    "artifact.last_version": sa.select(artifacts.c.last_version).where(
        artifacts.c.id == sa.bindparam("id")
    ),
    "artifact_version.insert": _insert(artifact_versions, *_ARTIFACT_VERSION_COLUMNS),
    # for the local store's transaction (``metadata.local_store``), which looks ids up one by one
    # and reads artifact versions and a cache hit's metadata without SQLAlchemy
    "artifact_version.exists": ARTIFACT_VERSION_EXISTS,
    "artifact_version.by_id": ARTIFACT_VERSION_SELECT.where(
        artifact_versions.c.id == sa.bindparam("id")
    ),
    "step_run.meta": sa.select(step_runs.c.meta.label("meta")).where(
        step_runs.c.id == sa.bindparam("id")
    ),
    # models and their versions (``metadata.model_writes``)
    "model.by_name": MODEL_BY_NAME[False],
    "model.by_id": MODEL_BY_ID[False],
    "model.insert": _insert(models, "id", "name", "tags", "created", "updated", *MODEL_CARD_FIELDS),
    "model.tag": _update(models, "tags", "updated"),
    "model.bump": _BUMP_MODEL,
    "model.bump_returning": _BUMP_MODEL.returning(models.c.last_version_number),
    "model.last_number": sa.select(models.c.last_version_number).where(
        models.c.id == sa.bindparam("id")
    ),
    "model_version.named": _VERSIONS_OF.where(model_versions.c.name == sa.bindparam("name")),
    "model_version.with_id": _VERSIONS_OF.where(model_versions.c.id == sa.bindparam("name")),
    "model_version.insert": _insert(
        model_versions, "id", "model_id", "number", "name", "description", "tags", "stage",
        "meta", "created", "updated", "created_by",
    ),  # fmt: skip
    "model_version.locked": VERSION_BY_ID[True],
    # links of model versions to artifact versions
    "link.same": LINK_SELECT.where(
        _SAME_LINK_NAME,
        _LINKS.artifact_version_id == sa.bindparam("av_id"),
        _LINKS.kind == sa.bindparam("kind"),
    ).limit(1),
    "link.delete_same_name": model_version_artifacts.delete().where(_SAME_LINK_NAME),
    "link.insert": _insert(
        model_version_artifacts, "id", "model_version_id", "artifact_version_id", "name", "kind",
        "created",
    ),  # fmt: skip
    # what a step logs (``metadata.log_writes``): metric points and the owners they name
    "metric_point.insert": _insert(metric_points, *_POINT_KEYS),
    # the points a step logged to its model version, which a cache hit of it logs again
    "metric_point.of_step_run": sa.select(metric_points.c.key, metric_points.c.value, metric_points.c.step)
    .where(
        metric_points.c.step_run_id == sa.bindparam("id"),
        metric_points.c.model_version_id.is_not(None),
    )
    .order_by(metric_points.c.id),
    "metric_owner.model_version_id": _id_of(model_versions),
    "metric_owner.run_id": _id_of(pipeline_runs),
    "metric_owner.step_run_id": _id_of(step_runs),
    # metadata, merged under the row's lock; a run keeps its own in ``extra``
    "model_version.meta.locked": _meta_locked(model_versions.c.meta),
    "model_version.set_meta": _update(model_versions, "meta", "updated"),
    "artifact_version.meta.locked": _meta_locked(artifact_versions.c.meta),
    "artifact_version.set_meta": _update(artifact_versions, "meta"),
    "step_run.meta.locked": _meta_locked(step_runs.c.meta),
    "step_run.set_meta": _update(step_runs, "meta"),
    "run.meta.locked": _meta_locked(pipeline_runs.c.extra),
    "run.set_meta": pipeline_runs.update()
    .where(pipeline_runs.c.id == sa.bindparam("b_id"))
    .values(extra=sa.bindparam("meta", type_=pipeline_runs.c.extra.type)),
    # stage moves (``metadata.stage_writes``)
    "model_version.holder": MODEL_VERSION_SELECT.where(
        model_versions.c.model_id == sa.bindparam("model_id"),
        model_versions.c.stage == sa.bindparam("stage"),
    )
    .limit(1)
    .with_for_update(of=model_versions),
    "model_version.set_stage": _update(model_versions, "stage", "updated"),
    "stage_change.insert": _insert(stage_changes, *_STAGE_CHANGE_COLUMNS),
    # a stage change's webhook deliveries (``metadata.event_writes``)
    "webhook.all": sa.select(webhooks.c.id, webhooks.c.model, webhooks.c.stages),
    "webhook_delivery.insert": _insert(
        webhook_deliveries, "id", "webhook_id", "stage_change_id", "event", "payload", "status",
        "attempts", "next_attempt", "created",
    ),  # fmt: skip
    # what gates read (``metadata.gate_reads``), also ``list_metric_series`` and comparison
    "metric_series.summary": sa.select(
        _POINTS.key,
        sa.func.count().label("count"),
        sa.func.min(_POINTS.value).label("min"),
        sa.func.max(_POINTS.value).label("max"),
    )
    .where(_OF_VERSION)
    .group_by(_POINTS.key)
    .order_by(_POINTS.key),
    "metric_series.last": sa.select(_RANKED.c.key, _RANKED.c.step, _RANKED.c.value).where(_RANKED.c.rank == 1),
    # the input signature of a version is that of its newest linked model artifact that has one
    "model_version.signatures": sa.select(artifact_versions.c.meta.label("meta"))
    .join(model_version_artifacts, model_version_artifacts.c.artifact_version_id == artifact_versions.c.id)
    .where(
        model_version_artifacts.c.model_version_id == sa.bindparam("version_id"),
        model_version_artifacts.c.kind == ArtifactType.MODEL.value,
    )
    .order_by(model_version_artifacts.c.created.desc()),
}

# What ``missing`` asks to explain a name or id that matched nothing: each raises NotFoundError.
_EXPLAIN = {
    "run": find_run,
    "step run": find_step_run,
    "pipeline": find_pipeline,
    "model version": find_version_by_id,
}


class SqlTransaction:
    """``run_writes.Transaction`` over one of the SQL store's open transactions."""

    __slots__ = ("conn", "update_returning")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.update_returning = bool(conn.dialect.update_returning)

    def rows(self, name: str, params: Mapping[str, Any]) -> list[Row]:
        return direct.rows(self.conn, STATEMENTS[name], params)

    def execute(self, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        return direct.execute(self.conn, STATEMENTS[name], params)

    def now(self) -> datetime:
        return utcnow()

    def existing_artifact_versions(self, ids: set[str]) -> set[str]:
        return found_artifact_versions(self.conn, ids)

    def missing(self, kind: str, key: str) -> NoReturn:
        _EXPLAIN[kind](self.conn, key)
        # Found now, though the lookup before did not see it (another writer, between the two).
        raise NotFoundError(f"The {kind} {key!r} does not exist.", hint="Retry the call.")

    def model(self, model: str, *, lock: bool = False) -> Row:
        return dict(find_model(self.conn, model, lock=lock)._mapping)

    def version(self, model: str, version: Any, *, lock: bool = False) -> Row:
        if lock:
            found = find_version(self.conn, find_model(self.conn, model), version, lock=True)
            return dict(found._mapping)

        def run(name: str, variant: Mapping[str, Any], params: Mapping[str, Any]) -> list[Row]:
            statement = queries.statement(name, self.conn.dialect.name, dict(variant))
            return direct.rows(self.conn, statement, params)

        try:
            return reads.get_model_version(run, model, version)
        except reads.Missing:  # a model id, or nothing: the full lookup explains what exists
            return dict(find_version(self.conn, find_model(self.conn, model), version)._mapping)

    def replay(
        self, cached_from: str, step_run_id: str, run_id: str, replay_to: str | None
    ) -> dict[str, Any]:
        return log_writes.replay(self, cached_from, step_run_id, run_id, replay_to)


    def inserted_id(self, name: str, params: Mapping[str, Any]) -> Any:
        inserted = self.conn.execute(STATEMENTS[name], params)
        return inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None


def in_transaction(work: Any) -> Any:
    """``work`` (a ``run_writes`` operation's) as a function of the SQL store's connection, for
    ``StoreCore.write``."""
    return lambda conn: work(SqlTransaction(conn))
