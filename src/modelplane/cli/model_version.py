"""``modelplane model version …``: list, describe, update (stage moves), delete, history, rollback.

``VERSION`` arguments take a number, a version name or a stage (staging, production, latest). The
link listings (runs, artifacts, …) are in cli.model_links.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.model_links import LINK_COMMANDS
from modelplane.cli.options import confirm, offset_of, output_option, paging_options, yes_option
from modelplane.cli.output import Column
from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    PromotionBlockedError,
    StageConflictError,
)
from modelplane.versioning import check_version_name

if TYPE_CHECKING:
    from modelplane.client import Client
    from modelplane.metadata.records import ModelVersionRecord

__all__ = ["version"]

_ALL_STAGES = [s.value for s in ModelStages]
# The stages a version can be moved to: ``latest`` is virtual (the highest number), never set.
_SETTABLE_STAGES = [s.value for s in ModelStages if s is not ModelStages.LATEST]
VERSION_COLUMNS = (
    Column("VERSION", "number"),
    Column("NAME", "name", max_width=30),
    Column("STAGE", "stage"),
    Column("TAGS", "tags", output.tags),
    Column("DESCRIPTION", "description", max_width=40),
    Column("CREATED", "created", output.when),
    Column("BY", "created_by"),
)
HISTORY_COLUMNS = (
    Column("TIME", "created", output.when),
    Column("VERSION", lambda r: _version_label(r["version_number"], r["version_name"])),
    Column("FROM", "from_stage"),
    Column("TO", "to_stage"),
    Column("KIND", "kind"),  # move, rollback or refused (the gates kept the version out)
    Column("ACTOR", "actor"),
    Column("REASON", "reason", max_width=40),
)


def _version_label(number: int, name: str) -> str:
    return str(number) if name == str(number) else f"{number} ({name})"


@click.group(cls=OrderedGroup)
def version() -> None:
    """List, inspect, promote and delete the versions of a model.

    VERSION arguments take a number (3), a version name, or a stage: staging,
    production, or latest (the highest number).
    """


@version.command("list")
@click.argument("model_name", metavar="NAME")
@click.option(
    "--stage",
    type=click.Choice(_ALL_STAGES, case_sensitive=False),
    help="Only versions in this stage.",
)
@click.option("--tag", help="Only versions with this tag.")
@paging_options
@output_option
def list_versions(
    model_name: str, stage: str | None, tag: str | None, limit: int, page: int, fmt: str
) -> None:
    """List the versions of a model, newest first."""
    offset = offset_of(limit, page)
    found = session.read(
        "list_model_versions", model_name, stage=stage, tag=tag, limit=limit, offset=offset
    )
    empty = (
        f"No versions of model '{model_name}' match."
        if stage or tag
        else f"Model '{model_name}' has no versions yet; a run with model=Model(name=…) makes one."
    )
    output.listing(found, VERSION_COLUMNS, fmt=fmt, empty=empty)


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time; use e.g. 2026-11-20, '2026-11-20 14:30' (local time) or "
            "2026-11-20T14:30Z."
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _asked(at: datetime) -> str:
    """The time an --as-of question was about, in full: a holder can change within a second."""
    return at.isoformat(sep=" ")


def _holder_at(client: Client, model_name: str, stage_name: str, at: datetime) -> ModelVersionRecord:
    stage = stage_name.lower()
    if stage not in SINGLE_HOLDER_STAGES:
        raise click.BadParameter(
            f"--as-of needs VERSION to be a stage ({' or '.join(SINGLE_HOLDER_STAGES)}), "
            f"not {stage_name!r}.",
            param_hint="--as-of",
        )
    record = client.get_stage_holder_at(model_name, stage, at)
    if record is None:
        raise NotFoundError(
            f"No version of model '{model_name}' held {stage} at {_asked(at)}.",
            hint=f"See the changes with `modelplane model version history {model_name} "
            f"--stage {stage}`.",
        )
    return record


@version.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_spec", metavar="VERSION")
@click.option(
    "--as-of",
    "as_of",
    metavar="TIME",
    callback=_as_of,
    help="With VERSION a stage: the version that held it at TIME (local time unless it has an "
    "offset or Z), e.g. --as-of '2026-11-20 14:30'.",
)
@output_option
def describe(model_name: str, version_spec: str, as_of: datetime | None, fmt: str) -> None:
    """Show a version's stage, metadata and links.

    The counts are of linked runs and of data, model and deployment artifacts.
    """
    if as_of is not None:
        record = output.to_json(_holder_at(session.client(), model_name, version_spec, as_of))
    else:
        record = session.read("get_model_version", model_name, version_spec)
    counts = session.read("count_version_links", model_name, record["id"])
    if fmt == "json":
        extra = {"as_of": as_of.isoformat()} if as_of is not None else {}
        output.emit_json({**record, "counts": counts, **extra})
        return
    rows: list[tuple[str, Any]] = [
        ("Model", record["model_name"]),
        ("Version", record["number"]),
        ("Name", record["name"]),
        ("ID", record["id"]),
        ("Stage", record["stage"]),
        *(
            [(f"Held {version_spec.lower()} at", _asked(as_of))]
            if as_of is not None
            else []
        ),
        ("Description", record["description"] or ""),
        ("Tags", output.tags(record["tags"])),
        ("Created", output.when(record["created"])),
        ("Created by", record["created_by"]),
        ("Updated", output.when(record["updated"])),
    ]
    rows += [(f"Metadata: {key}", json.dumps(value)) for key, value in record["metadata"].items()]
    rows += [
        ("Runs", counts["runs"]),
        ("Data artifacts", counts["data_artifacts"]),
        ("Model artifacts", counts["model_artifacts"]),
        ("Deployment artifacts", counts["deployment_artifacts"]),
    ]
    output.fields(rows)


def _conflict_hint(stage: str, expect_current: int | None, model_name: str) -> str:
    if expect_current is not None:
        return (
            f"See who holds it with `modelplane model version list {model_name} --stage {stage}`, "
            "then retry with the right --expect-current (0 means nobody)."
        )
    return f"Add --force to archive the current holder and move this version to {stage}."


def _check_name_free(client: Client, record: ModelVersionRecord, new_name: str) -> None:
    check_version_name(new_name)
    try:
        holder = client.get_model_version(record.model_id, new_name)
    except NotFoundError:
        return
    if holder.id != record.id:
        raise AlreadyExistsError(
            f"Model '{record.model_name}' already has a version named '{new_name}' "
            f"(version {holder.number}); nothing was changed.",
            hint="Pick another name.",
        )


@version.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_spec", metavar="VERSION")
@click.option(
    "-s",
    "--stage",
    type=click.Choice(_SETTABLE_STAGES, case_sensitive=False),
    help="Move the version to this stage.",
)
@click.option(
    "--force", is_flag=True, help="With -s: archive the version that holds the stage now."
)
@click.option(
    "--expect-current",
    type=click.IntRange(min=0),
    help="With -s: only move if this version number holds the stage now (0: nobody).",
)
@click.option("--reason", help="With -s: why, recorded in the stage history.")
@click.option("-n", "--name", "new_name", help="Rename the version.")
@click.option("-d", "--description", help="Set the description.")
@click.option("-t", "--tag", "add_tags", multiple=True, help="Add a tag; repeat for several.")
@click.option(
    "-r", "--remove-tag", "remove_tags", multiple=True, help="Remove a tag; repeat for several."
)
@output_option
def update(
    model_name: str,
    version_spec: str,
    stage: str | None,
    force: bool,
    expect_current: int | None,
    reason: str | None,
    new_name: str | None,
    description: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    fmt: str,
) -> None:
    """Move a version to a stage, or rename or tag it.

    -s production moves the version to production. If another version holds
    staging or production, add --force to archive it in the same step.
    --expect-current N moves only if version N holds the stage now (0: nobody).
    """
    edits = new_name is not None or description is not None or add_tags or remove_tags
    if stage is None and (force or expect_current is not None or reason):
        raise click.UsageError("--force, --expect-current and --reason only work with -s/--stage.")
    if stage is None and not edits:
        raise click.UsageError(
            "Nothing to update: give -s STAGE, -n NAME, -d TEXT, -t TAG or -r TAG."
        )
    if expect_current is not None and stage not in SINGLE_HOLDER_STAGES:
        only = " or ".join(f"-s {holdable}" for holdable in SINGLE_HOLDER_STAGES)
        raise click.UsageError(f"--expect-current only works with {only}.")
    client = session.writer()
    record = client.get_model_version(model_name, version_spec)
    if new_name is not None and stage is not None:
        # The stage move and the edits are two transactions: check the name before either runs.
        _check_name_free(client, record, new_name)
    if stage is not None:
        try:
            record = client.set_stage(
                model_name,
                record.id,
                stage,
                force=force,
                expected_current=expect_current,
                reason=reason,
            )
        except PromotionBlockedError as exc:
            raise PromotionBlockedError(
                exc.message,
                hint="Log the missing metadata or promote a better version; see the gates with "
                f"`modelplane model describe {model_name}`, change them with `modelplane model "
                "update --gate/--remove-gate`. --force does not bypass gates.",
            ) from exc
        except StageConflictError as exc:
            raise StageConflictError(
                exc.message, hint=_conflict_hint(stage, expect_current, model_name)
            ) from exc
    if edits:
        record = client.update_model_version(
            model_name,
            record.id,
            name=new_name,
            description=description,
            add_tags=add_tags,
            remove_tags=remove_tags,
        )
    if fmt == "json":
        output.emit_json(record)
        return
    label = _version_label(record.number, record.name)
    if stage is not None:
        output.message(
            f"Model '{record.model_name}' version {label} is now in stage '{record.stage.value}'."
        )
    else:
        output.message(f"Updated model '{record.model_name}' version {label}.")


@version.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_spec", metavar="VERSION")
@click.option(
    "--force", is_flag=True, help="Also delete a version that holds staging or production."
)
@yes_option
def delete(model_name: str, version_spec: str, force: bool, yes: bool) -> None:
    """Delete a model version and its links.

    The runs and artifacts it was linked to stay. Asks first unless -y.
    """
    client = session.writer()
    record = client.get_model_version(model_name, version_spec)
    label = _version_label(record.number, record.name)
    if record.stage in SINGLE_HOLDER_STAGES and not force:
        raise InvalidInputError(
            f"Version {label} of model '{record.model_name}' is in stage '{record.stage.value}' "
            "and was not deleted.",
            hint="Move another version into that stage first, or add --force to delete it anyway.",
        )
    confirm(f"Delete version {label} of model '{record.model_name}'?", yes=yes)
    client.delete_model_version(model_name, record.id, force=force)
    output.message(f"Deleted version {label} of model '{record.model_name}'.")


@version.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_spec", metavar="[VERSION]", required=False)
@click.option(
    "--stage",
    type=click.Choice(_ALL_STAGES, case_sensitive=False),
    help="Only changes into or out of this stage.",
)
@paging_options
@output_option
def history(
    model_name: str, version_spec: str | None, stage: str | None, limit: int, page: int, fmt: str
) -> None:
    """Show the stage changes: who, when and why.

    Newest first; give VERSION to see only that version's changes.
    """
    found = session.client().list_stage_changes(
        model_name, version=version_spec, stage=stage, limit=limit, offset=offset_of(limit, page)
    )
    scope = (
        f"version {version_spec} of model '{model_name}'"
        if version_spec
        else f"model '{model_name}'"
    )
    output.listing(found, HISTORY_COLUMNS, fmt=fmt, empty=f"No stage changes of {scope}.")


@version.command()
@click.argument("model_name", metavar="NAME")
@click.option(
    "-s",
    "--stage",
    type=click.Choice([s.value for s in SINGLE_HOLDER_STAGES], case_sensitive=False),
    required=True,
    help="The stage to give back to its previous holder.",
)
@click.option("--reason", help="Why, recorded in the stage history.")
@output_option
def rollback(model_name: str, stage: str, reason: str | None, fmt: str) -> None:
    """Give a stage back to its previous holder.

    The current holder goes back to the stage it held before (archived if another version holds
    that stage now); both moves are recorded in the history. Each rollback goes one holder further
    back: a second one does not return to the version just backed out of.
    """
    client = session.writer()
    client.get_model(model_name)  # an unknown model is reported as such, not as "no earlier holder"
    try:
        record = client.rollback_stage(model_name, stage, reason=reason)
    except NotFoundError as exc:
        raise NotFoundError(
            exc.message,
            hint="Move a version there with "
            f"`modelplane model version update {model_name} VERSION -s {stage}`.",
        ) from exc
    if fmt == "json":
        output.emit_json(record)
        return
    label = _version_label(record.number, record.name)
    output.message(f"Model '{record.model_name}' version {label} is in stage '{stage}' again.")


for _command in LINK_COMMANDS:
    version.add_command(_command)

# `compare` and `metrics` are listed right after rollback, before the link listings.
from modelplane.cli.model_compare import compare  # noqa: E402
from modelplane.cli.model_metrics import metrics  # noqa: E402

_order = list(version.commands)
_order[_order.index("rollback") + 1 : _order.index("rollback") + 1] = ["compare", "metrics"]
version.add_command(compare)
version.add_command(metrics)
version.commands = {name: version.commands[name] for name in _order}
