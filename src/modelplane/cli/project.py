"""``modelplane init`` (a .modelplane/ store in the working directory) and ``modelplane status``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.options import output_option
from modelplane.config import PROJECT_DIR_NAME, Settings, find_project_dir, user_config_path

__all__ = ["init", "status", "store_source"]


def _user_config_keys() -> set[str]:
    path = user_config_path()
    try:
        return set(json.loads(path.read_text())) if path.is_file() else set()
    except (OSError, ValueError):
        return set()  # load_settings reports a broken file itself


def store_source(settings: Settings, cwd: Path | None = None) -> str:
    """Why ``settings`` point where they do, in the words of ``load_settings``' precedence."""
    if os.environ.get("MODELPLANE_STORE_URL"):
        return "MODELPLANE_STORE_URL is set"
    if "store_url" in _user_config_keys():
        return f"the user config file {user_config_path()} (written by `modelplane login`)"
    if os.environ.get("MODELPLANE_HOME"):
        return "MODELPLANE_HOME is set"
    project = find_project_dir((cwd or Path.cwd()).resolve())
    if project is not None:
        return f"project folder {project} (found walking up from the working directory)"
    return "the user data directory (no .modelplane/ here or above; `modelplane init` makes one)"


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
            f"Note: {store_source(base)}, so commands here use {base.store_url} instead.", err=True
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
    """Show which store is used and why.

    Also where artifacts go, the schema revision and how many things are stored.
    """
    settings = session.settings()
    source = store_source(settings)
    info = session.info()
    data: dict[str, Any] = {
        "store_url": info["url"],
        "store_source": source,
        "home": str(settings.home),
        "artifact_uri": info["artifact_uri"] or settings.artifact_uri,
        "schema_revision": info["schema_revision"],
        "counts": info["counts"],
    }
    if fmt == "json":
        output.emit_json(data)
        return
    rows: list[tuple[str, Any]] = [
        ("Store", data["store_url"]),
        ("Chosen by", source),
        ("Artifacts", data["artifact_uri"]),
        ("Schema revision", data["schema_revision"] or "none (empty database)"),
    ]
    rows += [(name.replace("_", " ").capitalize(), number) for name, number in info["counts"].items()]
    output.fields(rows)
