"""``modelplane model …``: register, list, describe, update and delete models.

The ``version`` subgroup lives in cli.model_version. Reads go through ``session.read``, so on a
local SQLite store they do not import the client.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.model_version import version
from modelplane.cli.options import confirm, offset_of, output_option, paging_options, yes_option
from modelplane.cli.output import Column
from modelplane.enums import SINGLE_HOLDER_STAGES
from modelplane.errors import AlreadyExistsError, ModelplaneError

__all__ = ["model"]

F = TypeVar("F", bound=Callable[..., Any])
# Model card fields: (option declarations, parameter name, help).
_CARD_OPTIONS = (
    (("-d", "--description"), "description", "What the model does."),
    (("-l", "--license"), "license", "The model's license."),
    (("--audience",), "audience", "Who the model is for."),
    (("--use-cases",), "use_cases", "What the model should be used for."),
    (("--limitations",), "limitations", "Known limitations."),
    (("--trade-offs",), "trade_offs", "Trade-offs made."),
    (("-e", "--ethics"), "ethics", "Ethical implications."),
)
_CARD_LABELS = {
    "description": "Description",
    "license": "License",
    "audience": "Audience",
    "use_cases": "Use cases",
    "limitations": "Limitations",
    "trade_offs": "Trade-offs",
    "ethics": "Ethics",
}
MODEL_COLUMNS = (
    Column("NAME", "name"),
    Column("VERSIONS", "version_count"),
    Column("LATEST", "latest_version_number"),
    Column("TAGS", "tags", output.tags),
    Column("LICENSE", "license", max_width=20),
    Column("UPDATED", "updated", output.when),
)


_GATE_HELP = (
    "A promotion gate, as STAGE: RULE (e.g. 'production: accuracy >= current'); repeat for "
    "several. A version must meet every gate of a stage to enter it."
)


def _gate(value: str, option: str = "--gate") -> tuple[str, str]:
    """``"production: accuracy >= 0.9"`` as ``("production", "accuracy >= 0.9")``."""
    from modelplane.gates import parse_gate

    stage, colon, rule = value.partition(":")
    stage = stage.strip().lower()
    stages = [s.value for s in SINGLE_HOLDER_STAGES]
    if not colon or stage not in stages:
        raise click.BadParameter(
            f"{value!r} does not start with a stage; write e.g. 'production: accuracy >= 0.9' "
            f"(stages: {', '.join(stages)}).",
            param_hint=option,
        )
    if not rule.strip():
        return stage, ""
    try:
        return stage, str(parse_gate(rule))
    except ModelplaneError as exc:
        raise click.BadParameter(
            f"{exc.message} {exc.hint or ''}".strip(), param_hint=option
        ) from None


def _gates_of(values: tuple[str, ...]) -> dict[str, list[str]]:
    gates: dict[str, list[str]] = {}
    for value in values:
        stage, rule = _gate(value)
        if rule and rule not in gates.setdefault(stage, []):
            gates[stage].append(rule)
    return gates


def _card_options(func: F) -> F:
    for declarations, name, help_text in reversed(_CARD_OPTIONS):
        func = click.option(*declarations, name, default=None, help=help_text)(func)
    return func


@click.group(cls=OrderedGroup)
def model() -> None:
    """Register, list, update and delete models; `model version …` for their versions."""


@model.command("list")
@click.option("--name", help="Only models whose name contains this text.")
@click.option("--tag", help="Only models with this tag.")
@click.option(
    "--sort",
    type=click.Choice(["name", "created", "-created"]),
    default="name",
    show_default=True,
    help="Order by name, or by creation time (-created: newest first).",
)
@paging_options
@output_option
def list_models(
    name: str | None, tag: str | None, sort: str, limit: int, page: int, fmt: str
) -> None:
    """List models."""
    offset = offset_of(limit, page)
    found = session.read("list_models", name=name, tag=tag, sort=sort, limit=limit, offset=offset)
    empty = (
        "No models match."
        if name or tag
        else "No models yet. Register one with `modelplane model register -n NAME`."
    )
    output.listing(found, MODEL_COLUMNS, fmt=fmt, empty=empty)


@model.command()
@click.option("-n", "--name", required=True, help="The model's name (unique).")
@_card_options
@click.option("-t", "--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("-g", "--gate", "gates", multiple=True, metavar="STAGE: RULE", help=_GATE_HELP)
@output_option
def register(
    name: str, tags: tuple[str, ...], gates: tuple[str, ...], fmt: str, **card: str | None
) -> None:
    """Register a new model."""
    try:
        record = session.writer().create_model(name, tags=tags, gates=_gates_of(gates), **card)
    except AlreadyExistsError as exc:
        raise AlreadyExistsError(
            exc.message,
            hint=f"Pick another name, or change that model with `modelplane model update {name}`.",
        ) from exc
    if fmt == "json":
        output.emit_json(record)
    else:
        output.message(f"Registered model '{record.name}'.")


@model.command()
@click.argument("name")
@output_option
def describe(name: str, fmt: str) -> None:
    """Show a model's card, tags, versions and stage holders."""
    record = session.read("get_model", name)
    stages = {}
    for stage in SINGLE_HOLDER_STAGES:
        holders = session.read("list_model_versions", name, stage=stage.value, limit=1)["items"]
        stages[stage.value] = holders[0]["number"] if holders else None
    if fmt == "json":
        output.emit_json({**record, "stages": stages})
        return
    rows: list[tuple[str, Any]] = [("Name", record["name"]), ("ID", record["id"])]
    rows += [(label, record[key]) for key, label in _CARD_LABELS.items() if record[key]]
    rows += [
        ("Tags", output.tags(record["tags"])),
        ("Versions", record["version_count"]),
        ("Latest version", record["latest_version_number"]),
        *((stage.capitalize(), number or "-") for stage, number in stages.items()),
        ("Created", output.when(record["created"])),
        ("Updated", output.when(record["updated"])),
    ]
    for stage, rules in record["gates"].items():
        rows.append((f"Gates into {stage}", "\n".join(rules)))
    output.fields(rows)


@model.command()
@click.argument("name")
@click.option("-n", "--name", "new_name", help="Rename the model.")
@_card_options
@click.option("-t", "--tag", "add_tags", multiple=True, help="Add a tag; repeat for several.")
@click.option(
    "-r", "--remove-tag", "remove_tags", multiple=True, help="Remove a tag; repeat for several."
)
@click.option("-g", "--gate", "add_gates", multiple=True, metavar="STAGE: RULE", help=_GATE_HELP)
@click.option(
    "--remove-gate",
    "remove_gates",
    multiple=True,
    metavar="STAGE[: RULE]",
    help="Remove a gate, or with only a stage ('production:') all of that stage's gates.",
)
@output_option
def update(
    name: str,
    new_name: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    add_gates: tuple[str, ...],
    remove_gates: tuple[str, ...],
    fmt: str,
    **card: str | None,
) -> None:
    """Change a model's name, card, tags or promotion gates.

    Fields not given stay as they are; -t adds a tag and -r removes one; -g adds a gate and
    --remove-gate removes one.
    """
    if (
        new_name is None
        and not add_tags
        and not remove_tags
        and not add_gates
        and not remove_gates
        and all(v is None for v in card.values())
    ):
        raise click.UsageError(
            "Nothing to update: give at least one option, e.g. -t TAG or -d TEXT."
        )
    client = session.writer()
    gates = None
    if add_gates or remove_gates:
        gates = _merged_gates(client.get_model(name).gates, add_gates, remove_gates)
    record = client.update_model(
        name, new_name=new_name, add_tags=add_tags, remove_tags=remove_tags, gates=gates, **card
    )
    if fmt == "json":
        output.emit_json(record)
    else:
        output.message(f"Updated model '{record.name}'.")


def _merged_gates(
    current: dict[str, list[str]], add: tuple[str, ...], remove: tuple[str, ...]
) -> dict[str, list[str]]:
    merged = {stage: list(rules) for stage, rules in current.items()}
    for value in remove:
        stage, rule = _gate(value, "--remove-gate")
        if not rule:
            merged.pop(stage, None)
        elif rule in merged.get(stage, []):
            merged[stage].remove(rule)
        else:
            known = "; ".join(merged.get(stage, [])) or "none"
            raise click.BadParameter(
                f"Stage {stage} has no gate {rule!r} (its gates: {known}).",
                param_hint="--remove-gate",
            )
    for stage, rules in _gates_of(add).items():
        merged.setdefault(stage, [])
        merged[stage] += [rule for rule in rules if rule not in merged[stage]]
    return {stage: rules for stage, rules in merged.items() if rules}


@model.command()
@click.argument("name")
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete a model and its versions.

    The versions' links and stage history go too; runs and artifacts stay.
    Asks first unless -y.
    """
    client = session.writer()
    record = client.get_model(name)
    count = f"{record.version_count} version{'s' if record.version_count != 1 else ''}"
    confirm(f"Delete model '{record.name}' and its {count}?", yes=yes)
    client.delete_model(record.id)
    output.message(f"Deleted model '{record.name}'.")


model.add_command(version)
