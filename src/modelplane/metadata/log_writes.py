"""What a step logs, written once over a ``run_writes.Transaction``: metric points and metadata.

``log_metrics`` and ``log_metadata`` are what a training step calls in its loop and at its end, so,
like a run's own writes (``metadata.run_writes``), each operation here is its argument checks (run
before any query: bad input changes nothing) and then its work, a function of one transaction.
The SQL store runs them on every dialect; the local SQLite store (``metadata.local_store``) runs
them without SQLAlchemy.

Metadata merges deeply: logging ``{"eval": {"auc": 0.9}}`` onto ``{"eval": {"f1": 0.8}}`` keeps
``eval.f1``; any other value (a list, a number) replaces the one before. What a step logs to its
run's model version (``step_run_id=``), or the stage it asks that version to move to
(``metadata.stage_writes``), is also noted in that step run's metadata under ``STEP_CHANGES_KEY``,
in the same transaction::

    {"model_version_changes": {"metadata": {...merged...}, "stages": [{"stage": "production", "force": true}]}}

A cache hit of that step (``create_step_run(..., cached_from=…, replay_to=…)``) does it again for
its own run's version, in the transaction that creates it (``replay``): it merges the noted
metadata into that version, copies the note onto the new step run and copies the metric points the
step logged to its version. The step runner then asks for the noted stage moves again, through the
gates like any other move.

No SQLAlchemy here (an import contract holds it to that).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.arguments import check_dict, parse_records
from modelplane.metadata.reads import MAX_INT, Row
from modelplane.metadata.records import NewMetricPoint
from modelplane.metadata.run_writes import Transaction, Work
from modelplane.metadata.store_metrics import MAX_POINTS_PER_CALL
from modelplane.metadata.store_types import STEP_CHANGES_KEY

__all__ = [
    "METADATA_TARGETS",
    "add_metadata",
    "check_point",
    "log_metrics",
    "merge_metadata",
    "note_step_change",
    "replay",
]

_MAX_KEY = 255
# What a metric point may belong to: its field and its name; ``metric_owner.<field>`` finds one.
_OWNERS = (("model_version_id", "model version"), ("run_id", "run"), ("step_run_id", "step run"))
# What metadata can be attached to: the target's name for messages, and whether the row has an
# ``updated`` time to set. Its statements are ``<target>.meta.locked`` and ``<target>.set_meta``.
# A run has no metadata column of its own: its free-form ``extra`` plays that part.
METADATA_TARGETS: dict[str, tuple[str, bool]] = {
    "model_version": ("Model version", True),
    "artifact_version": ("Artifact version", False),
    "step_run": ("Step run", False),
    "run": ("Run", False),
}


def check_point(point: NewMetricPoint, index: int) -> None:
    """Refuse a point no backend can store or serve back, naming it."""
    where = f"metric point {index} ({point.key!r})"
    if not point.key or len(point.key) > _MAX_KEY:
        raise InvalidInputError(
            f"The key of metric point {index} is {'empty' if not point.key else 'too long'}.",
            hint=f"Use a key of 1 to {_MAX_KEY} characters, such as 'loss' or 'val/auc'.",
        )
    if not math.isfinite(point.value):
        raise InvalidInputError(
            f"The value of {where} is {point.value}.",
            hint="Log finite numbers; NaN and infinities cannot be compared or charted.",
        )
    if not 0 <= point.step <= MAX_INT:
        raise InvalidInputError(f"The step of {where} is {point.step}.", hint="Use a step ≥ 0.")
    if point.model_version_id is None and point.run_id is None and point.step_run_id is None:
        raise InvalidInputError(
            f"{where[0].upper()}{where[1:]} belongs to nothing.",
            hint="Give it a model_version_id, a run_id or a step_run_id.",
        )


def log_metrics(points: Sequence[NewMetricPoint | Mapping[str, Any]]) -> Work:
    """Record metric points (at most ``MAX_POINTS_PER_CALL``), each on the model version, run
    and/or step run it names; the number recorded. ``NotFoundError`` for an owner that does not
    exist, and then nothing is recorded."""
    parsed = parse_records(points, NewMetricPoint, "metric points")
    if len(parsed) > MAX_POINTS_PER_CALL:
        raise InvalidInputError(
            f"{len(parsed)} metric points in one call.",
            hint=f"Send at most {MAX_POINTS_PER_CALL} per call (log_metrics batches for you).",
        )
    for index, point in enumerate(parsed):
        check_point(point, index)
    owners = [
        (f"metric_owner.{field}", what, sorted({getattr(p, field) for p in parsed} - {None}))
        for field, what in _OWNERS
    ]

    def work(tx: Transaction) -> int:
        if not parsed:
            return 0
        for statement, what, ids in owners:
            for owner_id in ids:  # a step's points name one of each
                if not tx.rows(statement, {"id": owner_id}):
                    raise NotFoundError(
                        f"The {what} {owner_id!r} of a metric point does not exist.",
                        hint=f"Log to an existing {what} (it may have been deleted).",
                    )
        now = tx.now()
        tx.execute(
            "metric_point.insert",
            [
                {
                    "key": p.key, "value": p.value, "step": p.step, "model_version_id": p.model_version_id,
                    "run_id": p.run_id, "step_run_id": p.step_run_id, "created": now,
                }
                for p in parsed
            ],
        )  # fmt: skip
        return len(parsed)

    return work


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


def add_metadata(
    target: str, target_id: str, metadata: dict[str, Any], *, step_run_id: str | None = None
) -> Work:
    """Merge ``metadata`` into the metadata of a model version, artifact version, step run or run;
    with ``step_run_id`` (a model version only), note it in that step run too."""
    if target not in METADATA_TARGETS:
        raise InvalidInputError(
            f"Cannot attach metadata to {target!r}.",
            hint=f"Use one of: {', '.join(METADATA_TARGETS)}.",
        )
    label, has_updated = METADATA_TARGETS[target]
    new = check_dict(metadata, f"metadata for {label.lower()} {target_id!r}")
    if step_run_id is not None and target != "model_version":
        raise InvalidInputError(
            f"step_run_id is given with metadata for {label.lower()} {target_id!r}; only "
            "metadata a step logs to its model version is recorded on the step run.",
            hint="Leave step_run_id out, or log to the model version.",
        )

    def work(tx: Transaction) -> None:
        # Locked read-modify-write: two steps logging metadata at once both keep their keys.
        current = tx.rows(f"{target}.meta.locked", {"id": target_id})
        if not current:
            raise NotFoundError(f"{label} {target_id!r} does not exist.", hint="Check the id.")
        values: Row = {"b_id": target_id, "meta": merge_metadata(current[0]["meta"], new)}
        if has_updated:
            values["updated"] = tx.now()
        tx.execute(f"{target}.set_meta", values)
        if step_run_id is not None:
            note_step_change(tx, step_run_id, lambda changes: {
                **changes, "metadata": merge_metadata(changes.get("metadata"), new)
            })  # fmt: skip

    return work


def note_step_change(tx: Transaction, step_run_id: str, change: Any) -> None:
    """Rewrite what step run ``step_run_id`` noted it did to its model version (``change``: the
    notes before → after), under its row lock."""
    found = tx.rows("step_run.meta.locked", {"id": step_run_id})
    if not found:
        raise NotFoundError(
            f"Step run {step_run_id!r} does not exist.",
            hint="Pass the id of the step run making the change (get_step_context().step_run.id).",
        )
    meta = dict(found[0]["meta"] or {})
    meta[STEP_CHANGES_KEY] = change(dict(meta.get(STEP_CHANGES_KEY) or {}))
    tx.execute("step_run.set_meta", {"b_id": step_run_id, "meta": meta})


def replay(
    tx: Transaction, cached_from: str, step_run_id: str, run_id: str, replay_to: str | None
) -> dict[str, Any]:
    """For the cache hit ``step_run_id`` of step run ``cached_from``: its notes copied, and what
    they say it logged to its model version (metadata, metric points) logged to ``replay_to``;
    the new step run's metadata after."""
    found = tx.rows("step_run.meta", {"id": cached_from})
    changes = (found[0]["meta"] or {}).get(STEP_CHANGES_KEY) if found else None
    meta: dict[str, Any] = {}
    if isinstance(changes, Mapping) and changes:
        meta = {STEP_CHANGES_KEY: dict(changes)}
        tx.execute("step_run.set_meta", {"b_id": step_run_id, "meta": meta})
        logged = changes.get("metadata")
        if replay_to is not None and isinstance(logged, Mapping) and logged:
            current = tx.rows("model_version.meta.locked", {"id": replay_to})
            if not current:
                raise NotFoundError(
                    f"Model version {replay_to!r} does not exist.",
                    hint="Pass the id of the run's model version as replay_to.",
                )
            merged = merge_metadata(current[0]["meta"], logged)
            tx.execute("model_version.set_meta", {"b_id": replay_to, "meta": merged, "updated": tx.now()})
    if replay_to is not None:
        # A re-run leaves the new version with the curves the first run drew.
        owners = {"model_version_id": replay_to, "run_id": run_id, "step_run_id": step_run_id}
        points = tx.rows("metric_point.of_step_run", {"id": cached_from})
        now = tx.now()
        tx.execute("metric_point.insert", [{**point, **owners, "created": now} for point in points])
    return meta
