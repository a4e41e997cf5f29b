"""``modelplane artifact …``: list artifacts and their versions, describe one version, prune
folders nothing refers to."""

from __future__ import annotations

import json
from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import (
    confirm,
    offset_of,
    output_option,
    paging_options,
    seconds_of,
    yes_option,
)
from modelplane.cli.output import Column

__all__ = ["artifact"]

ARTIFACT_COLUMNS = (
    Column("NAME", "name"),
    Column("VERSIONS", "version_count"),
    Column("LATEST", "latest_version"),
    Column("CREATED", "created", output.when),
)
LEFTOVER_COLUMNS = (
    Column("FOLDER", "uri"),
    Column("WHY", "reason"),
    Column("SIZE", "size", output.size),
    Column("LAST WRITTEN", "modified", output.when),
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
    found = session.read("list_artifacts", name=name, limit=limit, offset=offset_of(limit, page))
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
    found = session.read("list_artifact_versions", name=name, limit=limit, offset=offset_of(limit, page))
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


@artifact.command()
@click.option(
    "--older-than",
    default="1h",
    show_default=True,
    metavar="AGE",
    callback=seconds_of,
    help="Only folders untouched this long (90s, 30m, 1h, 2d), so writes in flight are spared.",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option(
    "--force",
    is_flag=True,
    help="Prune even when most folders have no record (usually a sign of the wrong store).",
)
@yes_option
@output_option
def prune(older_than: float, dry_run: bool, force: bool, yes: bool, fmt: str) -> None:
    """Remove artifact folders that no artifact version refers to.

    These are what crashes leave behind: writes that never finished, and folders whose record was
    never committed (or was deleted) because the process died. Lists them, asks, then removes them.
    """
    from modelplane.artifacts.prune import remove_leftovers

    client = session.writer()
    found = client.prune_artifacts(older_than=older_than, dry_run=True, force=force)
    rows = [
        {"uri": f.uri, "reason": f.reason, "size": f.size, "modified": f.modified.isoformat()}
        for f in found
    ]
    total = sum(f.size for f in found)
    if fmt != "json":
        if not found:
            output.message("Nothing to prune: every artifact folder has its artifact version.")
            return
        output.table(rows, LEFTOVER_COLUMNS)
    removed = False
    if found and not dry_run:
        confirm(f"Remove these {len(found)} folders ({output.size(total)})?", yes=yes)
        remove_leftovers(client.artifact_store, found)
        removed = True
    if fmt == "json":
        output.emit_json({"items": rows, "total": len(rows), "bytes": total, "removed": removed})
    elif removed:
        output.message(f"Removed {len(found)} folders ({output.size(total)}).")
    else:
        output.message("Dry run: nothing was removed.")


MOVE_COLUMNS = (
    Column("ARTIFACT", lambda r: f"{r['name']}:{r['version']}"),
    Column("FROM", "from_uri", max_width=60),
    Column("SIZE", "size", output.size),
    Column("RESULT", lambda r: r["error"] or r["result"], max_width=60),
)


@artifact.command()
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URI",
    help="The artifact store to move to: a folder, file:///path, s3://bucket/prefix, …",
)
@click.option("--keep", is_flag=True, help="Copy only: leave the old folders where they are.")
@click.option("--dry-run", is_flag=True, help="Only list what would move.")
@yes_option
@output_option
def migrate(target: str, keep: bool, dry_run: bool, yes: bool, fmt: str) -> None:
    """Move artifact bytes to another artifact store.

    Every artifact version whose bytes are elsewhere is copied to URI, checked against its
    recorded content hash, and its record pointed at the copy; then the old folder is removed
    (unless --keep). Artifacts stay readable throughout; a failed copy leaves its version as it
    was. Afterwards set MODELPLANE_ARTIFACT_URI to URI so that new artifacts go there too.
    """
    from modelplane.config import check_artifact_uri

    check_artifact_uri(target)
    client = session.writer()
    pending = client.migrate_artifacts(target, dry_run=True)
    total = sum(item.size for item in pending)
    if not pending:
        _say_done(fmt, [], target, dry_run, "Nothing to move: every artifact is already there.")
        return
    if fmt != "json":
        output.message(f"{len(pending)} artifact versions ({output.size(total)}) to move to {target}.")
    if dry_run:
        _say_done(fmt, [_moved_row(item, "would move") for item in pending], target, True, "")
        return
    confirm(f"Move them{' (keeping the old folders)' if keep else ''}?", yes=yes)
    done = client.migrate_artifacts(target, keep=keep)
    rows = [_moved_row(item, "kept a copy" if keep else "moved") for item in done]
    _say_done(fmt, rows, target, False, "")
    if any(item.error for item in done):
        raise click.exceptions.Exit(1)


def _moved_row(item: Any, result: str) -> dict[str, Any]:
    return {**item.__dict__, "result": result if item.error is None else "failed"}


def _say_done(fmt: str, rows: list[dict[str, Any]], target: str, dry_run: bool, empty: str) -> None:
    failed = sum(1 for row in rows if row["error"])
    if fmt == "json":
        output.emit_json({"to": target, "items": rows, "dry_run": dry_run, "failed": failed})
        return
    if not rows:
        output.message(empty)
    else:
        output.table(rows, MOVE_COLUMNS)
        if dry_run:
            output.message("Dry run: nothing was moved.")
        else:
            output.message(f"Moved {len(rows) - failed} of {len(rows)}; {failed} failed.")
    if not dry_run and session.settings().artifact_uri.rstrip("/") != target.rstrip("/"):
        output.message(
            f"New artifacts still go to {session.settings().artifact_uri}: set "
            f"MODELPLANE_ARTIFACT_URI={target} to write there too.",
            err=True,
        )
