"""Promotion events, written once over a ``run_writes.Transaction``: a stage change's history row
and one pending delivery per webhook that asks for it, in the change's own transaction.

The delivery log is an outbox: a change and its announcements commit together, so no event is lost
between them whatever crashes; a dispatcher (the server's) sends them later. Both stores run this,
the local store on ``sqlite3``, so a promotion from a step that webhooks hear needs no SQLAlchemy.

No SQLAlchemy here (an import contract holds it to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelplane.metadata.reads import Row
from modelplane.metadata.run_writes import Transaction, first, new_id

__all__ = ["STAGE_CHANGED", "enqueue_event", "stage_changed"]

STAGE_CHANGED = "model_version.stage_changed"


def stage_changed(tx: Transaction, change: Row, model_name: str | None = None) -> None:
    """Append ``change`` (a ``stage_changes`` row) to the stage history and queue it for every
    matching webhook. ``model_name``: the model's name when the caller knows it."""
    change_id = tx.inserted_id("stage_change.insert", change)
    hooks = tx.rows("webhook.all", {})
    if not hooks:
        return
    if model_name is None:
        model_name = first(tx, "model.by_id", {"key": change["model_id"]})["name"]  # type: ignore[index]
    created: datetime = change["created"]
    payload = {
        "event": STAGE_CHANGED,
        "change_id": change_id,
        "model": model_name,
        "model_id": change["model_id"],
        "version": change["version_number"],
        "version_name": change["version_name"],
        "version_id": change["model_version_id"],
        "from_stage": change["from_stage"],
        "to_stage": change["to_stage"],
        "actor": change["actor"],
        "reason": change["reason"],
        "time": created.isoformat(),
    }
    enqueue_event(tx, STAGE_CHANGED, payload, model_name, change["to_stage"], created, change_id, hooks)


def enqueue_event(
    tx: Transaction,
    event: str,
    payload: dict[str, Any],
    model_name: str,
    stage: str | None,
    created: datetime,
    change_id: int | None = None,
    hooks: Sequence[Row] | None = None,
) -> None:
    """Queue ``payload`` as ``event`` for every webhook of ``model_name`` (or of every model)
    whose stages include ``stage`` (or are all), in the caller's transaction. ``hooks``: the
    webhooks when the caller already read them."""
    rows = [
        {
            "id": new_id(),
            "webhook_id": hook["id"],
            "stage_change_id": change_id,
            "event": event,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt": created,
            "created": created,
        }
        for hook in (tx.rows("webhook.all", {}) if hooks is None else hooks)
        if (hook["model"] is None or hook["model"] == model_name)
        and (not hook["stages"] or stage is None or stage in hook["stages"])
    ]
    tx.execute("webhook_delivery.insert", rows)
