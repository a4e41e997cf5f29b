"""The run lifecycle in the SQL store: finishing, heartbeats, reaping abandoned runs, and recording
a step's results. Each call is one transaction.

A run ends in one of three ways, and all three go through ``_fail`` or ``finish_run`` here, so
"delete the versions the run created when it fails" is written once: the process driving it
finishes it (``finish_run``); or it dies and a later caller reaps it (``reap_abandoned_runs``),
either because its process is seen gone on its own host (the caller checks, naming the run in
``gone``) or because it has been silent for ``SILENT_BEATS`` heartbeat periods by the store's
clock. Reading a run never reaps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import ExecutionStatus
from modelplane.errors import NotFoundError
from modelplane.metadata.records import (
    CompletedStep,
    NewArtifactLink,
    NewArtifactVersion,
    RunRecord,
)
from modelplane.metadata.sql.arguments import (
    check_ids,
    check_text,
    parse_finished_status,
    parse_records,
)
from modelplane.metadata.sql.resolve import find_run, find_step_run
from modelplane.metadata.sql.rows import RUN_SELECT, utcnow
from modelplane.metadata.sql.tables import model_versions, pipeline_runs, step_runs
from modelplane.metadata.sql.transactions import StoreCore

__all__ = ["SILENT_BEATS", "LifecycleMixin"]

# A run that misses this many heartbeats in a row is taken for lost (10 minutes at the default 30 s).
SILENT_BEATS = 20
# The most text one ``append_step_logs`` call takes (a step's whole captured output is capped at 5M).
MAX_APPEND_CHARS = 5_000_000
_RUNNING = ExecutionStatus.RUNNING.value
_UPDATE_RUN = pipeline_runs.update().where(pipeline_runs.c.id == sa.bindparam("b_id"))
_BEATING = RUN_SELECT.where(
    pipeline_runs.c.status == _RUNNING, pipeline_runs.c.heartbeat_seconds.is_not(None)
)


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _silent_too_long(row: Row[Any], now: datetime) -> bool:
    if row.heartbeat is None or not row.heartbeat_seconds:
        return False
    return now - row.heartbeat > timedelta(seconds=SILENT_BEATS * float(row.heartbeat_seconds))


class LifecycleMixin(StoreCore):
    def _fail(self, conn: Connection, row: Row[Any], error: str | None) -> dict[str, Any]:
        """Fail a running run and its running step runs, and delete the versions it created that
        were asked to go with a failure. The caller holds the run's row lock."""
        now = utcnow()
        values = {"status": ExecutionStatus.FAILED.value, "ended": now, "error": error}
        conn.execute(_UPDATE_RUN, {"b_id": row.id, **values})
        conn.execute(
            step_runs.update()
            .where(step_runs.c.run_id == row.id, step_runs.c.status == _RUNNING)
            .values(status=ExecutionStatus.FAILED.value, ended=now, error=error)
        )
        doomed = list(row.discard_on_failure or [])
        if doomed:
            # Links go by CASCADE; stage history stays with model_version_id set NULL.
            conn.execute(model_versions.delete().where(model_versions.c.id.in_(doomed)))
        return values

    def finish_run(
        self, run_id: str, status: ExecutionStatus, error: str | None = None
    ) -> RunRecord:
        parsed = parse_finished_status(status)

        def work(conn: Connection) -> RunRecord:
            row = find_run(conn, run_id, lock=True)
            if parsed is ExecutionStatus.FAILED:
                values = self._fail(conn, row, error)
            else:
                values = {"status": parsed.value, "ended": utcnow(), "error": error}
                conn.execute(_UPDATE_RUN, {"b_id": row.id, **values})
            return RunRecord.model_validate({**row._mapping, **values})

        return self.write(work)

    def heartbeat_run(self, run_id: str) -> None:
        def work(conn: Connection) -> None:
            row = find_run(conn, run_id)
            conn.execute(
                pipeline_runs.update()
                .where(pipeline_runs.c.id == row.id, pipeline_runs.c.status == _RUNNING)
                .values(heartbeat=utcnow())
            )

        self.write(work)

    def reap_abandoned_runs(
        self, *, gone: Sequence[str] = (), reaper: str | None = None
    ) -> list[RunRecord]:
        gone_ids = check_ids(gone, "gone (runs whose process is gone)")
        by = check_text(reaper, "reaper name", 255) or "modelplane"

        def work(conn: Connection) -> list[RunRecord]:
            now = utcnow()
            candidates: dict[str, tuple[Row[Any], str]] = {}
            for row in conn.execute(_BEATING):
                if _silent_too_long(row, now):
                    candidates[row.id] = (
                        row,
                        f"Abandoned: process {row.pid} on {row.host} sent no heartbeat since "
                        f"{_stamp(row.heartbeat)} (its machine or container was lost, or it hung).",
                    )
            for run_id in gone_ids:
                try:
                    row = find_run(conn, run_id)
                except NotFoundError:
                    continue
                if row.status == _RUNNING and row.id not in candidates:
                    candidates[row.id] = (
                        row,
                        f"Abandoned: process {row.pid} on {row.host}, which was running this "
                        "pipeline, ended without finishing the run (it was killed or crashed).",
                    )
            reaped = []
            for run_id, (_, why) in sorted(candidates.items()):
                row = find_run(conn, run_id, lock=True)  # re-read under the lock
                if row.status != _RUNNING:
                    continue
                error = f"{why} Marked failed at {_stamp(now)} by {by}."
                values = self._fail(conn, row, error)
                reaped.append(RunRecord.model_validate({**row._mapping, **values}))
            return reaped

        return self.write(work)

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
        new = parse_records(artifacts, NewArtifactVersion, "step outputs")
        wanted = parse_records(links, NewArtifactLink, "links")

        def work(store: Any) -> CompletedStep:
            saved = {}
            for item in new:
                saved[item.output] = store.create_artifact_version(
                    **item.model_dump(exclude={"output"}), producer_step_run_id=step_run_id
                )
            store._make_links(wanted)
            step_run = store.finish_step_run(
                step_run_id,
                status=ExecutionStatus.COMPLETED,
                outputs={name: record.id for name, record in saved.items()},
                logs=logs,
            )
            return CompletedStep(step_run, saved)

        return self.atomically(work)

    def _make_links(self, links: Sequence[NewArtifactLink]) -> None:
        """Make each link, in order (inside the caller's transaction when there is one)."""
        for link in links:
            self.link_artifact(  # type: ignore[attr-defined]
                link.model_version_id,
                link.artifact_version_id,
                name=link.name,
                kind=link.kind,
                overwrite=link.overwrite,
            )
