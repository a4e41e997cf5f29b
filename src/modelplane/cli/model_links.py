"""The link listings of a model version: its runs and its data, model and deployment artifacts.

Each listing answers to every spelling the reference page and ZenML use: ``artifacts`` and
``data_artifacts``; ``model_artifacts`` and ``model_objects``; ``endpoint_artifacts``,
``deployments`` and ``deployment_artifacts``.
"""

from __future__ import annotations

from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.options import offset_of, output_option, paging_options
from modelplane.cli.output import Column
from modelplane.cli.run import RUN_COLUMNS

__all__ = ["LINK_COMMANDS", "LINK_KINDS"]

# command name → (artifact link kind, what it lists, the other spellings)
LINK_KINDS = {
    "data_artifacts": ("data", "data artifacts (datasets, predictions, metrics…)", ("artifacts",)),
    "model_artifacts": ("model", "model artifacts (trained model objects)", ("model_objects",)),
    "deployment_artifacts": (
        "deployment",
        "deployment artifacts",
        ("endpoint_artifacts", "deployments"),
    ),
}
LINK_COLUMNS = (
    Column("LINK NAME", "name"),
    Column(
        "ARTIFACT", lambda r: f"{r['artifact_version']['name']}:{r['artifact_version']['version']}"
    ),
    Column("DATA TYPE", lambda r: r["artifact_version"]["data_type"], max_width=30),
    Column("SIZE", lambda r: output.size(r["artifact_version"]["size"])),
    Column("LINKED", "created", output.when),
)


def _arguments(func: Any) -> Any:
    func = click.argument("version_spec", metavar="VERSION")(func)
    return click.argument("model_name", metavar="NAME")(func)


def _artifacts_command(name: str, kind: str, what: str, canonical: str) -> click.Command:
    note = "" if name == canonical else f" Same as `model version {canonical}`."
    short = (
        f"List the {kind} artifacts of a version." if name == canonical else f"Same as {canonical}."
    )

    @click.command(
        name,
        short_help=short,
        help=f"List the {what} linked to a model version, newest first.{note}",
    )
    @_arguments
    @paging_options
    @output_option
    def command(model_name: str, version_spec: str, limit: int, page: int, fmt: str) -> None:
        found = session.client().list_artifact_links(
            model_name, version_spec, kind=kind, limit=limit, offset=offset_of(limit, page)
        )
        output.listing(
            found, LINK_COLUMNS, fmt=fmt, empty=f"No {kind} artifacts are linked to this version."
        )

    return command


@click.command("runs")
@_arguments
@paging_options
@output_option
def runs(model_name: str, version_spec: str, limit: int, page: int, fmt: str) -> None:
    """List the pipeline runs of a version, newest first."""
    found = session.client().list_model_version_runs(
        model_name, version_spec, limit=limit, offset=offset_of(limit, page)
    )
    output.listing(found, RUN_COLUMNS, fmt=fmt, empty="No runs are linked to this version.")


LINK_COMMANDS: list[click.Command] = [runs]
for _canonical, (_kind, _what, _aliases) in LINK_KINDS.items():
    for _name in (_canonical, *_aliases):
        LINK_COMMANDS.append(_artifacts_command(_name, _kind, _what, _canonical))
