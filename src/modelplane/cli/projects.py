"""``modelplane project list|create|delete|use|members|add-member|remove-member``: projects, which
keep teams' models, pipelines, runs, artifacts and webhooks apart, and their members' roles.

(``modelplane init`` makes a project *folder*, ``.modelplane/``, a local store; the projects here
live inside a store, local or a server's.)
"""

from __future__ import annotations

import click

from modelplane.cli import output, session
from modelplane.cli.options import confirm, output_option, yes_option
from modelplane.cli.output import Column
from modelplane.config import DEFAULT_PROJECT, check_project_name, save_user_config

__all__ = ["project"]

PROJECT_COLUMNS = (
    Column("NAME", "name"),
    Column("MEMBERS", "members"),
    Column("DESCRIPTION", "description"),
    Column("CREATED", "created", output.when),
)
MEMBER_COLUMNS = (
    Column("USER", "user"),
    Column("ROLE", "role"),
    Column("SINCE", "created", output.when),
    Column("DISABLED", "disabled", output.when),
)
_ROLES = click.Choice(["viewer", "editor", "admin"])


@click.group()
def project() -> None:
    """Create, list and choose projects, and give their members roles.

    Each project has its own models, pipelines, runs, artifacts, webhooks and tokens; names are
    unique within a project, and nothing of one project is seen or changed from another. A store
    starts with the project `default`, which is all there is until another is created. Choose
    the project of a command with `modelplane --project NAME ...`, MODELPLANE_PROJECT, or
    `modelplane project use NAME` (saved for the store in use).

    On a server, roles are per project (viewer, editor, admin). The admins of `default` are the
    server's admins: they create and delete projects and manage users; a project's admins give
    its members their roles.
    """


@project.command("list")
@output_option
def list_projects(fmt: str) -> None:
    """List the projects (on a server: those you are a member of); `*` marks the one in use."""
    records = session.client().list_projects()
    if fmt == "json":
        output.emit_json(output.whole_page(records))
        return
    current = session.settings().project
    rows = [
        {**record.model_dump(mode="json"), "name": ("* " if record.name == current else "  ")
         + record.name}
        for record in records
    ]
    output.listing(output.whole_page(rows), PROJECT_COLUMNS, fmt=fmt, empty="No projects.")


@project.command()
@click.argument("name")
@click.option("--description", "-d", help="What the project is for.")
@output_option
def create(name: str, description: str | None, fmt: str) -> None:
    """Create the project NAME (server admins): lowercase letters, digits and '-'."""
    record = session.writer().create_project(name, description=description)
    if fmt == "json":
        output.emit_json(record)
        return
    output.message(
        f"Created the project '{record.name}'. Use it with `modelplane project use {record.name}`"
        f" or `modelplane --project {record.name} ...`; give people roles in it with "
        f"`modelplane project add-member {record.name} USER ROLE`."
    )


@project.command()
@click.argument("name")
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete the project NAME with everything in it (server admins). Cannot be undone."""
    confirm(
        f"Delete the project '{name}' with all its models, pipelines, runs, artifacts' records "
        "and tokens?",
        yes=yes,
    )
    session.writer().delete_project(name)
    output.message(f"Deleted the project '{name}'.")


@project.command()
@click.argument("name")
def use(name: str) -> None:
    """Make NAME the project of the commands and pipelines run here against this store.

    Saved in your config file for the store in use (a login, MODELPLANE_STORE_URL or a local
    store); --project and MODELPLANE_PROJECT still win. `use default` goes back.
    """
    check_project_name(name)
    chosen = session.settings()
    client = session.client_for(chosen.with_overrides(project=name))
    client.get_project(name)  # exists, and (on a server) you are a member
    if name == DEFAULT_PROJECT:
        save_user_config({"project": None, "project_store_url": None})
    else:
        save_user_config({"project": name, "project_store_url": chosen.store_url})
    output.message(f"Using the project '{name}' with the store {chosen.store_url}.")


@project.command()
@click.argument("name", required=False)
@output_option
def members(name: str | None, fmt: str) -> None:
    """List the members of NAME (default: the project in use) and their roles."""
    chosen = name or session.settings().project
    records = session.client().list_project_members(chosen)
    empty = f"No one has a role in '{chosen}' yet."
    output.listing(output.whole_page(records), MEMBER_COLUMNS, fmt=fmt, empty=empty)


@project.command("add-member")
@click.argument("name")
@click.argument("user")
@click.argument("role", type=_ROLES)
@output_option
def add_member(name: str, user: str, role: str, fmt: str) -> None:
    """Give USER the ROLE in the project NAME (its admins), or change the role they have.

    In `default` this is the user's server role (as `modelplane user set-role`).
    """
    record = session.writer().set_project_member(name, user, role)
    if fmt == "json":
        output.emit_json(record)
        return
    output.message(f"'{record.user}' is now {record.role} in the project '{record.project}'.")


@project.command("remove-member")
@click.argument("name")
@click.argument("user")
@yes_option
def remove_member(name: str, user: str, yes: bool) -> None:
    """Take USER's role in the project NAME away; their tokens bound to it are revoked."""
    confirm(f"Remove '{user}' from the project '{name}'?", yes=yes)
    session.writer().remove_project_member(name, user)
    output.message(f"'{user}' has no role in the project '{name}' any more.")
