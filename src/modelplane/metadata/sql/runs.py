"""Pipelines, pipeline runs and step runs in the SQL store, and the step cache lookup.

The writes a pipeline run makes are written once in ``metadata.run_writes`` (each one short
transaction that builds its record from the values it wrote instead of reading them back); this
mixin runs them in its transactions and makes their records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ExecutionStatus
from modelplane.errors import NotFoundError
from modelplane.metadata import model_writes, reads, run_writes
from modelplane.metadata.records import (
    NewArtifactLink,
    Page,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)
from modelplane.metadata.sql.resolve import find_model, find_pipeline, find_run, find_step_run
from modelplane.metadata.sql.rows import (
    STEP_RUN_SELECT,
    records_page,
    run_record,
    step_run_records,
)
from modelplane.metadata.sql.run_statements import in_transaction
from modelplane.metadata.sql.tables import pipeline_runs, pipelines, step_runs
from modelplane.metadata.sql.transactions import StoreCore

__all__ = ["RunsMixin"]

_STEP_RUN_BY_ID = STEP_RUN_SELECT.where(step_runs.c.id == sa.bindparam("id"))

class RunsMixin(StoreCore):
    # -- pipelines ----------------------------------------------------------------------------

    def save_pipeline(self, name: str, spec: dict[str, Any]) -> PipelineRecord:
        work = run_writes.save_pipeline(name, spec)
        return PipelineRecord.model_validate(self.write(in_transaction(work)))

    def get_pipeline(self, pipeline: str) -> PipelineRecord:
        return self.read(
            lambda conn: PipelineRecord.model_validate(dict(find_pipeline(conn, pipeline)._mapping))
        )

    def list_pipelines(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[PipelineRecord]:
        found = self.reading(
            lambda run: reads.list_pipelines(run, name=name, limit=limit, offset=offset)
        )
        return records_page(PipelineRecord, found)

    def delete_pipeline(self, pipeline: str) -> None:
        def work(conn: Connection) -> None:
            row = find_pipeline(conn, pipeline)
            # Runs and step runs go by CASCADE; artifact versions stay (producer set NULL).
            conn.execute(pipelines.delete().where(pipelines.c.id == row.id))

        self.write(work)

    # -- runs ---------------------------------------------------------------------------------

    def create_run(self, **arguments: Any) -> RunRecord:
        # The arguments are the protocol's (``MetadataStore.create_run``), checked by run_writes.
        return RunRecord.model_validate(self.write(in_transaction(run_writes.create_run(**arguments))))

    def get_run(self, run: str) -> RunRecord:
        return self.read(lambda conn: run_record(find_run(conn, run)))

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | None = None,
        model: str | None = None,
        host: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunRecord]:
        def explain(conn: Connection) -> Any:
            if pipeline is not None:
                find_pipeline(conn, pipeline)
            if model is not None:
                find_model(conn, model)
            raise AssertionError("a filter matched nothing, yet both exist")

        found = self.reading(
            lambda run: reads.list_runs(
                run,
                pipeline=pipeline,
                status=status,
                model=model,
                host=host,
                limit=limit,
                offset=offset,
            ),
            explain,
        )
        return records_page(RunRecord, found)

    def delete_run(self, run: str) -> None:
        def work(conn: Connection) -> None:
            row = find_run(conn, run)
            conn.execute(pipeline_runs.delete().where(pipeline_runs.c.id == row.id))

        self.write(work)

    # -- step runs ----------------------------------------------------------------------------

    def create_step_run(
        self, *, links: Sequence[NewArtifactLink] = (), **arguments: Any
    ) -> StepRunRecord:
        # The arguments are the protocol's (``MetadataStore.create_step_run``).
        work = (
            model_writes.create_step_run_with_links(links, **arguments)
            if links
            else run_writes.create_step_run(**arguments)
        )
        return StepRunRecord.model_validate(self.write(in_transaction(work)))

    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        outputs: dict[str, str] | None = None,
        logs: str | None = None,
        error: str | None = None,
    ) -> StepRunRecord:
        work = run_writes.finish_step_run(
            step_run_id, status=status, outputs=outputs, logs=logs, error=error
        )
        return StepRunRecord.model_validate(self.write(in_transaction(work)))

    def get_step_run(self, step_run_id: str) -> StepRunRecord:
        def work(conn: Connection) -> StepRunRecord:
            row = conn.execute(_STEP_RUN_BY_ID, {"id": step_run_id}).first()
            if row is None:
                find_step_run(conn, step_run_id)  # raises the NotFoundError
            assert row is not None
            return step_run_records(conn, [row])[0]

        return self.read(work)

    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        def work(conn: Connection) -> list[StepRunRecord]:
            run_row = find_run(conn, run_id)
            rows = conn.execute(
                STEP_RUN_SELECT.where(step_runs.c.run_id == run_row.id).order_by(
                    step_runs.c.created.asc(), step_runs.c.id.asc()
                )
            ).all()
            return step_run_records(conn, rows)

        return self.read(work)

    def get_step_logs(self, step_run_id: str) -> str:
        def work(conn: Connection) -> str:
            row = conn.execute(
                sa.select(step_runs.c.logs).where(step_runs.c.id == step_run_id)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"Step run {step_run_id!r} does not exist.",
                    hint="Its run may have been deleted; list a run's steps with "
                    "`modelplane run show RUN`.",
                )
            return row.logs or ""

        return self.read(work)

    def find_cached_step_run(self, cache_key: str) -> StepRunRecord | None:
        row = self.read(in_transaction(run_writes.find_cached_step_run(cache_key)))
        return None if row is None else StepRunRecord.model_validate(row)
