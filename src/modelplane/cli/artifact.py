"""``modelplane artifact …``: list artifacts and their versions, describe one version."""

from __future__ import annotations

import json
from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import offset_of, output_option, paging_options
from modelplane.cli.output import Column

__all__ = ["artifact"]

ARTIFACT_COLUMNS = (
    Column("NAME", "name"),
    Column("VERSIONS", "version_count"),
    Column("LATEST", "latest_version"),
    Column("CREATED", "created", output.when),
)
VERSION_COLUMNS = (
    Column("NAME", "name"),
    Column("VERSION", "version"),
    Column("TYPE", "type"),
    Column("DATA TYPE", "data_type", max_width=30),
    Column("SIZE", "size", output.size),
    Column("TAGS", "tags", output.tags),
    Column("CREATED", "created", output.when),
)


@click.group(cls=OrderedGroup)
def artifact() -> None:
    """List and inspect artifacts: every step output, versioned 1, 2, 3… per name."""


@artifact.command("list")
@click.option("--name", help="Only artifacts whose name contains this text.")
@paging_options
@output_option
def list_artifacts(name: str | None, limit: int, page: int, fmt: str) -> None:
    """List artifacts, newest first."""
    found = session.client().list_artifacts(name=name, limit=limit, offset=offset_of(limit, page))
    empty = "No artifacts match." if name else "No artifacts yet: every step output becomes one."
    output.listing(found, ARTIFACT_COLUMNS, fmt=fmt, empty=empty)


@artifact.group(cls=OrderedGroup)
def version() -> None:
    """The versions of one artifact."""


@version.command("list")
@click.argument("name")
@paging_options
@output_option
def list_versions(name: str, limit: int, page: int, fmt: str) -> None:
    """List the versions of the artifact called NAME, newest first."""
    found = session.client().list_artifact_versions(
        name=name, limit=limit, offset=offset_of(limit, page)
    )
    output.listing(found, VERSION_COLUMNS, fmt=fmt, empty=f"Artifact '{name}' has no versions.")


@artifact.command()
@click.argument("spec", metavar="NAME[:VERSION]")
@output_option
def describe(spec: str, fmt: str) -> None:
    """Show one artifact version.

    NAME for the latest version, NAME:VERSION for another, or the version id.
    """
    name, _, number = spec.rpartition(":") if ":" in spec else (spec, "", "")
    record = session.client().get_artifact_version(name, number or None)
    if fmt == "json":
        output.emit_json(record)
        return
    rows: list[tuple[str, Any]] = [
        ("Name", record.name),
        ("Version", record.version),
        ("ID", record.id),
        ("Type", record.type.value),
        ("Data type", record.data_type),
        ("Materializer", record.materializer),
        ("URI", record.uri),
        ("Size", output.size(record.size)),
        ("Content hash", record.content_hash),
        ("Tags", output.tags(record.tags)),
        ("Produced by step run", record.producer_step_run_id or "-"),
        ("Created", output.when(record.created)),
    ]
    rows += [(f"Metadata: {key}", json.dumps(value)) for key, value in record.metadata.items()]
    output.fields(rows)
