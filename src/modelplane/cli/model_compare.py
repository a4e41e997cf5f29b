"""``modelplane model version compare``: two or more versions of one model side by side.

The store computes the comparison (``compare_model_versions``, the same one the dashboard's compare
page shows); this command only lays its ``VersionComparison`` out as a table or as JSON.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import click

from modelplane.cli import output, session
from modelplane.cli.options import output_option
from modelplane.cli.output import Column

__all__ = ["compare"]

DIFFERS = "≠"
_CELL_WIDTH = 40


@dataclasses.dataclass(frozen=True)
class Row:
    """One compared field as shown: section, field, a value per version and the store's verdict."""

    section: str
    field: str
    values: list[Any]
    differs: bool

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _artifacts_cell(linked: list[dict[str, Any]]) -> str:
    return ", ".join(f"{found['name']}:{found['version']}" for found in linked)


# How a details row's values are shown; every other value by _cell.
_SHOW: dict[str, Callable[[Any], str]] = {
    "details.created": output.when,
    "details.tags": output.tags,
}


def _rows(comparison: dict[str, Any]) -> list[Row]:
    """The comparison's rows in the CLI's sections: details, metadata, metrics, parameters,
    artifacts."""
    parts = (
        ("details", "overview"),
        ("metadata", "metadata"),
        ("metrics", "metrics"),
        ("parameters", "parameters"),
    )
    rows = [
        Row(section, field["key"], field["values"], field["differs"])
        for section, part in parts
        for field in comparison[part]
    ]
    for group in comparison["artifacts"]:
        kind = group["kind"]
        values = [
            None if linked is None else [{"kind": kind, **found} for found in linked]
            for linked in group["values"]
        ]
        rows.append(Row("artifacts", f"{kind}:{group['name']}", values, group["differs"]))
    return rows


def _cells(row: Row) -> list[str]:
    name = f"{row.section}.{row.field}"
    show = _artifacts_cell if row.section == "artifacts" else _SHOW.get(name, _cell)
    return [(show(value) if value is not None else "") or "-" for value in row.values]


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
        line.update({f"v{index}": cell for index, cell in enumerate(_cells(row))})
        lines.append(line)
    output.table(lines, columns)
    output.message(f"{DIFFERS} marks rows that differ; artifacts are compared by content hash.")


def _versions_json(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for compared in comparison["versions"]:
        version, run = compared["version"], compared["training_run"]
        out.append(
            {
                **{key: version[key] for key in ("number", "name", "stage", "id")},
                "training_run": run and {"id": run["id"], "name": run["name"]},
            }
        )
    return out


@click.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_specs", metavar="VERSION VERSION [VERSION]...", nargs=-1)
@click.option("--only-differences", is_flag=True, help="Show only the rows whose values differ.")
@output_option
def compare(
    model_name: str, version_specs: tuple[str, ...], only_differences: bool, fmt: str
) -> None:
    """Show two or more versions of a model side by side.

    Compares the details (number, name, stage, created, created_by,
    description, tags, training run), the metadata (nested dicts flattened
    one level: report.f1), the last, min and max of each metric series
    (metrics.loss.min), the parameters of the run that trained each
    version (pipeline.KEY, and STEP.KEY for each step run) and the linked
    artifacts by link kind and name (KIND:NAME). A row marked ≠ differs
    between the versions; artifacts differ when their content hashes do,
    tags when their sets do. The training run is the oldest linked run that
    used the version, else the oldest linked run. The store computes all
    this; the dashboard's compare page shows the same.

    -o json prints, with one entry in "values" per VERSION in the order given:

    \b
      {"model": NAME,
       "versions": [{"number", "name", "stage", "id",
                     "training_run": {"id", "name"} | null}],
       "rows": [{"section": "details" | "metadata" | "metrics" | "parameters" | "artifacts",
                 "field": "accuracy", "values": [...], "differs": true}]}

    A value is null where a version has no such field. An artifacts value is
    the list of artifact versions linked under that kind and name, oldest
    link first: {"kind", "id", "name", "version", "content_hash"}.
    """
    found = session.client().compare_model_versions(model_name, list(version_specs))
    comparison = output.to_json(found)
    rows = _rows(comparison)
    if only_differences:
        rows = [row for row in rows if row.differs]
    versions = _versions_json(comparison)
    if fmt == "json":
        output.emit_json(
            {
                "model": comparison["model"],
                "versions": versions,
                "rows": [row.as_json() for row in rows],
            }
        )
        return
    if not rows:
        output.message("The versions do not differ.")
        return
    _table(versions, rows)
