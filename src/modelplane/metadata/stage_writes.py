"""Stage moves (``set_stage``), written once over a ``run_writes.Transaction``.

A training pipeline's last step promotes the version it made, so a stage move is one of a
pipeline's writes, and like them it is its argument checks (run before any query: bad input
changes nothing) and then its work, a function of one transaction. The model row is locked first
(``SELECT … FOR UPDATE``; SQLite's write lock is taken at BEGIN), so two promotions of one model
run one after the other and never both see an empty stage. Every move of one change carries one
time, and appends a row to the stage history (``stage_changes``).

The model's gates for the stage are checked in the same transaction (``gate_reads``: they may
read metric series and signatures), and the history row goes out with its webhook deliveries
(``event_writes``).

No SQLAlchemy here (an import contract holds it to that).
"""

from __future__ import annotations

from typing import Any

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import InvalidInputError, PromotionBlockedError, StageConflictError
from modelplane.metadata.event_writes import stage_changed
from modelplane.metadata.gate_reads import gate_failures
from modelplane.metadata.log_writes import note_step_change
from modelplane.metadata.reads import Row
from modelplane.metadata.run_writes import Transaction, Work, first
from modelplane.versioning import check_name, check_target_stage

__all__ = [
    "MOVE", "REFUSED", "ROLLBACK", "check_actor", "check_expected", "history_row", "move", "set_stage",
    "who",
]  # fmt: skip

# stage_changes.kind
MOVE = "move"
ROLLBACK = "rollback"
# A move the gates refused: history only; the version stayed where it was, so no tenure.
REFUSED = "refused"


def check_expected(expected_current: int | None, target: ModelStages) -> None:
    if expected_current is None:
        return
    if (
        isinstance(expected_current, bool)
        or not isinstance(expected_current, int)
        or expected_current < 0
    ):
        raise InvalidInputError(
            f"expected_current={expected_current!r} is not a version number.",
            hint="Pass the number that holds the stage now, or 0 for nobody.",
        )
    if target not in SINGLE_HOLDER_STAGES:
        raise InvalidInputError(
            f"expected_current only applies to {' and '.join(SINGLE_HOLDER_STAGES)}, not '{target}'.",
            hint="Leave expected_current out.",
        )


def check_actor(actor: str | None) -> None:
    if actor is not None:
        check_name(actor, "actor")


def who(row: Row | None) -> str:
    """Who holds a stage, for messages: ``version 3`` or ``nobody``."""
    return "nobody" if row is None else f"version {row['number']}"


def history_row(
    version: Row, stage: ModelStages, at: Any, actor: str | None, reason: str | None, kind: str
) -> Row:
    """The ``stage_changes`` row of ``version`` moving (or asked to move) to ``stage``."""
    return {
        "model_id": version["model_id"],
        "model_version_id": version["id"],
        "version_number": version["number"],
        "version_name": version["name"],
        "from_stage": ModelStages(version["stage"]).value,
        "to_stage": stage.value,
        "actor": actor,
        "reason": reason,
        "created": at,
        "kind": kind,
    }


def move(
    tx: Transaction,
    version: Row,
    stage: ModelStages,
    *,
    at: Any,
    actor: str | None,
    reason: str | None,
    kind: str = MOVE,
) -> Row:
    """Set the stage of ``version`` and append the history row; the version's row after."""
    tx.execute("model_version.set_stage", {"b_id": version["id"], "stage": stage.value, "updated": at})
    stage_changed(tx, history_row(version, stage, at, actor, reason, kind), version.get("model_name"))
    return {**version, "stage": stage.value, "updated": at}


def _refuse(
    tx: Transaction,
    model_row: Row,
    version: Row,
    stage: ModelStages,
    failures: list[str],
    *,
    at: Any,
    actor: str | None,
    reason: str | None,
) -> PromotionBlockedError:
    """Append a ``refused`` row to the history and return the error to raise once it is committed.

    The version stays where it is, no webhook hears of it, and no holder or rollback computation
    counts the row (``sql.stage_history``).
    """
    why = "; ".join(failures)
    asked = why + (f" (asked: {reason})" if reason else "")
    tx.execute("stage_change.insert", history_row(version, stage, at, actor, asked, REFUSED))
    return PromotionBlockedError(
        f"Version {version['number']} of model {model_row['name']!r} does not meet the gates for "
        f"'{stage}', so it was not moved: {why}. The refusal is recorded in the stage history.",
        hint="Log the missing metadata or promote a better version; the gates are in "
        f"`modelplane model describe {model_row['name']}` (change them with `model update "
        "--gate/--remove-gate`).",
    )


def set_stage(
    model: str,
    version: Any,
    stage: ModelStages | str,
    *,
    force: bool = False,
    expected_current: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
    step_run_id: str | None = None,
) -> Work:
    """Move a version to ``stage``; with ``force``, archive the version holding a single-holder
    stage first. The work returns the version's row and, when the gates refused it, the
    ``PromotionBlockedError`` to raise once the refusal is committed."""
    target = check_target_stage(stage)
    check_expected(expected_current, target)
    check_actor(actor)

    def work(tx: Transaction) -> tuple[Row, PromotionBlockedError | None]:
        now = tx.now()
        model_row = tx.model(model, lock=True)
        row = tx.version(model, version, lock=True)
        if step_run_id is not None:
            request: dict[str, Any] = {"stage": target.value, "force": bool(force)}
            if reason:
                request["reason"] = reason
            note_step_change(tx, step_run_id, lambda changes: {
                **changes, "stages": [*(changes.get("stages") or []), request]
            })  # fmt: skip
        if target not in SINGLE_HOLDER_STAGES:
            if ModelStages(row["stage"]) is target:
                return row, None
            return move(tx, row, target, at=now, actor=actor, reason=reason), None
        holder = first(tx, "model_version.holder", {"model_id": model_row["id"], "stage": target.value})
        held_by = 0 if holder is None else holder["number"]
        if expected_current is not None and held_by != expected_current:
            expected = "nobody" if expected_current == 0 else f"version {expected_current}"
            raise StageConflictError(
                f"Stage '{target}' of model {model_row['name']!r} is held by {who(holder)}, "
                f"not by {expected}; nothing was changed.",
                hint="Look at the current holder again and retry, or leave out expected_current.",
            )
        if holder is not None and holder["id"] == row["id"]:
            return row, None
        failures = gate_failures(tx, model_row, row, holder, target)
        if failures:
            # Committed, then raised: the history keeps the refusal, nothing else changes.
            refusal = _refuse(tx, model_row, row, target, failures, at=now, actor=actor, reason=reason)
            return row, refusal
        if holder is not None:
            if not force:
                raise StageConflictError(
                    f"Version {holder['number']} of model {model_row['name']!r} already holds "
                    f"stage '{target}'; version {row['number']} was not moved.",
                    hint=f"Pass force=True to archive version {holder['number']} and move version "
                    f"{row['number']} to {target}.",
                )
            note = f"replaced in {target} by version {row['number']}"
            why = f"{note}: {reason}" if reason else note
            move(tx, holder, ModelStages.ARCHIVED, at=now, actor=actor, reason=why)
        return move(tx, row, target, at=now, actor=actor, reason=reason), None

    return work
