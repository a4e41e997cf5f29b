"""Stage moves and their append-only history (DESIGN §3 rule 2), race-free inside one transaction.

A move is written once in ``metadata.stage_writes`` (its gates in ``metadata.gate_reads``); the
SQL store runs it and adds what only it does: webhook deliveries. A rollback walks back
through the tenures of the stage (``sql.stage_history``): the holder returns where it was before,
an earlier holder takes the stage.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.gates import failed_gates
from modelplane.metadata import stage_writes
from modelplane.metadata.gate_reads import gate_view
from modelplane.metadata.reads import Row, check_page
from modelplane.metadata.records import ModelVersionRecord, Page, StageChangeRecord
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.resolve import find_model, find_version, find_version_by_id
from modelplane.metadata.sql.rows import (
    STAGE_CHANGE_SELECT,
    count,
    model_version_record,
    page,
    stage_change_record,
    utcnow,
)
from modelplane.metadata.sql.run_statements import STATEMENTS, SqlTransaction, in_transaction
from modelplane.metadata.sql.stage_history import REFUSED, ROLLBACK, Tenure, tenures
from modelplane.metadata.sql.tables import stage_changes
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.stage_writes import check_actor, who
from modelplane.metadata.store import VersionRef
from modelplane.versioning import check_target_stage, parse_stage, parse_version_spec

__all__ = ["StagesMixin"]

_HOLDER = STATEMENTS["model_version.holder"]


def _holdable(stage: ModelStages | str) -> ModelStages:
    parsed = check_target_stage(stage)
    if parsed not in SINGLE_HOLDER_STAGES:
        raise InvalidInputError(
            f"Stage '{parsed}' can hold many versions at once, so it has no single holder.",
            hint=f"Use {' or '.join(SINGLE_HOLDER_STAGES)}.",
        )
    return parsed


def _holder(conn: Connection, model_id: str, stage: ModelStages) -> Row | None:
    return direct.first(conn, _HOLDER, {"model_id": model_id, "stage": stage.value})


def _stage_to_return_to(
    conn: Connection, model_row: Row, holder: Row, leaving: Tenure | None, restored: Row
) -> tuple[ModelStages, str | None]:
    """Where a rollback sends the version it takes the stage from: back where it was before its
    tenure began, unless another version holds that stage now or its gates refuse the version;
    archived then, with the reason why."""
    if leaving is None:
        return ModelStages.ARCHIVED, None
    before = leaving.from_stage
    if before not in SINGLE_HOLDER_STAGES:
        return before, None
    other = _holder(conn, model_row["id"], before)
    if other is not None and other["id"] != restored["id"]:
        return ModelStages.ARCHIVED, f"archived: {before} is held by version {other['number']}"
    rules = (model_row["gates"] or {}).get(before.value)
    if rules and failed_gates(rules, gate_view(SqlTransaction(conn), holder, rules), None):
        return ModelStages.ARCHIVED, f"archived: it does not meet the gates for '{before}'"
    return before, None


class StagesMixin(StoreCore):
    def set_stage(
        self, model: str, version: VersionRef, stage: ModelStages | str, **arguments: Any
    ) -> ModelVersionRecord:
        """``MetadataStore.set_stage``: ``metadata.stage_writes`` in one transaction."""
        work = stage_writes.set_stage(model, version, stage, **arguments)
        row, refusal = self.write(in_transaction(work))
        if refusal is not None:
            raise refusal  # committed first: the history keeps the refusal
        return ModelVersionRecord.model_validate(row)

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
        check_actor(actor)

        def work(conn: Connection) -> ModelVersionRecord:
            now = utcnow()
            model_row = dict(find_model(conn, model, lock=True)._mapping)
            holder = _holder(conn, model_row["id"], target)
            held = tenures(conn, model_row["id"], target)
            leaving = None
            if holder is not None and held and held[-1].version_number == holder["number"]:
                leaving = held.pop()
            # Deleted versions are skipped: only a version that still exists can take the stage
            # back.
            previous = next(
                (
                    tenure
                    for tenure in reversed(held)
                    if tenure.model_version_id is not None
                    and (holder is None or tenure.model_version_id != holder["id"])
                ),
                None,
            )
            if previous is None or previous.model_version_id is None:
                raise NotFoundError(
                    f"Model {model_row['name']!r} has no earlier holder of stage '{target}' to "
                    f"roll back to (it is held by {who(holder)}).",
                    hint="Move a version there with set_stage instead.",
                )
            restored = dict(find_version_by_id(conn, previous.model_version_id, lock=True)._mapping)
            note = reason or f"rollback of {target}"
            tx = SqlTransaction(conn)
            if holder is not None:
                back, why = _stage_to_return_to(conn, model_row, holder, leaving, restored)
                why = f"{note} ({why})" if why else note
                stage_writes.move(tx, holder, back, at=now, actor=actor, reason=why)
            row = stage_writes.move(
                tx, restored, target, at=now, actor=actor, reason=note, kind=ROLLBACK
            )
            return ModelVersionRecord.model_validate(row)

        return self.write(work)
