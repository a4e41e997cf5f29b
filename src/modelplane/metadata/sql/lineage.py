"""A model version's lineage in the SQL store: every linked run, its steps and the artifact
versions they read and wrote, in a fixed number of queries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.metadata.records import VersionLineage
from modelplane.metadata.sql.resolve import find_model, find_version
from modelplane.metadata.sql.rows import (
    ARTIFACT_VERSION_SELECT,
    RUN_SELECT,
    STEP_RUN_SELECT,
    artifact_version_record,
    run_record,
    step_run_records,
)
from modelplane.metadata.sql.tables import (
    artifact_versions,
    model_version_artifacts,
    model_version_runs,
    pipeline_runs,
    step_runs,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef

__all__ = ["LineageMixin", "MAX_LINEAGE_RUNS"]

# The newest runs of a version that a lineage shows (a version used by thousands of prediction
# runs would otherwise draw them all); ``runs_total`` says how many there are.
MAX_LINEAGE_RUNS = 50


class LineageMixin(StoreCore):
    def get_version_lineage(self, model: str, version: VersionRef) -> VersionLineage:
        def work(conn: Connection) -> VersionLineage:
            version_id = find_version(conn, find_model(conn, model), version).id
            linked = sa.select(model_version_runs.c.run_id).where(
                model_version_runs.c.model_version_id == version_id
            )
            total = conn.execute(sa.select(sa.func.count()).select_from(linked.subquery())).scalar_one()
            runs = [
                run_record(row)
                for row in conn.execute(
                    RUN_SELECT.where(pipeline_runs.c.id.in_(linked))
                    .order_by(pipeline_runs.c.created.desc(), pipeline_runs.c.id.desc())
                    .limit(MAX_LINEAGE_RUNS)
                )
            ]
            steps = step_run_records(
                conn,
                conn.execute(
                    STEP_RUN_SELECT.where(step_runs.c.run_id.in_([run.id for run in runs])).order_by(
                        step_runs.c.created, step_runs.c.id
                    )
                ).all()
                if runs
                else [],
            )
            wanted = {av for step in steps for av in (*step.inputs.values(), *step.outputs.values())}
            links = {
                av_id: kind
                for av_id, kind in conn.execute(
                    sa.select(
                        model_version_artifacts.c.artifact_version_id, model_version_artifacts.c.kind
                    ).where(model_version_artifacts.c.model_version_id == version_id)
                )
            }
            wanted |= set(links)
            artifacts = (
                [
                    artifact_version_record(row)
                    for row in conn.execute(
                        ARTIFACT_VERSION_SELECT.where(artifact_versions.c.id.in_(sorted(wanted)))
                    )
                ]
                if wanted
                else []
            )
            return VersionLineage(
                model_version_id=version_id,
                runs=runs,
                runs_total=int(total),
                steps=steps,
                artifacts=artifacts,
                linked={av_id: kind for av_id, kind in links.items()},
            )

        return self.read(work)
