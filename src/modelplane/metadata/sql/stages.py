"""Stage moves and their append-only history (DESIGN §3 rule 2), race-free inside one transaction.

Every move locks the model row first (``SELECT … FOR UPDATE``; SQLite's write lock taken at BEGIN),
so two promotions of one model run one after the other and never both see an empty stage. All the
moves of one change carry one time. A rollback walks back through the tenures of the stage
(sql.stage_history): the holder returns where it was before, an earlier holder takes the stage.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import SINGLE_HOLDER_STAGES, ArtifactType, ModelStages
from modelplane.errors import (
    InvalidInputError,
    NotFoundError,
    PromotionBlockedError,
    StageConflictError,
)
from modelplane.gates import failed_gates, parse_gate
from modelplane.signatures import SIGNATURE_KEY
from modelplane.metadata.log_writes import note_step_change
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import ModelVersionRecord, Page, StageChangeRecord
from modelplane.metadata.sql.metrics import SERIES_PARTS, series_values
from modelplane.metadata.sql.resolve import find_model, find_version, find_version_by_id
from modelplane.metadata.sql.rows import (
    MODEL_VERSION_SELECT,
    STAGE_CHANGE_SELECT,
    count,
    model_version_record,
    page,
    stage_change_record,
    utcnow,
)
from modelplane.metadata.sql.run_statements import SqlTransaction
from modelplane.metadata.sql.stage_history import MOVE, REFUSED, ROLLBACK, Tenure, tenures
from modelplane.metadata.sql.tables import (
    artifact_versions,
    model_version_artifacts,
    model_versions,
    stage_changes,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.sql.webhooks import enqueue_stage_change
from modelplane.metadata.store import VersionRef
from modelplane.versioning import (
    check_name,
    check_target_stage,
    parse_stage,
    parse_version_spec,
)

__all__ = ["StagesMixin"]

_HOLDER = (
    MODEL_VERSION_SELECT.where(
        model_versions.c.model_id == sa.bindparam("model_id"),
        model_versions.c.stage == sa.bindparam("stage"),
    )
    .limit(1)
    .with_for_update(of=model_versions)
)
# The input signature of a version is that of its newest linked model artifact that has one.
_MODEL_SIGNATURES = (
    sa.select(artifact_versions.c.meta)
    .join(model_version_artifacts, model_version_artifacts.c.artifact_version_id == artifact_versions.c.id)
    .where(
        model_version_artifacts.c.model_version_id == sa.bindparam("version_id"),
        model_version_artifacts.c.kind == ArtifactType.MODEL.value,
    )
    .order_by(model_version_artifacts.c.created.desc())
)
_SET_STAGE = model_versions.update().where(model_versions.c.id == sa.bindparam("b_id"))


def _holdable(stage: ModelStages | str) -> ModelStages:
    parsed = check_target_stage(stage)
    if parsed not in SINGLE_HOLDER_STAGES:
        raise InvalidInputError(
            f"Stage '{parsed}' can hold many versions at once, so it has no single holder.",
            hint=f"Use {' or '.join(SINGLE_HOLDER_STAGES)}.",
        )
    return parsed


def _holder(conn: Connection, model_id: str, stage: ModelStages) -> Row[Any] | None:
    return conn.execute(_HOLDER, {"model_id": model_id, "stage": stage.value}).first()


def _gate_view(conn: Connection, row: Row[Any], rules: list[str]) -> dict[str, Any]:
    """What gates read of a version: its metadata and, when a rule asks (``loss.min``), the last,
    min and max of its metric series (metadata of the same name wins)."""
    view = dict(model_version_record(row).metadata)
    gates = [parse_gate(rule) for rule in rules]
    if any(gate.key.rpartition(".")[2] in SERIES_PARTS for gate in gates):
        for key, value in series_values(conn, row.id).items():
            view.setdefault(key, value)
    if any(gate.reads_signature for gate in gates) and SIGNATURE_KEY not in view:
        for linked in conn.execute(_MODEL_SIGNATURES, {"version_id": row.id}):
            if isinstance(linked.meta, dict) and SIGNATURE_KEY in linked.meta:
                view[SIGNATURE_KEY] = linked.meta[SIGNATURE_KEY]
                break
    return view


def _gate_failures(
    conn: Connection,
    model_row: Row[Any],
    row: Row[Any],
    holder: Row[Any] | None,
    target: ModelStages,
) -> list[str]:
    """Why the gates of ``target`` refuse the version (checked in the caller's transaction,
    against the holder it locked); empty when they let it in."""
    rules = (model_row.gates or {}).get(target.value)
    if not rules:
        return []
    current = _gate_view(conn, holder, rules) if holder is not None else None
    label = f"version {holder.number}, now in {target}" if holder is not None else ""
    return failed_gates(rules, _gate_view(conn, row, rules), current, current_label=label)


def _refuse(
    conn: Connection,
    model_row: Row[Any],
    version: Row[Any],
    stage: ModelStages,
    failures: list[str],
    *,
    at: datetime,
    actor: str | None,
    reason: str | None,
) -> PromotionBlockedError:
    """Append a ``refused`` row to the history and return the error to raise once it is committed.

    The version stays where it is, no webhook hears of it, and no holder or rollback computation
    counts the row (sql.stage_history).
    """
    why = "; ".join(failures)
    asked = why + (f" (asked: {reason})" if reason else "")
    conn.execute(stage_changes.insert(), _history_row(version, stage, at, actor, asked, REFUSED))
    return PromotionBlockedError(
        f"Version {version.number} of model {model_row.name!r} does not meet the gates for "
        f"'{stage}', so it was not moved: {why}. The refusal is recorded in the stage history.",
        hint="Log the missing metadata or promote a better version; the gates are in "
        f"`modelplane model describe {model_row.name}` (change them with `model update "
        "--gate/--remove-gate`).",
    )


def _history_row(
    version: Row[Any], stage: ModelStages, at: datetime, actor: str | None, reason: str | None, kind: str
) -> dict[str, Any]:
    return {
        "model_id": version.model_id,
        "model_version_id": version.id,
        "version_number": version.number,
        "version_name": version.name,
        "from_stage": version.stage,
        "to_stage": stage.value,
        "actor": actor,
        "reason": reason,
        "created": at,
        "kind": kind,
    }


def _move(
    conn: Connection,
    version: Row[Any],
    stage: ModelStages,
    *,
    at: datetime,
    actor: str | None,
    reason: str | None,
    kind: str = MOVE,
) -> ModelVersionRecord:
    """Set the stage of ``version`` and append the history row, in the caller's transaction.

    Every move of one stage change shares the time ``at``, so the history has no instant in
    which the stage was between two holders.
    """
    conn.execute(_SET_STAGE, {"b_id": version.id, "stage": stage.value, "updated": at})
    change = _history_row(version, stage, at, actor, reason, kind)
    inserted = conn.execute(stage_changes.insert(), change)
    # The webhooks hear of it through the delivery log, written in this same transaction.
    change_id = inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None
    enqueue_stage_change(conn, change, change_id, getattr(version, "model_name", None))
    return ModelVersionRecord.model_validate({**version._mapping, "stage": stage, "updated": at})


def _stage_to_return_to(
    conn: Connection,
    model_row: Row[Any],
    holder: Row[Any],
    leaving: Tenure | None,
    restored: Row[Any],
) -> tuple[ModelStages, str | None]:
    """Where a rollback sends the version it takes the stage from: back where it was before its
    tenure began, unless another version holds that stage now or its gates refuse the version;
    archived then, with the reason why."""
    if leaving is None:
        return ModelStages.ARCHIVED, None
    before = leaving.from_stage
    if before not in SINGLE_HOLDER_STAGES:
        return before, None
    other = _holder(conn, model_row.id, before)
    if other is not None and other.id != restored.id:
        return ModelStages.ARCHIVED, f"archived: {before} is held by version {other.number}"
    rules = (model_row.gates or {}).get(before.value)
    if rules and failed_gates(rules, _gate_view(conn, holder, rules), None):
        return ModelStages.ARCHIVED, f"archived: it does not meet the gates for '{before}'"
    return before, None


def _check_expected(expected_current: int | None, target: ModelStages) -> None:
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


def _check_actor(actor: str | None) -> None:
    if actor is not None:
        check_name(actor, "actor")


def _who(row: Row[Any] | None) -> str:
    return "nobody" if row is None else f"version {row.number}"


class StagesMixin(StoreCore):
    def set_stage(
        self,
        model: str,
        version: VersionRef,
        stage: ModelStages | str,
        *,
        force: bool = False,
        expected_current: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        step_run_id: str | None = None,
    ) -> ModelVersionRecord:
        target = check_target_stage(stage)
        _check_expected(expected_current, target)
        _check_actor(actor)

        def work(conn: Connection) -> ModelVersionRecord | PromotionBlockedError:
            now = utcnow()
            model_row = find_model(conn, model, lock=True)
            row = find_version(conn, model_row, version, lock=True)
            if step_run_id is not None:
                request: dict[str, Any] = {"stage": target.value, "force": bool(force)}
                if reason:
                    request["reason"] = reason
                note_step_change(SqlTransaction(conn), step_run_id, lambda changes: {
                    **changes, "stages": [*(changes.get("stages") or []), request]
                })  # fmt: skip
            if target not in SINGLE_HOLDER_STAGES:
                if row.stage == target.value:
                    return model_version_record(row)
                return _move(conn, row, target, at=now, actor=actor, reason=reason)
            holder = _holder(conn, model_row.id, target)
            if (
                expected_current is not None
                and (0 if holder is None else holder.number) != expected_current
            ):
                expected = "nobody" if expected_current == 0 else f"version {expected_current}"
                raise StageConflictError(
                    f"Stage '{target}' of model {model_row.name!r} is held by {_who(holder)}, "
                    f"not by {expected}; nothing was changed.",
                    hint="Look at the current holder again and retry, or leave out "
                    "expected_current.",
                )
            if holder is not None and holder.id == row.id:
                return model_version_record(row)
            failures = _gate_failures(conn, model_row, row, holder, target)
            if failures:
                # Committed, then raised: the history keeps the refusal, nothing else changes.
                return _refuse(
                    conn, model_row, row, target, failures, at=now, actor=actor, reason=reason
                )
            if holder is not None:
                if not force:
                    raise StageConflictError(
                        f"Version {holder.number} of model {model_row.name!r} already holds "
                        f"stage '{target}'; version {row.number} was not moved.",
                        hint=f"Pass force=True to archive version {holder.number} and move version "
                        f"{row.number} to {target}.",
                    )
                note = f"replaced in {target} by version {row.number}"
                _move(
                    conn,
                    holder,
                    ModelStages.ARCHIVED,
                    at=now,
                    actor=actor,
                    reason=f"{note}: {reason}" if reason else note,
                )
            return _move(conn, row, target, at=now, actor=actor, reason=reason)

        result = self.write(work)
        if isinstance(result, PromotionBlockedError):
            raise result
        return result

    def list_stage_changes(
        self,
        model: str,
        *,
        version: VersionRef | None = None,
        stage: ModelStages | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[StageChangeRecord]:
        check_page(limit, offset)
        parsed = parse_stage(stage) if stage is not None else None
        if parsed is ModelStages.LATEST:
            raise InvalidInputError(
                "No version ever moves to or from 'latest'; it is virtual.",
                hint="Filter by another stage.",
            )

        def work(conn: Connection) -> Page[StageChangeRecord]:
            model_row = find_model(conn, model)
            query = STAGE_CHANGE_SELECT.where(stage_changes.c.model_id == model_row.id)
            if version is not None:
                spec = parse_version_spec(version)
                if spec.kind == "number":
                    # By number, so the history of a deleted version can still be read.
                    query = query.where(stage_changes.c.version_number == spec.number)
                else:
                    found = find_version(conn, model_row, version)
                    query = query.where(stage_changes.c.model_version_id == found.id)
            if parsed is not None:
                query = query.where(
                    sa.or_(
                        stage_changes.c.to_stage == parsed.value,
                        stage_changes.c.from_stage == parsed.value,
                    )
                )
            rows = conn.execute(
                query.order_by(stage_changes.c.id.desc()).limit(limit).offset(offset)
            ).all()
            return page(
                [stage_change_record(row) for row in rows], count(conn, query), limit, offset
            )

        return self.read(work)

    def get_stage_holder_at(
        self, model: str, stage: ModelStages | str, at: datetime
    ) -> ModelVersionRecord | None:
        """The version that held ``stage`` at ``at`` (naive means UTC); ``None`` if nobody did or
        that version has since been deleted."""
        target = _holdable(stage)
        if not isinstance(at, datetime):
            raise InvalidInputError(f"{at!r} is not a point in time.", hint="Pass a datetime.")
        when = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)

        def work(conn: Connection) -> ModelVersionRecord | None:
            model_row = find_model(conn, model)
            last = conn.execute(
                sa.select(stage_changes.c.model_version_id, stage_changes.c.to_stage)
                .where(
                    stage_changes.c.model_id == model_row.id,
                    sa.or_(
                        stage_changes.c.to_stage == target.value,
                        stage_changes.c.from_stage == target.value,
                    ),
                    stage_changes.c.created <= when,
                    stage_changes.c.kind != REFUSED,
                )
                .order_by(stage_changes.c.id.desc())
                .limit(1)
            ).first()
            if last is None or last.to_stage != target.value or last.model_version_id is None:
                return None
            return model_version_record(find_version_by_id(conn, last.model_version_id))

        return self.read(work)

    def rollback_stage(
        self,
        model: str,
        stage: ModelStages | str,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersionRecord:
        target = _holdable(stage)
        _check_actor(actor)

        def work(conn: Connection) -> ModelVersionRecord:
            now = utcnow()
            model_row = find_model(conn, model, lock=True)
            holder = _holder(conn, model_row.id, target)
            held = tenures(conn, model_row.id, target)
            leaving = None
            if holder is not None and held and held[-1].version_number == holder.number:
                leaving = held.pop()
            # Deleted versions are skipped: only a version that still exists can take the stage
            # back.
            previous = next(
                (
                    tenure
                    for tenure in reversed(held)
                    if tenure.model_version_id is not None
                    and (holder is None or tenure.model_version_id != holder.id)
                ),
                None,
            )
            if previous is None or previous.model_version_id is None:
                raise NotFoundError(
                    f"Model {model_row.name!r} has no earlier holder of stage '{target}' to "
                    f"roll back to (it is held by {_who(holder)}).",
                    hint="Move a version there with set_stage instead.",
                )
            restored = find_version_by_id(conn, previous.model_version_id, lock=True)
            note = reason or f"rollback of {target}"
            if holder is not None:
                back, why = _stage_to_return_to(conn, model_row, holder, leaving, restored)
                _move(
                    conn,
                    holder,
                    back,
                    at=now,
                    actor=actor,
                    reason=f"{note} ({why})" if why else note,
                )
            return _move(
                conn, restored, target, at=now, actor=actor, reason=note, kind=ROLLBACK
            )

        return self.write(work)
