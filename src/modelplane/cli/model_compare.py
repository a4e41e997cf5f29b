"""``modelplane model version compare``: two or more versions of one model side by side.

The same comparison as the dashboard's compare page (server/dashboard/compare.js): the versions'
details, their metadata (nested dicts flattened one level), the parameters of the runs that trained
them, and their linked artifacts, which differ when their content hashes do.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Callable

import click

from modelplane.cli import output, session
from modelplane.cli.options import output_option
from modelplane.cli.output import Column

if TYPE_CHECKING:
    from modelplane.client import Client

__all__ = ["compare"]

DIFFERS = "≠"
_PAGE = 1000  # the largest page every store serves
_CELL_WIDTH = 40


@dataclasses.dataclass(frozen=True)
class Row:
    """One compared field: a value per version (None where a version has none), and its cells."""

    section: str
    field: str
    values: list[Any]
    cells: list[str]
    differs: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "field": self.field,
            "values": self.values,
            "differs": self.differs,
        }


def _canonical(value: Any) -> Any:
    # 1 and 1.0 are the same number once stored as JSON (compare.js sees them as equal too).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _differ(keys: list[Any]) -> bool:
    shown = {json.dumps(_canonical(key), sort_keys=True) for key in keys}
    return len(shown) > 1


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _row(
    section: str,
    field: str,
    values: list[Any],
    *,
    show: Callable[[Any], str] = _cell,
    keys: list[Any] | None = None,
) -> Row:
    cells = [(show(value) if value is not None else "") or "-" for value in values]
    return Row(section, field, values, cells, _differ(values if keys is None else keys))


def _flat(mapping: dict[str, Any]) -> dict[str, Any]:
    """One level of nesting flattened: ``{"eval": {"acc": 1}}`` → ``{"eval.acc": 1}``."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": item for sub, item in value.items()})
        else:
            out[key] = value
    return out


def _keyed_rows(section: str, maps: list[dict[str, Any]]) -> list[Row]:
    keys = sorted({key for mapping in maps for key in mapping})
    return [_row(section, key, [mapping.get(key) for mapping in maps]) for key in keys]


def _all_pages(fetch: Callable[[int], Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = output.to_json(fetch(len(items)))
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


def _training_run(client: Client, version: dict[str, Any]) -> dict[str, Any] | None:
    """The oldest linked run that used this version, else the oldest linked run; with its steps."""
    runs = _all_pages(
        lambda offset: client.list_model_version_runs(
            version["model_id"], version["id"], limit=_PAGE, offset=offset
        )
    )
    own = [run for run in runs if run["model_version_id"] == version["id"]]
    pool = own or runs
    if not pool:
        return None
    run = min(pool, key=lambda r: r["created"])
    return {**run, "steps": output.to_json(client.list_step_runs(run["id"]))}


def _parameters(run: dict[str, Any] | None) -> dict[str, Any]:
    if run is None:
        return {}
    out = {f"pipeline.{key}": value for key, value in run["parameters"].items()}
    for step in run["steps"]:
        out.update({f"{step['name']}.{key}": value for key, value in step["parameters"].items()})
    return out


def _artifacts(client: Client, version: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Link name → the artifact versions linked under it, oldest link first."""
    links = _all_pages(
        lambda offset: client.list_artifact_links(
            version["model_id"], version["id"], limit=_PAGE, offset=offset
        )
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for link in reversed(links):  # listed newest first
        found = link["artifact_version"]
        out.setdefault(link["name"], []).append(
            {
                "kind": link["kind"],
                "id": found["id"],
                "name": found["name"],
                "version": found["version"],
                "content_hash": found["content_hash"],
            }
        )
    return out


def _artifact_rows(maps: list[dict[str, list[dict[str, Any]]]]) -> list[Row]:
    rows = []
    for name in sorted({key for mapping in maps for key in mapping}):
        values = [mapping.get(name) for mapping in maps]
        hashes = [sorted(a["content_hash"] for a in linked or []) for linked in values]
        rows.append(
            _row(
                "artifacts",
                name,
                values,
                show=lambda linked: ", ".join(f"{a['name']}:{a['version']}" for a in linked),
                keys=hashes,
            )
        )
    return rows


def _detail_rows(versions: list[dict[str, Any]], runs: list[dict[str, Any] | None]) -> list[Row]:
    def each(key: str) -> list[Any]:
        return [version[key] for version in versions]

    return [
        _row("details", "number", each("number")),
        _row("details", "name", each("name")),
        _row("details", "stage", each("stage")),
        _row("details", "created", each("created"), show=output.when),
        _row("details", "description", each("description")),
        _row("details", "tags", each("tags"), show=output.tags),
        _row(
            "details",
            "training_run",
            [run and run["name"] for run in runs],
            keys=[run and run["id"] for run in runs],
        ),
    ]


def _header(version: dict[str, Any]) -> str:
    stage = version["stage"]
    return f"v{version['number']}" if stage == "none" else f"v{version['number']} ({stage})"


def _table(versions: list[dict[str, Any]], rows: list[Row]) -> None:
    columns = [Column(" ", "mark"), Column("FIELD", "field")]
    columns += [
        Column(_header(version), f"v{index}", max_width=_CELL_WIDTH)
        for index, version in enumerate(versions)
    ]
    lines: list[dict[str, str]] = []
    for before, row in zip([None, *rows], rows):
        if before is not None and before.section != row.section:
            lines.append({})  # a blank line between sections
        line = {"mark": DIFFERS if row.differs else "", "field": f"{row.section}.{row.field}"}
        line.update({f"v{index}": cell for index, cell in enumerate(row.cells)})
        lines.append(line)
    output.table(lines, columns)
    output.message(f"{DIFFERS} marks rows that differ; artifacts are compared by content hash.")


@click.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_specs", metavar="VERSION VERSION [VERSION]...", nargs=-1)
@click.option("--only-differences", is_flag=True, help="Show only the rows whose values differ.")
@output_option
def compare(
    model_name: str, version_specs: tuple[str, ...], only_differences: bool, fmt: str
) -> None:
    """Show two or more versions of a model side by side.

    Compares the details (number, name, stage, created, description, tags,
    training run), the metadata (nested dicts flattened one level:
    report.f1), the parameters of the run that trained each version
    (pipeline.KEY, and STEP.KEY for each step run) and the linked artifacts
    by link name. A row marked ≠ differs between the versions; artifacts
    differ when their content hashes do. The training run is the oldest
    linked run that used the version, else the oldest linked run.

    -o json prints, with one entry in "values" per VERSION in the order given:

    \b
      {"model": NAME,
       "versions": [{"number", "name", "stage", "id",
                     "training_run": {"id", "name"} | null}],
       "rows": [{"section": "details" | "metadata" | "parameters" | "artifacts",
                 "field": "accuracy", "values": [...], "differs": true}]}

    A value is null where a version has no such field. An artifacts value is
    the list of artifact versions linked under that name: {"kind", "id",
    "name", "version", "content_hash"}.
    """
    if len(version_specs) < 2:
        raise click.UsageError("Give two or more versions to compare, e.g. `production latest`.")
    client = session.client()
    versions = [
        output.to_json(client.get_model_version(model_name, spec)) for spec in version_specs
    ]
    runs = [_training_run(client, version) for version in versions]
    rows = [
        *_detail_rows(versions, runs),
        *_keyed_rows("metadata", [_flat(version["metadata"]) for version in versions]),
        *_keyed_rows("parameters", [_parameters(run) for run in runs]),
        *_artifact_rows([_artifacts(client, version) for version in versions]),
    ]
    if only_differences:
        rows = [row for row in rows if row.differs]
    if fmt == "json":
        output.emit_json(
            {
                "model": versions[0]["model_name"],
                "versions": [
                    {
                        **{key: version[key] for key in ("number", "name", "stage", "id")},
                        "training_run": run and {"id": run["id"], "name": run["name"]},
                    }
                    for version, run in zip(versions, runs)
                ],
                "rows": [row.as_json() for row in rows],
            }
        )
        return
    if not rows:
        output.message("The versions do not differ.")
        return
    _table(versions, rows)
