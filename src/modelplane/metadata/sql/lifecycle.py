"""The run lifecycle in the SQL store: finishing, heartbeats, reaping abandoned runs, and recording
a step's results. Each call is one transaction.

A run ends in one of three ways, all written once in ``metadata.run_writes`` (so is "delete the
versions the run created when it fails"): the process driving it finishes it (``finish_run``); or
it dies and a later caller reaps it (``reap_abandoned_runs``), either because its process is seen
gone on its own host (the caller checks, naming the run in ``gone``) or because it has been
silent for ``SILENT_BEATS`` heartbeat periods by the store's clock. Reading a run never reaps it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ExecutionStatus
from modelplane.metadata import model_writes, run_writes
from modelplane.metadata.arguments import check_text
from modelplane.metadata.records import (
    ArtifactVersionRecord,
    CompletedStep,
    NewArtifactLink,
    NewArtifactVersion,
    RunRecord,
    StepRunRecord,
)
from modelplane.metadata.sql.resolve import find_step_run
from modelplane.metadata.sql.run_statements import in_transaction
from modelplane.metadata.sql.tables import step_runs
from modelplane.metadata.sql.transactions import StoreCore

__all__ = ["LifecycleMixin"]

# The most text one ``append_step_logs`` call takes (a step's whole captured output is capped at 5M).
MAX_APPEND_CHARS = 5_000_000
_RUNNING = ExecutionStatus.RUNNING.value


class LifecycleMixin(StoreCore):
    def finish_run(
        self, run_id: str, status: ExecutionStatus, error: str | None = None
    ) -> RunRecord:
        work = run_writes.finish_run(run_id, status, error)
        return RunRecord.model_validate(self.write(in_transaction(work)))

    def heartbeat_run(self, run_id: str) -> None:
        self.write(in_transaction(run_writes.heartbeat_run(run_id)))

    def reap_abandoned_runs(
        self, *, gone: Sequence[str] = (), reaper: str | None = None
    ) -> list[RunRecord]:
        work = run_writes.reap_abandoned_runs(gone=gone, reaper=reaper)
        return [RunRecord.model_validate(row) for row in self.write(in_transaction(work))]

    # -- a step's results ---------------------------------------------------------------------

    def append_step_logs(self, step_run_id: str, text: str) -> None:
        added = check_text(text, "log text", MAX_APPEND_CHARS)
        if not added:
            return None

        def work(conn: Connection) -> None:
            done = conn.execute(
                step_runs.update()
                .where(step_runs.c.id == step_run_id, step_runs.c.status == _RUNNING)
                .values(logs=sa.func.coalesce(step_runs.c.logs, "") + added)
            )
            if done.rowcount == 0:
                find_step_run(conn, step_run_id)  # raises the NotFoundError; else it has ended

        self.write(work)

    def complete_step_run(
        self,
        step_run_id: str,
        *,
        artifacts: Sequence[NewArtifactVersion] = (),
        links: Sequence[NewArtifactLink] = (),
        logs: str | None = None,
    ) -> CompletedStep:
        work = model_writes.complete_step_run(
            step_run_id, artifacts=artifacts, links=links, logs=logs
        )
        step_run, saved = self.write(in_transaction(work))
        return CompletedStep(
            StepRunRecord.model_validate(step_run),
            {output: ArtifactVersionRecord.model_validate(row) for output, row in saved.items()},
        )
