"""Artifact versions in the SQL store (numbered per artifact name), and metadata merges
(``metadata.log_writes``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata import log_writes, reads, run_writes
from modelplane.metadata.reads import MAX_NUMBER
from modelplane.metadata.records import (
    ArtifactLineage,
    ArtifactModelLink,
    ArtifactRecord,
    ArtifactUse,
    ArtifactVersionRecord,
    Page,
)
from modelplane.metadata.sql.rows import (
    ARTIFACT_VERSION_SELECT,
    artifact_version_record,
    records_page,
)
from modelplane.metadata.sql.tables import (
    artifact_versions,
    artifacts,
    model_version_artifacts,
    model_versions,
    models,
    pipeline_runs,
    pipelines,
    step_run_artifacts,
    step_runs,
)
from modelplane.metadata.sql.run_statements import STATEMENTS, in_transaction
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import MetadataTarget

__all__ = ["ArtifactsMixin"]


_USES = (
    sa.select(
        step_run_artifacts.c.direction,
        step_run_artifacts.c.name,
        step_runs.c.id.label("step_run_id"),
        step_runs.c.name.label("step_name"),
        step_runs.c.status.label("step_status"),
        pipeline_runs.c.id.label("run_id"),
        pipeline_runs.c.name.label("run_name"),
        pipelines.c.name.label("pipeline_name"),
        step_runs.c.created,
    )
    .join(step_runs, step_runs.c.id == step_run_artifacts.c.step_run_id)
    .join(pipeline_runs, pipeline_runs.c.id == step_runs.c.run_id)
    .join(pipelines, pipelines.c.id == pipeline_runs.c.pipeline_id)
    .where(step_run_artifacts.c.artifact_version_id == sa.bindparam("id"))
    .order_by(step_runs.c.created, step_runs.c.id)
)
_MODEL_LINKS = (
    sa.select(
        models.c.name.label("model_name"),
        model_versions.c.number.label("version_number"),
        model_versions.c.id.label("model_version_id"),
        model_version_artifacts.c.name,
        model_version_artifacts.c.kind,
    )
    .join(model_versions, model_versions.c.id == model_version_artifacts.c.model_version_id)
    .join(models, models.c.id == model_versions.c.model_id)
    .where(model_version_artifacts.c.artifact_version_id == sa.bindparam("id"))
    .order_by(models.c.name, model_versions.c.number)
)


def _artifact_named(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(sa.select(artifacts).where(artifacts.c.name == name)).first()
    if row is None:
        found = list(
            conn.execute(sa.select(artifacts.c.name).order_by(artifacts.c.name).limit(6)).scalars()
        )
        known = ", ".join(repr(n) for n in found[:5]) + (", …" if len(found) > 5 else "")
        raise NotFoundError(
            f"Artifact {name!r} does not exist."
            + (f" Artifacts: {known}." if known else " There are no artifacts yet."),
            hint="Check the name with `modelplane artifact list`.",
        )
    return row


class ArtifactsMixin(StoreCore):
    def create_artifact_version(self, **arguments: Any) -> ArtifactVersionRecord:
        # The arguments are the protocol's, checked by run_writes.
        work = run_writes.create_artifact_version(**arguments)
        return ArtifactVersionRecord.model_validate(self.write(in_transaction(work)))

    def get_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        return self.read(
            lambda conn: artifact_version_record(
                self._artifact_version_row(conn, artifact_version_id)
            )
        )

    @staticmethod
    def _artifact_version_row(conn: Connection, artifact_version_id: str) -> Row[Any]:
        row = conn.execute(STATEMENTS["artifact_version.by_id"], {"id": artifact_version_id}).first()
        if row is None:
            raise NotFoundError(
                f"Artifact version {artifact_version_id!r} does not exist.",
                hint="It may have been deleted; list versions with `modelplane artifact list`.",
            )
        return row

    def find_artifact_version(self, name: str, version: int | None = None) -> ArtifactVersionRecord:
        if version is not None:
            if isinstance(version, str) and version.strip().isdigit():
                version = int(version)
            if (
                isinstance(version, bool)
                or not isinstance(version, int)
                or not 1 <= version <= MAX_NUMBER
            ):
                raise InvalidInputError(
                    f"{version!r} is not an artifact version number.",
                    hint="Use a number ≥ 1, or None for the newest.",
                )

        def work(conn: Connection) -> ArtifactVersionRecord:
            artifact = _artifact_named(conn, name)
            query = ARTIFACT_VERSION_SELECT.where(artifact_versions.c.artifact_id == artifact.id)
            if version is not None:
                query = query.where(artifact_versions.c.version == version)
            row = conn.execute(query.order_by(artifact_versions.c.version.desc()).limit(1)).first()
            if row is None:
                numbers = list(
                    conn.execute(
                        sa.select(artifact_versions.c.version)
                        .where(artifact_versions.c.artifact_id == artifact.id)
                        .order_by(artifact_versions.c.version.desc())
                        .limit(10)
                    ).scalars()
                )
                existing = ", ".join(str(n) for n in reversed(numbers)) or "none (all were deleted)"
                wanted = "versions left" if version is None else f"version {version}"
                raise NotFoundError(
                    f"Artifact {name!r} has no {wanted}. Versions: {existing}.",
                    hint=f"List them with `modelplane artifact list --name {name}`.",
                )
            return artifact_version_record(row)

        return self.read(work)

    def list_artifacts(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactRecord]:
        found = self.reading(
            lambda run: reads.list_artifacts(run, name=name, limit=limit, offset=offset)
        )
        return records_page(ArtifactRecord, found)

    def list_artifact_versions(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactVersionRecord]:
        """Newest first; ``name`` is the exact artifact name."""
        found = self.reading(
            lambda run: reads.list_artifact_versions(run, name=name, limit=limit, offset=offset),
            lambda conn: _artifact_named(conn, name or ""),
        )
        return records_page(ArtifactVersionRecord, found)

    def move_artifact_version(
        self, artifact_version_id: str, uri: str, *, from_uri: str
    ) -> ArtifactVersionRecord:
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidInputError(
                f"{uri!r} is not an artifact URI.", hint="Pass the URI the bytes were copied to."
            )

        def work(conn: Connection) -> ArtifactVersionRecord:
            row = self._artifact_version_row(conn, artifact_version_id)
            if row.uri != from_uri:
                raise InvalidInputError(
                    f"Artifact version {artifact_version_id} is recorded at {row.uri}, "
                    f"not {from_uri}.",
                    hint="Another migration moved it first; read the version again.",
                )
            conn.execute(
                artifact_versions.update()
                .where(artifact_versions.c.id == row.id)
                .values(uri=uri)
            )
            return artifact_version_record(self._artifact_version_row(conn, artifact_version_id))

        return self.write(work)

    def get_artifact_lineage(self, artifact_version_id: str) -> ArtifactLineage:
        def work(conn: Connection) -> ArtifactLineage:
            record = artifact_version_record(self._artifact_version_row(conn, artifact_version_id))
            uses = [
                ArtifactUse.model_validate(dict(row._mapping))
                for row in conn.execute(_USES, {"id": record.id})
            ]
            linked = [
                ArtifactModelLink.model_validate(dict(row._mapping))
                for row in conn.execute(_MODEL_LINKS, {"id": record.id})
            ]
            return ArtifactLineage(artifact_version=record, uses=uses, model_versions=linked)

        return self.read(work)

    def delete_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        def work(conn: Connection) -> ArtifactVersionRecord:
            record = artifact_version_record(self._artifact_version_row(conn, artifact_version_id))
            # Model links go by CASCADE; step run inputs and outputs keep a NULL id, which the
            # cache lookup needs.
            conn.execute(
                artifact_versions.delete().where(artifact_versions.c.id == artifact_version_id)
            )
            return record

        return self.write(work)

    def add_metadata(
        self,
        target: MetadataTarget,
        target_id: str,
        metadata: dict[str, Any],
        *,
        step_run_id: str | None = None,
    ) -> None:
        work = log_writes.add_metadata(target, target_id, metadata, step_run_id=step_run_id)
        self.write(in_transaction(work))
