"""Links from model versions to artifact versions and to runs, in the SQL store."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ArtifactType
from modelplane.metadata import model_writes, reads
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import ArtifactLinkRecord, Page, RunRecord
from modelplane.metadata.sql.resolve import find_model, find_run, find_version, find_version_by_id
from modelplane.metadata.sql.rows import (
    RUN_SELECT,
    count,
    page,
    records_page,
    run_record,
    utcnow,
)
from modelplane.metadata.sql.run_statements import in_transaction
from modelplane.metadata.sql.tables import (
    model_version_runs,
    pipeline_runs,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef

__all__ = ["LinksMixin"]

_RUN_LINKED = sa.select(model_version_runs.c.run_id).where(
    model_version_runs.c.model_version_id == sa.bindparam("mv_id"),
    model_version_runs.c.run_id == sa.bindparam("run_id"),
)


class LinksMixin(StoreCore):
    def link_artifact(
        self,
        model_version_id: str,
        artifact_version_id: str,
        *,
        name: str,
        kind: ArtifactType,
        overwrite: bool = False,
    ) -> ArtifactLinkRecord:
        work = model_writes.link_artifact(
            model_version_id, artifact_version_id, name=name, kind=kind, overwrite=overwrite
        )
        return ArtifactLinkRecord.model_validate(self.write(in_transaction(work)))

    def list_artifact_links(
        self,
        model: str,
        version: VersionRef,
        *,
        kind: ArtifactType | None = None,
        name: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[ArtifactLinkRecord]:
        found = self.reading(
            lambda run: reads.list_artifact_links(
                run, model, version, kind=kind, name=name, limit=limit, offset=offset
            ),
            lambda conn: self._links_the_long_way(
                conn, model, version, kind=kind, name=name, limit=limit, offset=offset
            ),
        )
        return records_page(ArtifactLinkRecord, found)

    def _links_the_long_way(self, conn: Connection, model: str, version: VersionRef, **page: Any) -> Any:
        """A version given by a model id, say: found the long way (or NotFoundError saying what
        exists), then its links by id."""
        found = find_version(conn, find_model(conn, model), version)
        return reads.list_artifact_links(self.runner(conn), found.model_name, found.id, **page)

    def link_run(self, model_version_id: str, run_id: str) -> None:
        def work(conn: Connection) -> None:
            find_version_by_id(conn, model_version_id)
            run_row = find_run(conn, run_id)
            link = {"mv_id": model_version_id, "run_id": run_row.id}
            if conn.execute(_RUN_LINKED, link).first() is None:
                conn.execute(
                    model_version_runs.insert(),
                    {
                        "model_version_id": model_version_id,
                        "run_id": run_row.id,
                        "created": utcnow(),
                    },
                )

        self.write(work)

    def count_version_links(self, model: str, version: VersionRef) -> dict[str, int]:
        def work(conn: Connection) -> dict[str, int]:
            run = self.runner(conn)
            try:
                version_id = reads.get_model_version(run, model, version)["id"]
            except reads.Missing:  # an id, or nothing: the full lookup explains what exists
                version_id = find_version(conn, find_model(conn, model), version).id
            return reads.version_link_counts(run, version_id)

        return self.read(work)

    def list_model_version_runs(
        self, model: str, version: VersionRef, *, limit: int = 50, offset: int = 0
    ) -> Page[RunRecord]:
        check_page(limit, offset)

        def work(conn: Connection) -> Page[RunRecord]:
            model_version_id = find_version(conn, find_model(conn, model), version).id
            query = RUN_SELECT.join(
                model_version_runs, model_version_runs.c.run_id == pipeline_runs.c.id
            ).where(model_version_runs.c.model_version_id == model_version_id)
            ordered = query.order_by(pipeline_runs.c.created.desc(), pipeline_runs.c.id.desc())
            rows = conn.execute(ordered.limit(limit).offset(offset))
            return page([run_record(row) for row in rows], count(conn, query), limit, offset)

        return self.read(work)
