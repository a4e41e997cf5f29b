"""How metadata merges, and what a step did to its model version, kept so a cache hit can do it again.

Metadata merges deeply: logging ``{"eval": {"auc": 0.9}}`` onto ``{"eval": {"f1": 0.8}}`` keeps
``eval.f1``; any other value (a list, a number) replaces the one before. Every backend merges here.

A step that logs metadata to its run's model version, or moves that version to a stage, passes its
step run id (``add_metadata(..., step_run_id=…)``, ``set_stage(..., step_run_id=…)``), and the same
transaction records the change in that step run's metadata under ``STEP_CHANGES_KEY``::

    {"model_version_changes": {"metadata": {...merged...}, "stages": [{"stage": "production", "force": true}]}}

A cache hit of that step (``create_step_run(..., cached_from=…, replay_to=…)``) merges the recorded
metadata into the new run's model version and copies the record onto the new step run, in the
transaction that creates it; the step runner then asks for the recorded stage moves again, through
the gates like any other move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.errors import NotFoundError
from modelplane.metadata.sql.rows import utcnow
from modelplane.metadata.sql.tables import model_versions, step_runs
from modelplane.metadata.store import STEP_CHANGES_KEY

__all__ = [
    "STEP_META",
    "STEP_CHANGES_KEY",
    "merge_metadata",
    "record_stage_request",
    "record_version_metadata",
    "replay_step_changes",
    "step_meta",
]


STEP_META = sa.select(step_runs.c.meta).where(step_runs.c.id == sa.bindparam("id"))


def merge_metadata(current: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` merged into ``current``: nested dicts key by key, every other value replaced."""
    merged = dict(current or {})
    for key, value in new.items():
        before = merged.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            merged[key] = merge_metadata(before, value)
        else:
            merged[key] = value
    return merged


def step_meta(
    conn: Connection, step_run_id: str, *, lock: bool = False, missing_ok: bool = False
) -> dict[str, Any]:
    """The step run's metadata (``{}`` for a step run that does not exist, with ``missing_ok``)."""
    query = STEP_META.with_for_update() if lock else STEP_META
    row = conn.execute(query, {"id": step_run_id}).first()
    if row is None and missing_ok:
        return {}
    if row is None:
        raise NotFoundError(
            f"Step run {step_run_id!r} does not exist.",
            hint="Pass the id of the step run making the change (get_step_context().step_run.id).",
        )
    return dict(row[0] or {})


def _write_step_meta(conn: Connection, step_run_id: str, meta: dict[str, Any]) -> None:
    conn.execute(step_runs.update().where(step_runs.c.id == step_run_id).values(meta=meta))


def record_version_metadata(conn: Connection, step_run_id: str, metadata: dict[str, Any]) -> None:
    """Note in the step run that it logged ``metadata`` to its model version."""
    meta = step_meta(conn, step_run_id, lock=True)
    changes = dict(meta.get(STEP_CHANGES_KEY) or {})
    changes["metadata"] = merge_metadata(changes.get("metadata"), metadata)
    meta[STEP_CHANGES_KEY] = changes
    _write_step_meta(conn, step_run_id, meta)


def record_stage_request(
    conn: Connection, step_run_id: str, stage: str, force: bool, reason: str | None
) -> None:
    """Note in the step run that it asked to move its model version to ``stage``."""
    meta = step_meta(conn, step_run_id, lock=True)
    changes = dict(meta.get(STEP_CHANGES_KEY) or {})
    request: dict[str, Any] = {"stage": stage, "force": bool(force)}
    if reason:
        request["reason"] = reason
    changes["stages"] = [*(changes.get("stages") or []), request]
    meta[STEP_CHANGES_KEY] = changes
    _write_step_meta(conn, step_run_id, meta)


def replay_step_changes(
    conn: Connection, source_step_run_id: str, new_step_run_id: str, model_version_id: str | None
) -> None:
    """A cache hit: merge what the cached step run logged to its model version into
    ``model_version_id`` and copy the record onto the new step run (the stage moves are asked for
    again by the caller, through the gates)."""
    changes = step_meta(conn, source_step_run_id, missing_ok=True).get(STEP_CHANGES_KEY)
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
