"""Turn what a user typed (a name, an id, a version spec) into rows, or into a NotFoundError that
says what does exist. Runs inside the caller's transaction.

The statements are built once, with bind parameters: building a SELECT costs about twice as much
as running it on SQLite, and these run on every step and every version lookup.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.reads import MAX_NUMBER
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.rows import MODEL_VERSION_SELECT, RUN_SELECT
from modelplane.metadata.sql.tables import (
    artifact_versions,
    model_versions,
    models,
    pipeline_runs,
    pipelines,
    step_runs,
)
from modelplane.versioning import VersionSpec, parse_version_spec

__all__ = [
    "ARTIFACT_VERSION_EXISTS",
    "PIPELINE_BY_ID",
    "PIPELINE_BY_NAME",
    "RUN_BY_ID",
    "RUN_BY_NAME",
    "VERSION_BY_ID",
    "find_model",
    "find_pipeline",
    "find_run",
    "find_step_run",
    "find_version",
    "find_version_by_id",
    "found_artifact_versions",
    "looks_like_id",
    "spec_key",
    "version_summary",
]

_ID = re.compile(r"[0-9a-f]{32}")
_SUMMARY_SIZE = 10


def _locking(query: sa.Select[Any], of: sa.Table | None = None) -> dict[bool, sa.Select[Any]]:
    """The query, and the same query taking row locks (``FOR UPDATE``; nothing on SQLite)."""
    return {False: query, True: query.with_for_update(of=of)}


MODEL_BY_NAME = _locking(sa.select(models).where(models.c.name == sa.bindparam("key")))
MODEL_BY_ID = _locking(sa.select(models).where(models.c.id == sa.bindparam("key")))
_OF_MODEL = MODEL_VERSION_SELECT.where(model_versions.c.model_id == sa.bindparam("model_id"))
# No ORDER BY on the stage query: at most one version holds a stage, and ordering by number
# makes SQLite walk the (model_id, number) key instead of the (model_id, stage) index.
_VERSION_BY = {
    "number": _locking(
        _OF_MODEL.where(model_versions.c.number == sa.bindparam("key")), model_versions
    ),
    "stage": _locking(
        _OF_MODEL.where(model_versions.c.stage == sa.bindparam("key")).limit(1), model_versions
    ),
    "name": _locking(_OF_MODEL.where(model_versions.c.name == sa.bindparam("key")), model_versions),
    "id": _locking(_OF_MODEL.where(model_versions.c.id == sa.bindparam("key")), model_versions),
    "latest": _locking(_OF_MODEL.order_by(model_versions.c.number.desc()).limit(1), model_versions),
}
VERSION_BY_ID = _locking(
    MODEL_VERSION_SELECT.where(model_versions.c.id == sa.bindparam("key")), model_versions
)
_SUMMARY = (
    sa.select(model_versions.c.number, model_versions.c.name, model_versions.c.stage)
    .where(model_versions.c.model_id == sa.bindparam("model_id"))
    .order_by(model_versions.c.number.desc())
    .limit(_SUMMARY_SIZE + 1)
)
PIPELINE_BY_NAME = sa.select(pipelines).where(pipelines.c.name == sa.bindparam("key"))
PIPELINE_BY_ID = sa.select(pipelines).where(pipelines.c.id == sa.bindparam("key"))
RUN_BY_ID = _locking(RUN_SELECT.where(pipeline_runs.c.id == sa.bindparam("key")), pipeline_runs)
RUN_BY_NAME = _locking(
    RUN_SELECT.where(pipeline_runs.c.name == sa.bindparam("key")), pipeline_runs
)
_STEP_RUN = _locking(
    sa.select(step_runs.c.id, step_runs.c.run_id, step_runs.c.name).where(
        step_runs.c.id == sa.bindparam("key")
    )
)
ARTIFACT_VERSION_EXISTS = sa.select(artifact_versions.c.id).where(
    artifact_versions.c.id == sa.bindparam("id")
)
# Up to this many ids are looked up one by one (``direct``), more in one ``IN`` list.
_ONE_BY_ONE = 4
_ARTIFACT_VERSIONS = sa.select(artifact_versions.c.id).where(
    artifact_versions.c.id.in_(sa.bindparam("ids", expanding=True))
)


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _names(conn: Connection, column: sa.Column[str], size: int = 5) -> str:
    found = list(conn.execute(sa.select(column).order_by(column).limit(size + 1)).scalars())
    if not found:
        return ""
    more = ", …" if len(found) > size else ""
    return ", ".join(repr(name) for name in found[:size]) + more


def find_model(conn: Connection, model: str, *, lock: bool = False) -> Row[Any]:
    """The ``models`` row named (or with id) ``model``; ``lock`` holds it until commit."""
    if not isinstance(model, str):
        raise InvalidInputError(
            f"{model!r} is not a model name.", hint="Pass the model name as text."
        )
    row = conn.execute(MODEL_BY_NAME[lock], {"key": model}).first()
    if row is None and looks_like_id(model):
        row = conn.execute(MODEL_BY_ID[lock], {"key": model}).first()
    if row is None:
        existing = _names(conn, models.c.name)
        raise NotFoundError(
            f"Model {model!r} does not exist."
            + (f" Models: {existing}." if existing else " There are no models yet."),
            hint="Check the name with `modelplane model list`, or run a pipeline with "
            f"model=Model(name={model!r}) to create it.",
        )
    return row


def version_summary(conn: Connection, model_id: str) -> str:
    """The newest versions as ``1 (staging), 2 'candidate', 3`` for error messages."""
    found = conn.execute(_SUMMARY, {"model_id": model_id}).all()
    if not found:
        return "none"
    parts = []
    for number, name, stage in reversed(found[:_SUMMARY_SIZE]):
        text = str(number) if name == str(number) else f"{number} {name!r}"
        parts.append(text if stage == ModelStages.NONE.value else f"{text} ({stage})")
    return ("…, " if len(found) > _SUMMARY_SIZE else "") + ", ".join(parts)


def spec_key(spec: VersionSpec) -> Any:
    """The bind value that finds ``spec``: a number (capped, so SQLite can bind it), a stage
    or a name."""
    if spec.kind == "number":
        assert spec.number is not None
        return min(spec.number, MAX_NUMBER)
    if spec.kind == "stage":
        assert spec.stage is not None
        return spec.stage.value
    return spec.name


def find_version(
    conn: Connection, model_row: Row[Any], version: Any, *, lock: bool = False
) -> Row[Any]:
    """The version of ``model_row`` that ``version`` names (DESIGN §3 rule 3, or a version id)."""
    if version is None:
        raise InvalidInputError(
            f"No version of model {model_row.name!r} was named.",
            hint="Pass a version number, name, id or stage (staging, production, latest).",
        )
    spec = parse_version_spec(version)
    row = conn.execute(
        _VERSION_BY[spec.kind][lock], {"model_id": model_row.id, "key": spec_key(spec)}
    ).first()
    if row is None and spec.kind == "name" and looks_like_id(version):
        row = conn.execute(
            _VERSION_BY["id"][lock], {"model_id": model_row.id, "key": version}
        ).first()
    if row is not None:
        return row
    name = model_row.name
    summary = version_summary(conn, model_row.id)
    if spec.kind == "stage":
        raise NotFoundError(
            f"Model {name!r} has no version in stage '{spec.stage}'. Versions: {summary}.",
            hint="Promote one with "
            f"`modelplane model version update {name} VERSION --stage {spec.stage}` "
            f"or ModelVersion.set_stage('{spec.stage}').",
        )
    if summary == "none":
        raise NotFoundError(
            f"Model {name!r} has no versions yet, so it has no {spec.describe().removeprefix('the ')}.",
            hint=f"Run a pipeline with model=Model(name={name!r}) to create version 1.",
        )
    raise NotFoundError(
        f"Model {name!r} has no {spec.describe()}. Versions: {summary}.",
        hint=f"List them with `modelplane model version list {name}`.",
    )


def find_version_by_id(conn: Connection, model_version_id: str, *, lock: bool = False) -> Row[Any]:
    row = conn.execute(VERSION_BY_ID[lock], {"key": model_version_id}).first()
    if row is None:
        raise NotFoundError(
            f"Model version {model_version_id!r} does not exist.",
            hint="It may have been deleted; list the versions that exist with "
            "`modelplane model version list MODEL`.",
        )
    return row


def find_pipeline(conn: Connection, pipeline: str) -> Row[Any]:
    row = conn.execute(PIPELINE_BY_NAME, {"key": pipeline}).first()
    if row is None and looks_like_id(pipeline):
        row = conn.execute(PIPELINE_BY_ID, {"key": pipeline}).first()
    if row is None:
        existing = _names(conn, pipelines.c.name)
        raise NotFoundError(
            f"Pipeline {pipeline!r} does not exist."
            + (f" Pipelines: {existing}." if existing else " No pipeline has run yet."),
            hint="Check the name with `modelplane pipeline list`.",
        )
    return row


def find_run(conn: Connection, run: str, *, lock: bool = False) -> Row[Any]:
    """The run with id or name ``run`` (RUN_SELECT columns)."""
    row = conn.execute(RUN_BY_ID[lock], {"key": run}).first() if looks_like_id(run) else None
    if row is None:
        row = conn.execute(RUN_BY_NAME[lock], {"key": run}).first()
    if row is None:
        raise NotFoundError(
            f"Run {run!r} does not exist.", hint="Check it with `modelplane run list`."
        )
    return row


def find_step_run(conn: Connection, step_run_id: str, *, lock: bool = False) -> Row[Any]:
    row = conn.execute(_STEP_RUN[lock], {"key": step_run_id}).first()
    if row is None:
        raise NotFoundError(
            f"Step run {step_run_id!r} does not exist.",
            hint="Its run may have been deleted; list a run's steps with "
            "`modelplane run show RUN`.",
        )
    return row


def found_artifact_versions(conn: Connection, ids: set[str]) -> set[str]:
    """Those of ``ids`` that are stored artifact versions."""
    if len(ids) <= _ONE_BY_ONE:  # a few indexed lookups cost less than one IN list
        return {av_id for av_id in ids if direct.rows(conn, ARTIFACT_VERSION_EXISTS, {"id": av_id})}
    return set(conn.execute(_ARTIFACT_VERSIONS, {"ids": list(ids)}).scalars())
