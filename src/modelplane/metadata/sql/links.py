"""Links from model versions to artifact versions and to runs, in the SQL store."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ArtifactType
from modelplane.errors import NotFoundError
from modelplane.metadata import reads
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import ArtifactLinkRecord, ArtifactVersionRecord, Page, RunRecord
from modelplane.metadata.arguments import parse_kind
from modelplane.metadata.sql.resolve import find_model, find_run, find_version, find_version_by_id
from modelplane.metadata.sql.rows import (
    LINK_SELECT,
    RUN_SELECT,
    count,
    link_record,
    new_id,
    page,
    run_record,
    utcnow,
)
from modelplane.metadata.sql.run_statements import STATEMENTS
from modelplane.metadata.sql.tables import (
    model_version_artifacts,
    model_version_runs,
    pipeline_runs,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.versioning import check_name

__all__ = ["LinksMixin"]

# link_artifact runs once per linked step output; its statements are built once (see resolve.py).
_LINKS = model_version_artifacts.c
_SAME_NAME = sa.and_(
    _LINKS.model_version_id == sa.bindparam("mv_id"), _LINKS.name == sa.bindparam("name")
)
_DELETE_SAME_NAME = model_version_artifacts.delete().where(_SAME_NAME)
_SAME_LINK = LINK_SELECT.where(
    _SAME_NAME,
    _LINKS.artifact_version_id == sa.bindparam("av_id"),
    _LINKS.kind == sa.bindparam("kind"),
).limit(1)
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
        check_name(name, "artifact link")
        parsed = parse_kind(kind)

        def work(conn: Connection) -> ArtifactLinkRecord:
            # Locking the version makes concurrent overwrites of one link name take turns, so
            # exactly one link of that name survives.
            find_version_by_id(conn, model_version_id, lock=True)
            row = conn.execute(STATEMENTS["artifact_version.by_id"], {"id": artifact_version_id}).first()
            if row is None:
                raise NotFoundError(
                    f"Artifact version {artifact_version_id!r} does not exist; nothing was linked.",
                    hint="Save the artifact first, or pass the id of a stored artifact version.",
                )
            if overwrite:
                conn.execute(_DELETE_SAME_NAME, {"mv_id": model_version_id, "name": name})
            else:
                # Linking the same artifact version under the same name twice (a cache hit in a
                # re-run) keeps one link.
                existing = conn.execute(
                    _SAME_LINK,
                    {
                        "mv_id": model_version_id,
                        "name": name,
                        "av_id": artifact_version_id,
                        "kind": parsed.value,
                    },
                ).first()
                if existing is not None:
                    return link_record(existing)
            link: dict[str, Any] = {
                "id": new_id(),
                "model_version_id": model_version_id,
                "name": name,
                "kind": parsed.value,
                "created": utcnow(),
            }
            conn.execute(
                model_version_artifacts.insert(),
                {**link, "artifact_version_id": artifact_version_id},
            )
            return ArtifactLinkRecord.model_validate(
                {
                    **link,
                    "artifact_version": ArtifactVersionRecord.model_validate(dict(row._mapping)),
                }
            )

        return self.write(work)

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
        check_page(limit, offset)
        parsed = parse_kind(kind) if kind is not None else None
        links = model_version_artifacts.c

        def work(conn: Connection) -> Page[ArtifactLinkRecord]:
            model_version_id = find_version(conn, find_model(conn, model), version).id
            query = LINK_SELECT.where(links.model_version_id == model_version_id)
            if parsed is not None:
                query = query.where(links.kind == parsed.value)
            if name is not None:
                query = query.where(links.name == name)
            ordered = query.order_by(links.created.desc(), links.id.desc())
            rows = conn.execute(ordered.limit(limit).offset(offset))
            return page([link_record(row) for row in rows], count(conn, query), limit, offset)

        return self.read(work)

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
