"""``modelplane init`` (a .modelplane/ store in the working directory) and ``modelplane status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.options import output_option
from modelplane.config import PROJECT_DIR_NAME, find_project_dir, project_artifact_uri

__all__ = ["init", "status"]


@click.command()
@output_option
def init(fmt: str) -> None:
    """Create .modelplane/ here: a SQLite store and an artifact folder for this project.

    Commands run in this folder or below then use it, as git uses .git.
    """
    folder = Path.cwd() / PROJECT_DIR_NAME
    existed = folder.is_dir()
    enclosing = None if existed else find_project_dir(Path.cwd().resolve())
    folder.mkdir(exist_ok=True)
    (folder / "artifacts").mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# modelplane's store and artifacts: not for version control\n*\n")
    base = session.settings()
    project = base.with_overrides(
        home=folder,
        store_url=f"sqlite:///{folder / 'store.db'}",
        artifact_uri=str(folder / "artifacts"),
    )
    info = session.client_for(project).info()  # creates and migrates the store
    if enclosing is not None:
        output.message(
            f"Note: this folder is inside the project {enclosing}; here and below, "
            "the new store is used.",
            err=True,
        )
    if base.store_url != project.store_url:
        output.message(
            f"Note: {base.store_source}, so commands here use {base.store_url} instead.", err=True
        )
    if fmt == "json":
        output.emit_json(
            {
                "home": str(folder),
                "store_url": project.store_url,
                "artifact_uri": project.artifact_uri,
                "created": not existed,
                "schema_revision": info.schema_revision,
            }
        )
        return
    output.message(f"{'Already initialized' if existed else 'Initialized'} modelplane in {folder}")
    output.message(f"  store:     {project.store_url}")
    output.message(f"  artifacts: {project.artifact_uri}")


@click.command()
@output_option
def status(fmt: str) -> None:
    """Show which store and project are used, and why.

    Also where artifacts go, the schema revision and how many things the project holds.
    """
    settings = session.settings()
    source = settings.store_source
    info = session.info()
    data: dict[str, Any] = {
        "store_url": info["url"],
        "store_source": source,
        "project": settings.project,
        "project_source": settings.project_source,
        "home": str(settings.home),
        "artifact_uri": project_artifact_uri(
            info["artifact_uri"] or settings.artifact_uri, settings.project
        ),
        "schema_revision": info["schema_revision"],
        "counts": info["counts"],
    }
    if settings.unused_login:
        data["unused_login"] = settings.unused_login
    if fmt == "json":
        output.emit_json(data)
        return
    rows: list[tuple[str, Any]] = [
        ("Store", data["store_url"]),
        ("Chosen by", source),
        ("Project", f"{settings.project} ({settings.project_source})"),
        *(
            [("Saved login", f"{settings.unused_login} (not used here: {source} comes first)")]
            if settings.unused_login
            else []
        ),
        ("Artifacts", data["artifact_uri"]),
        ("Schema revision", data["schema_revision"] or "none (empty database)"),
    ]
    rows += [(name.replace("_", " ").capitalize(), number) for name, number in info["counts"].items()]
    output.fields(rows)
