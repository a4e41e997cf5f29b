"""The queries of ``metadata.reads``, declared once for every dialect and every variant.

A query is a builder ``(dialect, **variant) -> Select`` registered with ``@query(NAME, **space)``,
where ``space`` lists the values each variant key takes (which filters are on, which order). The
SQL store builds the variant it needs for its dialect (once, then cached); ``catalogue.py``
compiles every variant for SQLite so that the light reader runs the same SQL without SQLAlchemy.

Parameters are bind parameters named as in ``reads.py``. Columns are selected under the names of
the record fields they fill, in the record's order, so a row is already shaped like its record.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from modelplane.enums import ArtifactType
from modelplane.metadata.reads import LIKE_ESCAPE, MODEL_SORTS, VERSION_SORTS, variant_key
from modelplane.metadata.sql.rows import tag_filter
from modelplane.metadata.sql.tables import (
    artifact_versions,
    artifacts,
    model_version_artifacts,
    model_version_runs,
    model_versions,
    models,
    pipeline_runs,
    pipelines,
    step_runs,
)

__all__ = ["QUERIES", "all_variants", "statement"]

Builder = Callable[..., sa.Select[Any]]
QUERIES: dict[str, tuple[Builder, dict[str, tuple[Any, ...]]]] = {}
_FLAG = (False, True)


def query(query_name: str, /, **space: tuple[Any, ...]) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        QUERIES[query_name] = (builder, space)
        return builder

    return register


@functools.lru_cache(maxsize=None)
def _statement(name: str, dialect: str, variant: tuple[tuple[str, Any], ...]) -> sa.Select[Any]:
    builder, space = QUERIES[name]
    chosen = dict(variant)
    for key, value in chosen.items():
        if value not in space[key]:
            raise KeyError(f"{name}: {key}={value!r} is not declared")
    return builder(dialect, **chosen)


def statement(name: str, dialect: str, variant: dict[str, Any]) -> sa.Select[Any]:
    """The declared query ``name`` in ``variant`` for ``dialect`` (built once per process)."""
    return _statement(name, dialect, tuple(sorted(variant.items())))


def all_variants() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (catalogue key, query name, variant) that can be asked for."""
    for name, (_, space) in QUERIES.items():
        keys = sorted(space)
        for values in itertools.product(*(space[key] for key in keys)):
            variant = dict(zip(keys, values))
            yield variant_key(name, variant), name, variant


# -- helpers ----------------------------------------------------------------------------------


def _column(table: sa.Table, name: str) -> sa.ColumnElement[Any]:
    """``table``'s column called ``name`` in SQL (``metadata`` has the Python key ``meta``)."""
    for column in table.columns:
        if column.name == name:
            return column
    raise KeyError(f"{table.name}.{name}")


def _fields(table: sa.Table, names: tuple[str, ...], **computed: Any) -> list[Any]:
    return [
        (computed[name] if name in computed else _column(table, name)).label(name)
        for name in names
    ]


def _like(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return column.ilike(sa.bindparam("pattern", type_=sa.String), escape=LIKE_ESCAPE)


def _paged(select: sa.Select[Any], *order: Any) -> sa.Select[Any]:
    limit = sa.bindparam("limit", type_=sa.Integer)
    offset = sa.bindparam("offset", type_=sa.Integer)
    return select.order_by(*order).limit(limit).offset(offset)


def _counted(select: sa.Select[Any]) -> sa.Select[Any]:
    inner = select.order_by(None).subquery()
    return sa.select(sa.func.count().label("total")).select_from(inner)


def _tag(column: sa.Column[Any], dialect: str) -> sa.ColumnElement[bool]:
    tag: Any = sa.bindparam("tag", type_=sa.String)
    if dialect == "postgresql":  # json_build_array() cannot guess the type of a bare parameter
        tag = sa.cast(tag, sa.String)
    return tag_filter(column, tag, dialect)


def _ordered(sort: str, columns: dict[str, tuple[Any, ...]]) -> tuple[Any, ...]:
    field = sort.lstrip("-")
    return tuple(c.desc() if sort.startswith("-") else c.asc() for c in columns[field])


# -- models and versions ----------------------------------------------------------------------

MODEL_FIELDS = (
    "id", "name", "license", "description", "audience", "use_cases", "limitations",
    "trade_offs", "ethics", "tags", "gates", "created", "updated",
    "latest_version_number", "version_count",
)  # fmt: skip
VERSION_FIELDS = (
    "id", "model_id", "model_name", "number", "name", "description", "tags", "stage",
    "metadata", "created", "updated", "created_by",
)  # fmt: skip


def _model_select() -> sa.Select[Any]:
    of_model = model_versions.c.model_id == models.c.id
    latest = sa.select(sa.func.max(model_versions.c.number)).where(of_model).scalar_subquery()
    counted = sa.select(sa.func.count()).where(of_model).scalar_subquery()
    columns = _fields(models, MODEL_FIELDS, latest_version_number=latest, version_count=counted)
    return sa.select(*columns)


def _version_select() -> sa.Select[Any]:
    columns = _fields(model_versions, VERSION_FIELDS, model_name=models.c.name)
    return sa.select(*columns).join(models, models.c.id == model_versions.c.model_id)


def _models_matching(dialect: str, name: bool, tag: bool) -> sa.Select[Any]:
    select = _model_select()
    if name:
        select = select.where(_like(models.c.name))
    if tag:
        select = select.where(_tag(models.c.tags, dialect))
    return select


_MODEL_ORDER = {"name": (models.c.name,), "created": (models.c.created, models.c.id)}


@query("models.page", name=_FLAG, tag=_FLAG, sort=MODEL_SORTS)
def _models_page(dialect: str, *, name: bool, tag: bool, sort: str) -> sa.Select[Any]:
    return _paged(_models_matching(dialect, name, tag), *_ordered(sort, _MODEL_ORDER))


@query("models.count", name=_FLAG, tag=_FLAG)
def _models_count(dialect: str, *, name: bool, tag: bool) -> sa.Select[Any]:
    return _counted(_models_matching(dialect, name, tag))


@query("model.by_name")
def _model_by_name(dialect: str) -> sa.Select[Any]:
    return _model_select().where(models.c.name == sa.bindparam("key", type_=sa.String))


@query("model.by_id")
def _model_by_id(dialect: str) -> sa.Select[Any]:
    return _model_select().where(models.c.id == sa.bindparam("key", type_=sa.String))


def _versions_matching(dialect: str, name: bool, tag: bool, stage: str) -> sa.Select[Any]:
    of_model = model_versions.c.model_id == sa.bindparam("model_id", type_=sa.String)
    select = _version_select().where(of_model)
    if tag:
        select = select.where(_tag(model_versions.c.tags, dialect))
    if name:
        select = select.where(_like(model_versions.c.name))
    if stage == "latest":  # virtual: the highest number, if it passes the other filters
        highest = sa.select(sa.func.max(model_versions.c.number)).where(of_model)
        select = select.where(model_versions.c.number == highest.scalar_subquery())
    elif stage == "stage":
        select = select.where(model_versions.c.stage == sa.bindparam("stage", type_=sa.String))
    return select


_VERSION_ORDER = {
    "number": (model_versions.c.number,),
    "created": (model_versions.c.created, model_versions.c.number),
    "name": (model_versions.c.name,),
}
_STAGE_FILTERS = ("none", "stage", "latest")


@query("versions.page", name=_FLAG, tag=_FLAG, stage=_STAGE_FILTERS, sort=VERSION_SORTS)
def _versions_page(dialect: str, *, name: bool, tag: bool, stage: str, sort: str) -> sa.Select[Any]:
    select = _versions_matching(dialect, name, tag, stage)
    return _paged(select, *_ordered(sort, _VERSION_ORDER))


@query("versions.count", name=_FLAG, tag=_FLAG, stage=_STAGE_FILTERS)
def _versions_count(dialect: str, *, name: bool, tag: bool, stage: str) -> sa.Select[Any]:
    return _counted(_versions_matching(dialect, name, tag, stage))


@query("version.lookup", by=("number", "stage", "name", "id", "latest", "ids"))
def _version_lookup(dialect: str, *, by: str) -> sa.Select[Any]:
    # No ORDER BY for a stage: at most one version holds it, and ordering by number makes SQLite
    # walk the (model_id, number) key instead of the (model_id, stage) index.
    model = sa.bindparam("model", type_=sa.String)
    if by == "ids":  # a model id and a version id, as records carry them
        key = sa.bindparam("key", type_=model_versions.c.id.type)
        return _version_select().where(models.c.id == model, model_versions.c.id == key)
    select = _version_select().where(models.c.name == model)
    if by == "latest":
        return select.order_by(model_versions.c.number.desc()).limit(1)
    column = {
        "number": model_versions.c.number,
        "stage": model_versions.c.stage,
        "name": model_versions.c.name,
        "id": model_versions.c.id,
    }[by]
    select = select.where(column == sa.bindparam("key", type_=column.type))
    return select.limit(1) if by == "stage" else select


@query("version.link_counts")
def _version_link_counts(dialect: str) -> sa.Select[Any]:
    version_id = sa.bindparam("model_version_id", type_=sa.String)
    links = model_version_artifacts.c
    runs = sa.select(sa.func.count()).where(model_version_runs.c.model_version_id == version_id)
    counts = [runs.scalar_subquery().label("runs")]
    for kind in ArtifactType:
        linked = sa.select(sa.func.count()).where(
            links.model_version_id == version_id, links.kind == kind.value
        )
        counts.append(linked.scalar_subquery().label(f"{kind.value}_artifacts"))
    return sa.select(*counts)


# -- pipelines, runs, artifacts ---------------------------------------------------------------

PIPELINE_FIELDS = ("id", "name", "spec", "created", "updated")
RUN_FIELDS = (
    "id", "name", "pipeline_id", "pipeline_name", "status", "orchestrator", "parameters",
    "config", "extra", "model_version_id", "created", "ended", "error", "host", "pid",
    "heartbeat", "heartbeat_seconds", "discard_on_failure",
)  # fmt: skip
ARTIFACT_FIELDS = ("id", "name", "created", "version_count", "latest_version")
ARTIFACT_VERSION_FIELDS = (
    "id", "artifact_id", "name", "version", "type", "materializer", "data_type", "uri",
    "content_hash", "size", "producer_step_run_id", "metadata", "tags", "created",
)  # fmt: skip


def _pipelines_matching(name: bool) -> sa.Select[Any]:
    select = sa.select(*_fields(pipelines, PIPELINE_FIELDS))
    return select.where(_like(pipelines.c.name)) if name else select


@query("pipelines.page", name=_FLAG)
def _pipelines_page(dialect: str, *, name: bool) -> sa.Select[Any]:
    return _paged(_pipelines_matching(name), pipelines.c.created.desc(), pipelines.c.id.desc())


@query("pipelines.count", name=_FLAG)
def _pipelines_count(dialect: str, *, name: bool) -> sa.Select[Any]:
    return _counted(_pipelines_matching(name))


@query("pipeline.by_name")
def _pipeline_by_name(dialect: str) -> sa.Select[Any]:
    return _pipelines_matching(False).where(pipelines.c.name == sa.bindparam("key", type_=sa.String))


@query("pipeline.by_id")
def _pipeline_by_id(dialect: str) -> sa.Select[Any]:
    return _pipelines_matching(False).where(pipelines.c.id == sa.bindparam("key", type_=sa.String))


def _runs_matching(pipeline: bool, model: bool, status: bool, host: bool) -> sa.Select[Any]:
    columns = _fields(pipeline_runs, RUN_FIELDS, pipeline_name=pipelines.c.name)
    select = sa.select(*columns).join(pipelines, pipelines.c.id == pipeline_runs.c.pipeline_id)
    for on, column, key in (
        (pipeline, pipeline_runs.c.pipeline_id, "pipeline_id"),
        (status, pipeline_runs.c.status, "status"),
        (host, pipeline_runs.c.host, "host"),
    ):
        if on:
            select = select.where(column == sa.bindparam(key, type_=sa.String))
    if model:
        linked = (
            sa.select(model_version_runs.c.run_id)
            .join(model_versions, model_versions.c.id == model_version_runs.c.model_version_id)
            .where(model_versions.c.model_id == sa.bindparam("model_id", type_=sa.String))
        )
        select = select.where(pipeline_runs.c.id.in_(linked))
    return select


@query("runs.page", pipeline=_FLAG, model=_FLAG, status=_FLAG, host=_FLAG)
def _runs_page(dialect: str, **on: bool) -> sa.Select[Any]:
    order = (pipeline_runs.c.created.desc(), pipeline_runs.c.id.desc())
    return _paged(_runs_matching(**on), *order)


@query("runs.count", pipeline=_FLAG, model=_FLAG, status=_FLAG, host=_FLAG)
def _runs_count(dialect: str, **on: bool) -> sa.Select[Any]:
    return _counted(_runs_matching(**on))


def _artifacts_matching(name: bool) -> sa.Select[Any]:
    of_artifact = artifact_versions.c.artifact_id == artifacts.c.id
    latest = sa.select(sa.func.max(artifact_versions.c.version)).where(of_artifact)
    counted = sa.select(sa.func.count()).where(of_artifact)
    columns = _fields(
        artifacts,
        ARTIFACT_FIELDS,
        latest_version=latest.scalar_subquery(),
        version_count=counted.scalar_subquery(),
    )
    select = sa.select(*columns)
    return select.where(_like(artifacts.c.name)) if name else select


@query("artifacts.page", name=_FLAG)
def _artifacts_page(dialect: str, *, name: bool) -> sa.Select[Any]:
    return _paged(_artifacts_matching(name), artifacts.c.created.desc(), artifacts.c.id.desc())


@query("artifacts.count", name=_FLAG)
def _artifacts_count(dialect: str, *, name: bool) -> sa.Select[Any]:
    return _counted(_artifacts_matching(name))


@query("artifact.by_name")
def _artifact_by_name(dialect: str) -> sa.Select[Any]:
    return sa.select(artifacts.c.id).where(artifacts.c.name == sa.bindparam("key", type_=sa.String))


def _artifact_versions_matching(artifact: bool) -> sa.Select[Any]:
    columns = _fields(artifact_versions, ARTIFACT_VERSION_FIELDS, name=artifacts.c.name)
    select = sa.select(*columns).join(artifacts, artifacts.c.id == artifact_versions.c.artifact_id)
    if artifact:
        select = select.where(
            artifact_versions.c.artifact_id == sa.bindparam("artifact_id", type_=sa.String)
        )
    return select


@query("artifact_versions.page", artifact=_FLAG)
def _artifact_versions_page(dialect: str, *, artifact: bool) -> sa.Select[Any]:
    order = (
        (artifact_versions.c.version.desc(),)
        if artifact
        else (artifact_versions.c.created.desc(), artifact_versions.c.id.desc())
    )
    return _paged(_artifact_versions_matching(artifact), *order)


@query("artifact_versions.count", artifact=_FLAG)
def _artifact_versions_count(dialect: str, *, artifact: bool) -> sa.Select[Any]:
    return _counted(_artifact_versions_matching(artifact))


def _links_matching(kind: bool, name: bool) -> sa.Select[Any]:
    links = model_version_artifacts.c
    columns = [
        links.id.label("link_id"),
        links.model_version_id.label("link_model_version_id"),
        links.name.label("link_name"),
        links.kind.label("link_kind"),
        links.created.label("link_created"),
        *_fields(artifact_versions, ARTIFACT_VERSION_FIELDS, name=artifacts.c.name),
    ]
    select = (
        sa.select(*columns)
        .join(artifact_versions, artifact_versions.c.id == links.artifact_version_id)
        .join(artifacts, artifacts.c.id == artifact_versions.c.artifact_id)
        .where(links.model_version_id == sa.bindparam("model_version_id", type_=sa.String))
    )
    if kind:
        select = select.where(links.kind == sa.bindparam("kind", type_=sa.String))
    if name:
        select = select.where(links.name == sa.bindparam("name", type_=sa.String))
    return select


@query("links.page", kind=_FLAG, name=_FLAG)
def _links_page(dialect: str, *, kind: bool, name: bool) -> sa.Select[Any]:
    links = model_version_artifacts.c
    return _paged(_links_matching(kind, name), links.created.desc(), links.id.desc())


@query("links.count", kind=_FLAG, name=_FLAG)
def _links_count(dialect: str, *, kind: bool, name: bool) -> sa.Select[Any]:
    return _counted(_links_matching(kind, name))


_COUNTED = {
    "models": models,
    "model_versions": model_versions,
    "pipelines": pipelines,
    "runs": pipeline_runs,
    "step_runs": step_runs,
    "artifacts": artifacts,
    "artifact_versions": artifact_versions,
}


@query("store.counts")
def _store_counts(dialect: str) -> sa.Select[Any]:
    return sa.select(
        *(
            sa.select(sa.func.count()).select_from(table).scalar_subquery().label(key)
            for key, table in _COUNTED.items()
        )
    )
