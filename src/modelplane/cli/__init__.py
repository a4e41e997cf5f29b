"""The ``modelplane`` command: a click group whose subcommands are imported only when used.

To add a command, add one line to ``COMMANDS``: its name, where it lives (``module:attribute``) and
its one-line help.
"""

from __future__ import annotations

import click

from modelplane._version import __version__
from modelplane.cli.lazy import MainGroup

__all__ = ["COMMANDS", "main"]

# name → (import path of the click command, short help shown by `modelplane --help`).
# An entry whose module is not installed yet is left out of the listing.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("modelplane.cli.project:init", "Create a .modelplane/ store in the current folder."),
    "status": ("modelplane.cli.project:status", "Show which store is used, and why."),
    "model": (
        "modelplane.cli.model:model",
        "Register, list, update and delete models and their versions.",
    ),
    "pipeline": ("modelplane.cli.pipeline:pipeline", "List and delete pipelines."),
    "run": (
        "modelplane.cli.run:run",
        "List, inspect and delete pipeline runs, and show step logs.",
    ),
    "artifact": (
        "modelplane.cli.artifact:artifact",
        "List and inspect artifacts and their versions.",
    ),
    "db": ("modelplane.cli.db:db", "Show and upgrade the metadata database schema."),
    "server": ("modelplane.cli.server:server", "Run the REST API and dashboard server."),
    "serve": (
        "modelplane.cli.serve:serve",
        "Serve the model version holding a stage over HTTP, following the stage.",
    ),
    "token": ("modelplane.cli.token:token", "Create, list and revoke server API tokens."),
    "user": ("modelplane.cli.user:user", "List users, set their roles, disable and enable them."),
    "project": (
        "modelplane.cli.projects:project",
        "Create, list and choose projects, and give their members roles.",
    ),
    "webhook": (
        "modelplane.cli.webhook:webhook",
        "Announce stage changes to URLs, and see the delivery log.",
    ),
    "login": (
        "modelplane.cli.login:login",
        "Point this machine at a modelplane server (with a token or single sign-on).",
    ),
    "completion": ("modelplane.cli.completion:completion", "Print the shell completion script."),
}


@click.group(
    "modelplane",
    cls=MainGroup,
    commands_table=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    __version__, "--version", "-V", prog_name="modelplane", message="%(prog)s %(version)s"
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="MODELPLANE_DEBUG",
    help="Show the full traceback when a command fails (also MODELPLANE_DEBUG=1).",
)
@click.option(
    "--project",
    "-p",
    metavar="NAME",
    help="Act in this project (also MODELPLANE_PROJECT; `modelplane project use NAME` saves one).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, project: str | None) -> None:
    """modelplane: ML pipelines with a Model Control Plane.

    Every listing prints a table for people and takes -o json for scripts.
    The store is MODELPLANE_STORE_URL if set, else the one in MODELPLANE_HOME,
    else the nearest .modelplane/ folder above the working directory (made by
    `modelplane init`), else the user data directory. `modelplane status` says
    which one is used, and which project (`default` unless one is chosen).
    """
    if project:
        ctx.meta["modelplane.project"] = project
