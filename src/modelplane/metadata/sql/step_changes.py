"""What a step did to its model version, done again for a cache hit of the step.

A step that logs metadata to its run's model version, or moves that version to a stage, passes its
step run id (``add_metadata(..., step_run_id=…)``, ``set_stage(..., step_run_id=…)``), and the same
transaction records the change in that step run's metadata under ``STEP_CHANGES_KEY``
(``metadata.log_writes.note_step_change``)::

    {"model_version_changes": {"metadata": {...merged...}, "stages": [{"stage": "production", "force": true}]}}

A cache hit of that step (``create_step_run(..., cached_from=…, replay_to=…)``) merges the recorded
metadata into the new run's model version and copies the record onto the new step run, in the
transaction that creates it; the step runner then asks for the recorded stage moves again, through
the gates like any other move. The metric points the step logged to its version are copied to the
new run's version in the same transaction (``replay_metric_points``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.errors import NotFoundError
from modelplane.metadata.log_writes import merge_metadata
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.rows import utcnow
from modelplane.metadata.sql.tables import metric_points, model_versions, step_runs
from modelplane.metadata.store import STEP_CHANGES_KEY

__all__ = [
    "STEP_META",
    "STEP_CHANGES_KEY",
    "POINT_INSERT",
    "merge_metadata",
    "replay_metric_points",
    "replay_step_changes",
    "step_meta",
]


STEP_META = sa.select(step_runs.c.meta).where(step_runs.c.id == sa.bindparam("id"))


def step_meta(conn: Connection, step_run_id: str) -> dict[str, Any]:
    """The step run's metadata (``{}`` for a step run that does not exist)."""
    row = conn.execute(STEP_META, {"id": step_run_id}).first()
    return {} if row is None else dict(row[0] or {})


def _write_step_meta(conn: Connection, step_run_id: str, meta: dict[str, Any]) -> None:
    conn.execute(step_runs.update().where(step_runs.c.id == step_run_id).values(meta=meta))


def replay_step_changes(
    conn: Connection, source_step_run_id: str, new_step_run_id: str, model_version_id: str | None
) -> None:
    """A cache hit: merge what the cached step run logged to its model version into
    ``model_version_id`` and copy the record onto the new step run (the stage moves are asked for
    again by the caller, through the gates)."""
    changes = step_meta(conn, source_step_run_id).get(STEP_CHANGES_KEY)
    if not isinstance(changes, Mapping) or not changes:
        return
    _write_step_meta(conn, new_step_run_id, {STEP_CHANGES_KEY: dict(changes)})
    logged = changes.get("metadata")
    if model_version_id is None or not isinstance(logged, Mapping) or not logged:
        return
    row = conn.execute(
        sa.select(model_versions.c.meta)
        .where(model_versions.c.id == model_version_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(
            f"Model version {model_version_id!r} does not exist.",
            hint="Pass the id of the run's model version as replay_to.",
        )
    conn.execute(
        model_versions.update()
        .where(model_versions.c.id == model_version_id)
        .values(meta=merge_metadata(row[0], logged), updated=utcnow())
    )


# One statement for every backend and every caller: a step's points (``log_writes``) and a
# cache hit's copies of them.
POINT_INSERT = metric_points.insert().values(
    {
        metric_points.c[key]: sa.bindparam(key, type_=metric_points.c[key].type)
        for key in ("key", "value", "step", "model_version_id", "run_id", "step_run_id", "created")
    }
)


def replay_metric_points(
    conn: Connection,
    cached_from: str,
    step_run_id: str,
    run_id: str,
    model_version_id: str | None,
) -> None:
    """A cache hit's copy of the series its original step logged (to its own model version), for
    this run's version: a re-run leaves the new version with the curves the first run drew."""
    if model_version_id is None:
        return
    points = metric_points.c
    rows = conn.execute(
        sa.select(points.key, points.value, points.step)
        .where(points.step_run_id == cached_from, points.model_version_id.is_not(None))
        .order_by(points.id)
    ).all()
    now = utcnow()
    copies = [
        {
            "key": key, "value": value, "step": step, "model_version_id": model_version_id,
            "run_id": run_id, "step_run_id": step_run_id, "created": now,
        }
        for key, value, step in rows
    ]  # fmt: skip
    direct.execute(conn, POINT_INSERT, copies)
