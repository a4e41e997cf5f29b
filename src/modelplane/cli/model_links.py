"""The link listings of a model version: its runs, its data, model and deployment artifacts, and
the services serving it.

Each listing answers to every spelling the reference page and ZenML use: ``artifacts`` and
``data_artifacts``; ``model_artifacts`` and ``model_objects``; ``deployment_artifacts``; and
``deployments`` and ``endpoint_artifacts``, which list the inference services (``modelplane
serve``) serving the version and then its deployment artifacts.
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
    "deployment_artifacts": ("deployment", "deployment artifacts", ()),
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


def _role(row: dict[str, Any], number: int) -> str:
    if row.get("canary_version") == number and row.get("version") != number:
        state = "" if row.get("canary_state") == "active" else f", {row.get('canary_state')}"
        return f"canary {row.get('canary_percent'):g}%{state}"
    return f"follows {row['stage']}" if row.get("stage") else "pinned"


def _deployment_columns(number: int) -> tuple[Column, ...]:
    return (
        Column("ENDPOINT", "endpoint"),
        Column("STATUS", "status"),
        Column("SERVES AS", lambda r: _role(r, number)),
        Column("HOST", lambda r: f"{r['host']}:{r['pid']}"),
        Column("SINCE", "serving_since", output.when),
        Column("LAST SEEN", "last_seen", output.when),
    )


def _deployments_command(name: str) -> click.Command:
    @click.command(
        name,
        short_help="List the services serving a version." if name == "deployments" else "Same as deployments.",
    )
    @_arguments
    @click.option("--all", "everything", is_flag=True, help="Also list services that stopped or are gone.")
    @output_option
    def command(model_name: str, version_spec: str, everything: bool, fmt: str) -> None:
        client = session.client()
        version = client.get_model_version(model_name, version_spec)
        services = client.list_deployments(
            model=model_name, version=version.id, include_ended=everything, limit=1000
        )
        artifacts = client.list_artifact_links(model_name, version.id, kind="deployment", limit=1000)
        if fmt == "json":
            output.emit_json({"deployments": output.to_json(services), "deployment_artifacts": output.to_json(artifacts)})
            return
        if services.items:
            output.table(output.to_json(services)["items"], _deployment_columns(version.number))
        else:
            ended = "" if everything else " (--all shows stopped ones)"
            output.message(f"No service is serving version {version.number}{ended}.")
        if artifacts.items:
            output.table(output.to_json(artifacts)["items"], LINK_COLUMNS, title="\nDeployment artifacts")

    command.help = (
        "List the inference services serving a model version (`modelplane serve`), as its main "
        "version or its canary, and its deployment artifacts." + (
            "" if name == "deployments" else " Same as `model version deployments`."
        )
    )
    return command


LINK_COMMANDS: list[click.Command] = [runs, _deployments_command("deployments"), _deployments_command("endpoint_artifacts")]
for _canonical, (_kind, _what, _aliases) in LINK_KINDS.items():
    for _name in (_canonical, *_aliases):
        LINK_COMMANDS.append(_artifacts_command(_name, _kind, _what, _canonical))
