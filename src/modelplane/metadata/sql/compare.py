"""Version comparison in the SQL store: ``compare_model_versions``, computed in one read.

This is the only implementation of the comparison: the CLI (``model version compare``) and the
dashboard's compare page display the ``VersionComparison`` it returns, and the HTTP store gets it
from a server running this code. Nothing is capped: every linked run and artifact link counts, in
a fixed number of queries per version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.engine import Connection, Row

from modelplane.enums import ArtifactType
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.gate_reads import series_values
from modelplane.metadata.records import (
    ComparedArtifact,
    ComparedArtifacts,
    ComparedField,
    ComparedVersion,
    ModelVersionRecord,
    RunRecord,
    VersionComparison,
)
from modelplane.metadata.sql.resolve import find_model, find_version, version_summary
from modelplane.metadata.sql.rows import RUN_SELECT, model_version_record, run_record
from modelplane.metadata.sql.run_statements import SqlTransaction
from modelplane.metadata.sql.tables import (
    artifact_versions,
    artifacts,
    model_version_artifacts,
    model_version_runs,
    pipeline_runs,
    step_runs,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.versioning import VersionSpec, parse_version_spec

__all__ = ["CompareMixin"]

# Built once with bind parameters (see resolve.py for why).
_VERSION_ID = sa.bindparam("mv_id")
# The training run: the oldest linked run that used the version, else the oldest linked run.
_TRAINING_RUN = (
    RUN_SELECT.join(model_version_runs, model_version_runs.c.run_id == pipeline_runs.c.id)
    .where(model_version_runs.c.model_version_id == _VERSION_ID)
    .order_by(
        sa.case((pipeline_runs.c.model_version_id == _VERSION_ID, 0), else_=1),
        pipeline_runs.c.created.asc(),
        pipeline_runs.c.id.asc(),
    )
    .limit(1)
)
_STEP_PARAMETERS = (
    sa.select(step_runs.c.name, step_runs.c.parameters)
    .where(step_runs.c.run_id == sa.bindparam("run_id"))
    .order_by(step_runs.c.created.asc(), step_runs.c.id.asc())
)
_LINK = model_version_artifacts.c
_LINKS = (
    sa.select(
        _LINK.model_version_id,
        _LINK.kind,
        _LINK.name.label("link_name"),
        artifact_versions.c.id,
        artifacts.c.name,
        artifact_versions.c.version,
        artifact_versions.c.content_hash,
    )
    .select_from(model_version_artifacts)
    .join(artifact_versions, artifact_versions.c.id == _LINK.artifact_version_id)
    .join(artifacts, artifacts.c.id == artifact_versions.c.artifact_id)
    .where(_LINK.model_version_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_LINK.created.asc(), _LINK.id.asc())
)

_LinkKey = tuple[str, str]  # (link kind, link name)


# -- what counts as different -----------------------------------------------------------------
def _canonical(value: Any) -> Any:
    # 1 and 1.0 are the same number once stored as JSON.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _differ(keys: Sequence[Any]) -> bool:
    return len({json.dumps(_canonical(key), sort_keys=True) for key in keys}) > 1


def _field(key: str, values: list[Any], keys: list[Any] | None = None) -> ComparedField:
    """A row of ``values``; it differs when ``keys`` (the values themselves by default) do."""
    plain = [to_jsonable_python(value) for value in values]
    return ComparedField(key=key, values=plain, differs=_differ(plain if keys is None else keys))


def _flat(mapping: dict[str, Any]) -> dict[str, Any]:
    """One level of nesting flattened: ``{"eval": {"acc": 1}}`` → ``{"eval.acc": 1}``."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": item for sub, item in value.items()})
        else:
            out[key] = value
    return out


def _keyed(maps: list[dict[str, Any]]) -> list[ComparedField]:
    keys = sorted({key for mapping in maps for key in mapping})
    return [_field(key, [mapping.get(key) for mapping in maps]) for key in keys]


# -- the arguments --------------------------------------------------------------------------
def _specs(model: str, versions: Sequence[VersionRef]) -> list[VersionSpec]:
    """Each requested version parsed, or InvalidInputError: not a list, fewer than two, a value
    that names no version, or one version named twice."""
    if isinstance(versions, (str, bytes)) or not isinstance(versions, Sequence):
        raise InvalidInputError(
            f"The versions to compare must be a list, not {versions!r}.",
            hint="Pass two or more versions, e.g. [1, 2] or ['production', 'latest'].",
        )
    specs = []
    for version in versions:
        spec = parse_version_spec(version)
        if spec.kind == "new":
            raise InvalidInputError(
                f"The versions to compare include None, which names no version of model {model!r}.",
                hint="Use a version number, name or stage.",
            )
        specs.append(spec)
    if len(specs) < 2:
        raise InvalidInputError(
            f"Comparing needs two or more versions of model {model!r}; "
            + (f"only {specs[0].describe()} was given." if specs else "none were given."),
            hint="Name two or more versions: numbers, names or stages (e.g. production latest).",
        )
    twice = [spec for index, spec in enumerate(specs) if spec in specs[:index]]
    if twice:
        named = ", ".join(dict.fromkeys(spec.describe() for spec in twice))
        raise InvalidInputError(
            f"The versions to compare of model {model!r} name {named} more than once.",
            hint="Name each version once.",
        )
    return specs


def _find_versions(
    conn: Connection, model_row: Row[Any], versions: Sequence[VersionRef], specs: list[VersionSpec]
) -> list[Row[Any]]:
    """The rows of the requested versions; NotFoundError naming every one that does not exist."""
    found: list[Row[Any]] = []
    missing: list[tuple[VersionSpec, NotFoundError]] = []
    for version, spec in zip(versions, specs):
        try:
            found.append(find_version(conn, model_row, version))
        except NotFoundError as exc:
            missing.append((spec, exc))
    if len(missing) == 1:
        raise missing[0][1]
    if missing:
        named = "; ".join(spec.describe() for spec, _ in missing)
        raise NotFoundError(
            f"Model {model_row.name!r} has none of these versions: {named}. "
            f"Versions: {version_summary(conn, model_row.id)}.",
            hint=f"Compare versions that exist; list them with "
            f"`modelplane model version list {model_row.name}`.",
        )
    return found


# -- the parts of a comparison ----------------------------------------------------------------
def _parameters(conn: Connection, run: RunRecord | None) -> dict[str, Any]:
    """``pipeline.KEY`` for the run's parameters, ``STEP.KEY`` for each step run's, in order."""
    if run is None:
        return {}
    out = {f"pipeline.{key}": value for key, value in run.parameters.items()}
    for name, parameters in conn.execute(_STEP_PARAMETERS, {"run_id": run.id}):
        out.update({f"{name}.{key}": value for key, value in (parameters or {}).items()})
    return out


def _overview(
    versions: list[ModelVersionRecord], runs: list[RunRecord | None]
) -> list[ComparedField]:
    def each(name: str) -> list[Any]:
        return [getattr(version, name) for version in versions]

    tags = each("tags")
    return [
        _field("number", each("number")),
        _field("name", each("name")),
        _field("stage", each("stage")),
        _field("created", each("created")),
        _field("created_by", each("created_by")),
        _field("description", each("description")),
        _field("tags", tags, keys=[sorted(found) for found in tags]),
        _field(
            "training_run",
            [run and run.name for run in runs],
            keys=[run and run.id for run in runs],
        ),
    ]


_Linked = dict[str, dict[_LinkKey, list[ComparedArtifact]]]  # version id → its links by key


def _linked(conn: Connection, version_ids: list[str]) -> _Linked:
    """Per version id: its linked artifact versions by (kind, link name), oldest link first."""
    out: _Linked = {version_id: {} for version_id in version_ids}
    for row in conn.execute(_LINKS, {"ids": version_ids}):
        linked = ComparedArtifact(
            id=row.id, name=row.name, version=row.version, content_hash=row.content_hash
        )
        out[row.model_version_id].setdefault((row.kind, row.link_name), []).append(linked)
    return out


def _artifacts(versions: list[ModelVersionRecord], linked: _Linked) -> list[ComparedArtifacts]:
    maps = [linked[version.id] for version in versions]
    rows = []
    for kind, name in sorted({key for mapping in maps for key in mapping}):
        values = [mapping.get((kind, name)) for mapping in maps]
        hashes = [sorted(found.content_hash for found in value or []) for value in values]
        rows.append(
            ComparedArtifacts(
                kind=ArtifactType(kind), name=name, values=values, differs=_differ(hashes)
            )
        )
    return rows


class CompareMixin(StoreCore):
    def compare_model_versions(
        self, model: str, versions: Sequence[VersionRef]
    ) -> VersionComparison:
        specs = _specs(model, versions)

        def work(conn: Connection) -> VersionComparison:
            model_row = find_model(conn, model)
            found = [
                model_version_record(row)
                for row in _find_versions(conn, model_row, versions, specs)
            ]
            ids = list(dict.fromkeys(version.id for version in found))  # a version asked twice
            runs: dict[str, RunRecord | None] = {}
            parameters: dict[str, dict[str, Any]] = {}
            for version_id in ids:
                row = conn.execute(_TRAINING_RUN, {"mv_id": version_id}).first()
                runs[version_id] = run_record(row) if row is not None else None
                parameters[version_id] = _parameters(conn, runs[version_id])
            trained = [runs[version.id] for version in found]
            return VersionComparison(
                model=model_row.name,
                versions=[
                    ComparedVersion(version=version, training_run=run)
                    for version, run in zip(found, trained)
                ],
                overview=_overview(found, trained),
                metadata=_keyed([_flat(version.metadata) for version in found]),
                parameters=_keyed([parameters[version.id] for version in found]),
                artifacts=_artifacts(found, _linked(conn, ids)),
                metrics=_keyed([series_values(SqlTransaction(conn), version.id) for version in found]),
            )

        return self.read(work)
