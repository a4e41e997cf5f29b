"""The everyday reads, written once over a runner of declared queries.

A runner is ``run(query, variant, params) -> list of rows as dicts``: it executes the query that
``metadata.sql.queries`` declares under ``query`` in the given ``variant`` (which filters and which
order). The SQL store runs them through SQLAlchemy on every dialect; the light reader
(``metadata.light``) runs their compiled SQLite text with the standard library, so a CLI read does
not import SQLAlchemy or pydantic. Either way the functions here decide which queries to run and
build the same results: rows shaped like the records (``ModelRecord``…) and pages as dicts.

Only the successful lookup lives here. When a name matches nothing these functions raise
``Missing``: the SQL store then explains what does exist (``resolve.py``), and the light reader
hands the call to the full store, which does the same. No SQLAlchemy or pydantic here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError
from modelplane.versioning import parse_stage, parse_version_spec

__all__ = [
    "MAX_INT",
    "MAX_NUMBER",
    "MAX_PAGE",
    "MODEL_SORTS",
    "VERSION_SORTS",
    "Missing",
    "Row",
    "Runner",
    "check_page",
    "check_sort",
    "count_version_links",
    "get_model",
    "get_model_version",
    "like_pattern",
    "link_row",
    "list_artifact_links",
    "list_artifact_versions",
    "list_artifacts",
    "list_model_versions",
    "list_models",
    "list_pipelines",
    "list_runs",
    "looks_like_id",
    "parse_kind",
    "parse_status",
    "store_counts",
    "variant_key",
    "version_link_counts",
]

Row = dict[str, Any]
Runner = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[Row]]

MAX_PAGE = 1000
# Larger ints overflow SQLite's 64-bit INTEGER (a raw OverflowError from the driver).
MAX_INT = 2**63 - 1
# Version numbers are 32-bit INTEGER columns; PostgreSQL refuses to compare them with more.
MAX_NUMBER = 2**31 - 1
MODEL_SORTS = ("name", "-name", "created", "-created")
VERSION_SORTS = ("number", "-number", "created", "-created", "name", "-name")
LIKE_ESCAPE = "/"
_ID = re.compile(r"[0-9a-f]{32}")
# A link's own columns in the ``links`` query, and the ``ArtifactLinkRecord`` fields they fill.
_LINK_KEYS = {
    "link_id": "id",
    "link_model_version_id": "model_version_id",
    "link_name": "name",
    "link_kind": "kind",
    "link_created": "created",
}


class Missing(LookupError):
    """A name or id matched nothing; the caller explains (or asks the full store to)."""


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def variant_key(query: str, variant: Mapping[str, Any]) -> str:
    """The catalogue's name for one variant of a query: ``models.page?name=1&sort=-created``."""
    if not variant:
        return query
    return query + "?" + "&".join(f"{key}={_flag(variant[key])}" for key in sorted(variant))


def _flag(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return f"%{text}%"


def check_page(limit: int, offset: int, most: int = MAX_PAGE) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise InvalidInputError(
            f"The page size limit={limit!r} is out of range.",
            hint=f"Use a limit from 1 to {most}.",
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_INT:
        raise InvalidInputError(
            f"The offset {offset!r} is out of range or not a number.", hint="Use an offset ≥ 0."
        )


def parse_status(status: object) -> ExecutionStatus:
    try:
        return ExecutionStatus(status.lower() if isinstance(status, str) else status)
    except ValueError:
        raise InvalidInputError(
            f"Unknown run status {status!r}.",
            hint=f"Use one of: {', '.join(s.value for s in ExecutionStatus)}.",
        ) from None


def parse_kind(kind: object) -> ArtifactType:
    try:
        return ArtifactType(kind)
    except ValueError:
        raise InvalidInputError(
            f"Unknown artifact type {kind!r}.",
            hint=f"Use one of: {', '.join(t.value for t in ArtifactType)}.",
        ) from None


def check_sort(sort: str, allowed: Iterable[str]) -> str:
    choices = list(allowed)
    if sort not in choices:
        raise InvalidInputError(
            f"Cannot sort by {sort!r}.", hint=f"Use one of: {', '.join(choices)}."
        )
    return sort


def _page(
    run: Runner, query: str, variant: dict[str, Any], params: dict[str, Any], limit: int, offset: int
) -> Row:
    """One page of ``query`` and the total its filters match (``query.count``, no order)."""
    items = run(f"{query}.page", variant, {**params, "limit": limit, "offset": offset})
    counted = {key: value for key, value in variant.items() if key != "sort"}
    total = run(f"{query}.count", counted, params)[0]["total"]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


def _one(run: Runner, query: str, ref: str, *, by_id: bool = True) -> Row:
    """The row named ``ref`` (or, if it looks like one, with id ``ref``)."""
    rows = run(f"{query}.by_name", {}, {"key": ref})
    if not rows and by_id and looks_like_id(ref):
        rows = run(f"{query}.by_id", {}, {"key": ref})
    if not rows:
        raise Missing(ref)
    return rows[0]


# -- models ----------------------------------------------------------------------------------


def get_model(run: Runner, model: str) -> Row:
    if not isinstance(model, str):
        raise InvalidInputError(f"{model!r} is not a model name.", hint="Pass the model name as text.")
    return _one(run, "model", model)


def list_models(
    run: Runner,
    *,
    name: str | None = None,
    tag: str | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> Row:
    check_page(limit, offset)
    variant = {"name": bool(name), "tag": tag is not None, "sort": check_sort(sort, MODEL_SORTS)}
    params = {"pattern": like_pattern(name) if name else None, "tag": tag}
    return _page(run, "models", variant, params, limit, offset)


def list_model_versions(
    run: Runner,
    model: str,
    *,
    stage: ModelStages | str | None = None,
    tag: str | None = None,
    name: str | None = None,
    sort: str = "-number",
    limit: int = 50,
    offset: int = 0,
) -> Row:
    check_page(limit, offset)
    check_sort(sort, VERSION_SORTS)
    parsed = parse_stage(stage) if stage is not None else None
    model_id = get_model(run, model)["id"]
    held = "none" if parsed is None else "latest" if parsed is ModelStages.LATEST else "stage"
    variant = {"name": bool(name), "tag": tag is not None, "stage": held, "sort": sort}
    params = {
        "model_id": model_id,
        "pattern": like_pattern(name) if name else None,
        "tag": tag,
        "stage": parsed.value if held == "stage" and parsed is not None else None,
    }
    return _page(run, "versions", variant, params, limit, offset)


def get_model_version(run: Runner, model: str, version: object) -> Row:
    """The common case in one query: the model by name and the version by number, stage, name,
    ``latest`` or id. A model id, or nothing found, raises ``Missing``."""
    spec = parse_version_spec(version)
    if not isinstance(model, str) or spec.kind == "new":
        raise Missing(model)
    if spec.kind == "number":
        key: Any = min(spec.number or 0, MAX_NUMBER)
    elif spec.kind == "stage":
        key = spec.stage.value if spec.stage is not None else None
    else:
        key = spec.name
    rows = run("version.lookup", {"by": spec.kind}, {"model": model, "key": key})
    if not rows and spec.kind == "name" and looks_like_id(key):
        rows = run("version.lookup", {"by": "id"}, {"model": model, "key": key})
        if not rows and looks_like_id(model):  # ids of both, as records carry them
            rows = run("version.lookup", {"by": "ids"}, {"model": model, "key": key})
    if not rows:
        raise Missing(f"{model} {version}")
    return rows[0]


def link_row(row: Row) -> Row:
    """A row of the ``links`` query (link columns prefixed ``link_``, then the artifact version's)
    shaped like ``ArtifactLinkRecord``."""
    link = {key: row[column] for column, key in _LINK_KEYS.items()}
    link["artifact_version"] = {k: v for k, v in row.items() if k not in _LINK_KEYS}
    return link


def list_artifact_links(
    run: Runner,
    model: str,
    version: object,
    *,
    kind: ArtifactType | str | None = None,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Row:
    """A page of a version's links, newest first."""
    check_page(limit, offset)
    parsed = parse_kind(kind).value if kind is not None else None
    version_id = get_model_version(run, model, version)["id"]
    variant = {"kind": parsed is not None, "name": name is not None}
    params = {"model_version_id": version_id, "kind": parsed, "name": name}
    found = _page(run, "links", variant, params, limit, offset)
    return {**found, "items": [link_row(row) for row in found["items"]]}


def count_version_links(run: Runner, model: str, version: object) -> dict[str, int]:
    return version_link_counts(run, get_model_version(run, model, version)["id"])


def version_link_counts(run: Runner, model_version_id: str) -> dict[str, int]:
    found = run("version.link_counts", {}, {"model_version_id": model_version_id})[0]
    return {key: int(value) for key, value in found.items()}


# -- pipelines, runs, artifacts ---------------------------------------------------------------


def list_pipelines(
    run: Runner, *, name: str | None = None, limit: int = 50, offset: int = 0
) -> Row:
    check_page(limit, offset)
    params = {"pattern": like_pattern(name) if name else None}
    return _page(run, "pipelines", {"name": bool(name)}, params, limit, offset)


def list_runs(
    run: Runner,
    *,
    pipeline: str | None = None,
    status: ExecutionStatus | None = None,
    model: str | None = None,
    host: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Row:
    check_page(limit, offset)
    parsed = parse_status(status) if status is not None else None
    params = {
        "pipeline_id": _one(run, "pipeline", pipeline)["id"] if pipeline is not None else None,
        "model_id": get_model(run, model)["id"] if model is not None else None,
        "status": parsed.value if parsed is not None else None,
        "host": host,
    }
    variant = {key: params[value] is not None for key, value in _RUN_FILTERS.items()}
    return _page(run, "runs", variant, params, limit, offset)


_RUN_FILTERS = {"pipeline": "pipeline_id", "model": "model_id", "status": "status", "host": "host"}


def list_artifacts(
    run: Runner, *, name: str | None = None, limit: int = 50, offset: int = 0
) -> Row:
    check_page(limit, offset)
    params = {"pattern": like_pattern(name) if name else None}
    return _page(run, "artifacts", {"name": bool(name)}, params, limit, offset)


def list_artifact_versions(
    run: Runner, *, name: str | None = None, limit: int = 50, offset: int = 0
) -> Row:
    """Newest first; ``name`` is the exact artifact name (or its id)."""
    check_page(limit, offset)
    artifact_id = _one(run, "artifact", name, by_id=False)["id"] if name is not None else None
    params = {"artifact_id": artifact_id}
    return _page(run, "artifact_versions", {"artifact": name is not None}, params, limit, offset)


def store_counts(run: Runner) -> dict[str, int]:
    """How many of each thing the store holds (``status``)."""
    return {key: int(value) for key, value in run("store.counts", {}, {})[0].items()}
