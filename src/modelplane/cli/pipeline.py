"""``modelplane pipeline …``: list pipelines and delete one with its runs."""

from __future__ import annotations

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import confirm, offset_of, output_option, paging_options, yes_option
from modelplane.cli.output import Column

__all__ = ["pipeline"]

PIPELINE_COLUMNS = (
    Column("NAME", "name"),
    Column("ID", "id"),
    Column("CREATED", "created", output.when),
    Column("UPDATED", "updated", output.when),
)


@click.group(cls=OrderedGroup)
def pipeline() -> None:
    """List and delete pipelines (a pipeline is stored the first time it runs)."""


@pipeline.command("list")
@click.option("--name", help="Only pipelines whose name contains this text.")
@paging_options
@output_option
def list_pipelines(name: str | None, limit: int, page: int, fmt: str) -> None:
    """List pipelines."""
    found = session.read("list_pipelines", name=name, limit=limit, offset=offset_of(limit, page))
    empty = (
        "No pipelines match." if name else "No pipelines yet: they are stored when they first run."
    )
    output.listing(found, PIPELINE_COLUMNS, fmt=fmt, empty=empty)


@pipeline.command()
@click.argument("name")
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete a pipeline and its runs.

    Artifacts and model versions stay. Asks first unless -y.
    """
    client = session.writer()
    record = client.get_pipeline(name)
    runs = client.list_runs(pipeline=record.id, limit=1).total
    confirm(
        f"Delete pipeline '{record.name}' and its {runs} run{'s' if runs != 1 else ''}?", yes=yes
    )
    client.delete_pipeline(record.id)
    output.message(f"Deleted pipeline '{record.name}'.")
