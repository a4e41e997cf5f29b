"""Who held a stage before whom, read from the stage history: what a rollback walks back through.

Each move of a version into the stage starts a tenure and stacks it on the one before. A rollback
gives the stage back to an earlier tenure and takes everything stacked above it off, so the next
rollback goes one further back instead of returning to the version just backed out of.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ModelStages
from modelplane.metadata.stage_writes import MOVE, REFUSED, ROLLBACK
from modelplane.metadata.sql.tables import stage_changes

__all__ = ["MOVE", "REFUSED", "ROLLBACK", "Tenure", "tenures"]


_INTO_STAGE = (
    sa.select(
        stage_changes.c.model_version_id,
        stage_changes.c.version_number,
        stage_changes.c.from_stage,
        stage_changes.c.kind,
    )
    .where(
        stage_changes.c.model_id == sa.bindparam("model_id"),
        stage_changes.c.to_stage == sa.bindparam("stage"),
    )
    .order_by(stage_changes.c.id)
)


@dataclass(frozen=True)
class Tenure:
    """A version's time in the stage, from the move that started it."""

    version_number: int
    model_version_id: str | None  # None once the version was deleted
    from_stage: ModelStages  # where the version was before it entered the stage


def tenures(conn: Connection, model_id: str, stage: ModelStages) -> list[Tenure]:
    """The tenures of ``stage`` that no rollback has undone, oldest first; the last one is the
    current holder's, or the last holder's when nobody holds the stage now."""
    stack: list[Tenure] = []
    for row in conn.execute(_INTO_STAGE, {"model_id": model_id, "stage": stage.value}):
        if row.kind == ROLLBACK:
            back = [i for i, t in enumerate(stack) if t.version_number == row.version_number]
            if back:
                del stack[back[-1] + 1 :]  # the restored tenure continues; later ones are undone
                continue
        if row.kind in (MOVE, ROLLBACK):
            tenure = Tenure(row.version_number, row.model_version_id, ModelStages(row.from_stage))
            stack.append(tenure)
    return stack
