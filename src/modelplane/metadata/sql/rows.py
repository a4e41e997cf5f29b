"""The SELECTs that feed each record type, and the conversion of their rows into records.

Records of a listing are built from a fixed number of queries (never one per item).
"""

from __future__ import annotations

from contextvars import ContextVar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.metadata.run_writes import new_id
from modelplane.metadata.records import (
    ArtifactRecord,
    ArtifactVersionRecord,
    ModelRecord,
    ModelVersionRecord,
    Page,
    RunRecord,
    StageChangeRecord,
    StepRunRecord,
)
from modelplane.metadata.sql.tables import (
    artifact_versions,
    artifacts,
    model_version_artifacts,
    model_versions,
    models,
    pipeline_runs,
    pipelines,
    stage_changes,
    step_run_artifacts,
    step_runs,
)

__all__ = [
    "ARTIFACT_VERSION_SELECT",
    "LINK_SELECT",
    "MODEL_VERSION_SELECT",
    "RUN_SELECT",
    "STAGE_CHANGE_SELECT",
    "STEP_RUN_SELECT",
    "TRANSACTION_TIME",
    "artifact_records",
    "artifact_version_record",
    "count",
    "model_records",
    "model_version_record",
    "new_id",
    "page",
    "records_page",
    "run_record",
    "stage_change_record",
    "step_run_records",
    "tag_filter",
    "utcnow",
]

RUN_SELECT = sa.select(pipeline_runs, pipelines.c.name.label("pipeline_name")).join(
    pipelines, pipelines.c.id == pipeline_runs.c.pipeline_id
)
# Logs can be megabytes; only get_step_logs reads them.
STEP_RUN_SELECT = sa.select(*(c for c in step_runs.c if c.name != "logs"))
ARTIFACT_VERSION_SELECT = sa.select(artifact_versions, artifacts.c.name).join(
    artifacts, artifacts.c.id == artifact_versions.c.artifact_id
)
MODEL_VERSION_SELECT = sa.select(model_versions, models.c.name.label("model_name")).join(
    models, models.c.id == model_versions.c.model_id
)
STAGE_CHANGE_SELECT = sa.select(stage_changes, models.c.name.label("model_name")).join(
    models, models.c.id == stage_changes.c.model_id
)
LINK_SELECT: sa.Select[Any] = (
    sa.select(
        model_version_artifacts.c.id.label("link_id"),
        model_version_artifacts.c.model_version_id.label("link_model_version_id"),
        model_version_artifacts.c.name.label("link_name"),
        model_version_artifacts.c.kind.label("link_kind"),
        model_version_artifacts.c.created.label("link_created"),
        artifact_versions,
        artifacts.c.name,
    )
    .join(
        artifact_versions, artifact_versions.c.id == model_version_artifacts.c.artifact_version_id
    )
    .join(artifacts, artifacts.c.id == artifact_versions.c.artifact_id)
)

# Built once with bind parameters (see resolve.py for why).
_STEP_RUN_LINKS = sa.select(
    step_run_artifacts.c.step_run_id,
    step_run_artifacts.c.direction,
    step_run_artifacts.c.name,
    step_run_artifacts.c.artifact_version_id,
).where(
    step_run_artifacts.c.step_run_id.in_(sa.bindparam("ids", expanding=True)),
    step_run_artifacts.c.artifact_version_id.is_not(None),
)
_MODEL_STATS = (
    sa.select(model_versions.c.model_id, sa.func.max(model_versions.c.number), sa.func.count())
    .where(model_versions.c.model_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(model_versions.c.model_id)
)
_ARTIFACT_STATS = (
    sa.select(
        artifact_versions.c.artifact_id, sa.func.max(artifact_versions.c.version), sa.func.count()
    )
    .where(artifact_versions.c.artifact_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(artifact_versions.c.artifact_id)
)


# The time of the transaction running in this thread: every row one transaction writes carries
# the same time (a forced swap's two stage moves, a step's outputs and completion). Set by
# ``transactions.StoreCore`` from the store's clock.
TRANSACTION_TIME: ContextVar[datetime | None] = ContextVar("modelplane_transaction_time", default=None)


def utcnow() -> datetime:
    """The store's time: that of the current transaction."""
    return TRANSACTION_TIME.get() or datetime.now(timezone.utc)


def page(items: list[Any], total: int, limit: int, offset: int) -> Page[Any]:
    return Page(items=items, total=total, limit=limit, offset=offset)


def records_page(kind: type[Any], found: dict[str, Any]) -> Page[Any]:
    """A page from ``metadata.reads`` (rows shaped like ``kind``) as records."""
    items = [kind.model_validate(row) for row in found["items"]]
    return Page(items=items, total=found["total"], limit=found["limit"], offset=found["offset"])


def count(conn: Connection, query: sa.Select[Any]) -> int:
    """How many rows ``query`` matches, ignoring its order and paging."""
    inner = query.order_by(None).limit(None).offset(None).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())


def tag_filter(column: sa.Column[Any], tag: str, dialect: str) -> sa.ColumnElement[bool]:
    """``tag`` is an element of the JSON list in ``column``; there is no portable SQL for that."""
    if dialect == "postgresql":
        # Imported here: the PostgreSQL dialect module costs ~50 ms, which SQLite stores skip.
        from sqlalchemy.dialects import postgresql

        return sa.cast(column, postgresql.JSONB).contains(
            sa.cast(sa.func.json_build_array(tag), postgresql.JSONB)
        )
    if dialect in ("mysql", "mariadb"):
        return sa.func.json_contains(column, sa.func.json_quote(tag)) == 1
    element = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(1).select_from(element).where(element.c.value == tag))


def run_record(row: Row[Any]) -> RunRecord:
    return RunRecord.model_validate(dict(row._mapping))


def artifact_version_record(row: Row[Any]) -> ArtifactVersionRecord:
    return ArtifactVersionRecord.model_validate(dict(row._mapping))


def model_version_record(row: Row[Any]) -> ModelVersionRecord:
    return ModelVersionRecord.model_validate(dict(row._mapping))


def stage_change_record(row: Row[Any]) -> StageChangeRecord:
    return StageChangeRecord.model_validate(dict(row._mapping))


def step_run_records(conn: Connection, rows: Sequence[Row[Any]]) -> list[StepRunRecord]:
    """Records for ``rows`` of STEP_RUN_SELECT, with their inputs and outputs (one more query)."""
    if not rows:
        return []
    links: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: {"input": {}, "output": {}})
    ids = [row.id for row in rows]
    found = conn.execute(_STEP_RUN_LINKS, {"ids": ids})
    for step_run_id, direction, name, artifact_version_id in found:
        links[step_run_id][direction][name] = artifact_version_id
    return [
        StepRunRecord.model_validate(
            {**row._mapping, "inputs": links[row.id]["input"], "outputs": links[row.id]["output"]}
        )
        for row in rows
    ]


def model_records(conn: Connection, rows: Iterable[Row[Any]]) -> list[ModelRecord]:
    """Records for rows of ``models``, with version counts from one grouped query."""
    rows = list(rows)
    stats: dict[str, tuple[int | None, int]] = {}
    if rows:
        found = conn.execute(_MODEL_STATS, {"ids": [row.id for row in rows]})
        stats = {model_id: (latest, n) for model_id, latest, n in found}
    records = []
    for row in rows:
        latest, n = stats.get(row.id, (None, 0))
        records.append(
            ModelRecord.model_validate(
                {**row._mapping, "latest_version_number": latest, "version_count": n}
            )
        )
    return records


def artifact_records(conn: Connection, rows: Iterable[Row[Any]]) -> list[ArtifactRecord]:
    """Records for rows of ``artifacts``, with version counts from one grouped query."""
    rows = list(rows)
    stats: dict[str, tuple[int | None, int]] = {}
    if rows:
        found = conn.execute(_ARTIFACT_STATS, {"ids": [row.id for row in rows]})
        stats = {artifact_id: (latest, n) for artifact_id, latest, n in found}
    records = []
    for row in rows:
        latest, n = stats.get(row.id, (None, 0))
        records.append(
            ArtifactRecord.model_validate(
                {**row._mapping, "latest_version": latest, "version_count": n}
            )
        )
    return records
