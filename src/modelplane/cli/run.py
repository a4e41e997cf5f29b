"""``modelplane run …``: list runs, describe one (steps, cache hits, outputs, DAG), logs, delete."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from modelplane.cli import output, session
from modelplane.cli.dag_text import draw_dag
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import confirm, offset_of, output_option, paging_options, yes_option
from modelplane.cli.output import Column
from modelplane.enums import ExecutionStatus
from modelplane.errors import NotFoundError

if TYPE_CHECKING:
    from modelplane.client import Client
    from modelplane.metadata.records import StepRunRecord

__all__ = ["RUN_COLUMNS", "run"]

logger = logging.getLogger("modelplane")

RUN_COLUMNS = (
    Column("RUN", "name"),
    Column("PIPELINE", "pipeline_name"),
    Column("STATUS", "status"),
    Column("STARTED", "created", output.when),
    Column("DURATION", lambda r: output.duration(r["created"], r["ended"])),
)
STEP_COLUMNS = (
    Column("STEP", "name"),
    Column("STATUS", "status"),
    Column("DURATION", lambda r: output.duration(r["created"], r["ended"])),
    Column("CACHE", lambda r: "hit" if r["status"] == "cached" or r["cached_from"] else ""),
    Column("OUTPUTS", lambda r: "\n".join(f"{k} → {v}" for k, v in r["output_artifacts"].items())),
)


@click.group(cls=OrderedGroup)
def run() -> None:
    """List, inspect and delete pipeline runs, and show what their steps printed."""


@run.command("list")
@click.option("--pipeline", help="Only runs of this pipeline.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in ExecutionStatus], case_sensitive=False),
    help="Only runs with this status.",
)
@click.option("--model", help="Only runs linked to a version of this model.")
@paging_options
@output_option
def list_runs(
    pipeline: str | None, status: str | None, model: str | None, limit: int, page: int, fmt: str
) -> None:
    """List pipeline runs, newest first.

    Listing changes nothing: a run whose process died still shows ``running`` until something
    reaps it (the next pipeline call, the server, or ``modelplane run reap``).
    """
    found = session.read(
        "list_runs",
        pipeline=pipeline,
        status=status,
        model=model,
        limit=limit,
        offset=offset_of(limit, page),
    )
    filtered = pipeline or status or model
    empty = "No runs match." if filtered else "No runs yet: call a @pipeline function to make one."
    output.listing(found, RUN_COLUMNS, fmt=fmt, empty=empty)


def _output_artifacts(client: Client, step: StepRunRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for output_name, artifact_version_id in step.outputs.items():
        try:
            version = client.get_artifact_version(artifact_version_id)
            found[output_name] = {
                "id": version.id,
                "name": version.name,
                "version": version.version,
            }
        except NotFoundError:
            found[output_name] = None  # deleted since
    return found


def _model_version_label(client: Client, model_version_id: str | None) -> str:
    if model_version_id is None:
        return "-"
    try:
        record = client.get_model_version_by_id(model_version_id)
    except NotFoundError:
        return "(deleted)"
    return f"{record.model_name} version {record.number}"


def exception_text(error: str) -> str:
    """The exception of a recorded error: its type and whole message (every line of it), without
    the stack frames; the last exception of a chain. Text that is no traceback comes back whole."""
    lines = error.strip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    if not frames:
        return error.strip()
    rest = lines[frames[-1] + 1 :]
    while rest and rest[0].startswith("    "):  # the frame's source line and its ^^^^ markers
        rest = rest[1:]
    return "\n".join(rest).strip() or lines[-1]


@run.command()
@click.argument("run_name", metavar="RUN")
@output_option
def describe(run_name: str, fmt: str) -> None:
    """Show a run's steps and its DAG.

    Each step with its status, duration, cache hit and output artifacts.
    """
    client = session.client()
    record = client.get_run(run_name)
    steps = [
        {**output.to_json(step_run), "output_artifacts": _output_artifacts(client, step_run)}
        for step_run in client.list_step_runs(record.id)
    ]
    if fmt == "json":
        output.emit_json({**output.to_json(record), "steps": steps})
        return
    rows: list[tuple[str, Any]] = [
        ("Run", record.name),
        ("ID", record.id),
        ("Pipeline", record.pipeline_name),
        ("Status", record.status.value),
        ("Model version", _model_version_label(client, record.model_version_id)),
        ("Orchestrator", record.orchestrator),
        ("Process", f"{record.pid} on {record.host}" if record.pid else "-"),
        ("Started", output.when(record.created)),
        ("Duration", output.duration(record.created, record.ended)),
        ("Parameters", json.dumps(record.parameters) if record.parameters else "-"),
    ]
    if record.error:
        rows.append(("Error", exception_text(record.error)))
        failed = [s["name"] for s in steps if s["status"] == ExecutionStatus.FAILED.value and s["error"]]
        if failed and "Traceback (most recent call last)" in record.error:
            rows.append(("Traceback", f"modelplane run logs {record.name} --step {failed[0]}"))
    output.fields(rows)
    for step in steps:
        step["output_artifacts"] = {
            name: f"{found['name']}:{found['version']}" if found else "(deleted)"
            for name, found in step["output_artifacts"].items()
        }
    output.table(steps, STEP_COLUMNS, title="\nSteps")
    unicode_ok = (getattr(sys.stdout, "encoding", None) or "").lower().startswith("utf")
    drawing = draw_dag(
        {s["name"]: s["upstream"] for s in steps},
        {s["name"]: s["status"] for s in steps},
        arrows=unicode_ok,
    )
    output.message("\nDAG")
    output.text("\n".join(drawing))


def _follow(client: Client, step: StepRunRecord, poll_seconds: float = 0.5) -> None:
    """Print the step's logs, then what is added to them, until the step run ends."""
    shown = ""
    while True:
        ended = client.get_step_run(step.id).status is not ExecutionStatus.RUNNING
        text = client.get_step_logs(step.id)  # read after the status: an ended step's logs are final
        # Appends only grow the text; a very long output ends as its head and tail, of which
        # the part past what was shown is printed.
        new = text[len(shown) :]
        if new:
            click.echo(new, nl=False)
            sys.stdout.flush()
        shown = text
        if ended:
            if shown and not shown.endswith("\n"):
                click.echo("")
            return
        time.sleep(poll_seconds)


@run.command()
@click.argument("run_name", metavar="RUN")
@click.option("--step", "step_name", help="Only this step's logs (its name in the run).")
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="With --step: keep printing what the step adds to its logs until it ends.",
)
def logs(run_name: str, step_name: str | None, follow: bool) -> None:
    """Show what the steps of a run printed and logged.

    A running step's logs are stored every few seconds; ``--follow`` prints them as they come.
    """
    client = session.client()
    record = client.get_run(run_name)
    steps = client.list_step_runs(record.id)
    if follow and step_name is None:
        raise click.UsageError("--follow needs --step STEP: it follows one step's logs.")
    if step_name is not None:
        chosen = [s for s in steps if step_name in (s.name, s.step_name)]
        if not chosen:
            names = ", ".join(s.name for s in steps) or "none"
            raise NotFoundError(
                f"Run '{record.name}' has no step '{step_name}'. Its steps: {names}.",
                hint=f"See them with `modelplane run describe {record.name}`, or wait until the "
                "step starts when the run is still running.",
            )
        for step in chosen:
            if follow:
                _follow(client, step)
            else:
                output.text(client.get_step_logs(step.id))
        return
    for step in steps:
        output.message(f"── {step.name} ({step.status.value}) ──")
        text = client.get_step_logs(step.id)
        output.text(text if text else "(no output)")


@run.command()
@click.argument("run_name", metavar="RUN")
@yes_option
def delete(run_name: str, yes: bool) -> None:
    """Delete a run and its step runs.

    The artifacts it made stay. Asks first unless -y.
    """
    client = session.writer()
    record = client.get_run(run_name)
    confirm(f"Delete run '{record.name}' of pipeline '{record.pipeline_name}'?", yes=yes)
    client.delete_run(record.id)
    output.message(f"Deleted run '{record.name}'.")


@run.command()
@output_option
def reap(fmt: str) -> None:
    """Mark failed the runs that nothing drives any more.

    A run is abandoned when its process on this machine has ended without finishing it (killed,
    crashed), or when it has sent no heartbeat for 20 heartbeat periods (its machine was lost).
    Versions such a run created with ``delete_new_version_on_failure`` are deleted, as the run
    would have done. Pipeline calls and the server do this by themselves.
    """
    reaped = session.writer().reap_abandoned_runs()
    if fmt == "json":
        output.emit_json([output.to_json(run) for run in reaped])
        return
    if not reaped:
        output.message("No abandoned runs.")
        return
    for run in reaped:
        output.message(f"Marked run '{run.name}' failed: {run.error}")
