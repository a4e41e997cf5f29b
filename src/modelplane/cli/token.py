"""``modelplane token create|list|revoke``: the server's API tokens (stored hashed)."""

from __future__ import annotations

import click

from modelplane.cli import output, session
from modelplane.cli.options import confirm, output_option, seconds_of, yes_option
from modelplane.cli.output import Column

__all__ = ["token"]

TOKEN_COLUMNS = (
    Column("ID", "id"),
    Column("OWNER", "owner"),
    Column("ROLE", "role"),
    Column("PROJECT", "project", lambda value: value or "(every project)"),
    Column("CREATED", "created", output.when),
    Column("LAST USED", "last_used", output.when),
    Column("REVOKED", "revoked", output.when),
    Column("EXPIRES", "expires", output.when),
)


@click.group()
def token() -> None:
    """Create, list and revoke API tokens of the modelplane server.

    Works on the server (MODELPLANE_STORE_URL=http://… with an admin token) or directly on its
    database. A token's owner is recorded as the actor of the stage changes made with it; its
    role says what it may do (viewer, editor, admin).
    """


@token.command()
@click.argument("owner")
@click.option(
    "--role",
    type=click.Choice(["viewer", "editor", "admin"]),
    default="editor",
    show_default=True,
    help="viewer: read only; editor: also change models, versions, runs and artifacts; admin: "
    "also manage tokens and webhooks.",
)
@click.option(
    "--expires",
    metavar="DURATION",
    callback=seconds_of,
    help="Make it stop working after this long (30m, 12h, 7d; at most 30d). Default: never.",
)
@click.option(
    "--all-projects",
    is_flag=True,
    help="Let it act in every project OWNER is a member of (server admins, from the project "
    "default). Without it, a token acts only in the project in use.",
)
@output_option
def create(owner: str, role: str, expires: float | None, all_projects: bool, fmt: str) -> None:
    """Create a token for OWNER in the project in use and print its secret (shown only this
    once). A new OWNER becomes a member of the project with ROLE."""
    record, secret = session.writer().create_token(
        owner, role=role, expires_in=expires, all_projects=all_projects
    )
    if fmt == "json":
        output.emit_json({"token": record, "secret": secret})
        return
    where = "every project" if record.project is None else f"the project '{record.project}'"
    output.message(
        f"Created {record.role} token {record.id} for '{record.owner}' in {where}. "
        "Its secret is shown only now:"
    )
    output.text(secret)


@token.command("list")
@output_option
def list_tokens(fmt: str) -> None:
    """List tokens (never their secrets), revoked ones included."""
    records = session.client().list_tokens()
    empty = "No tokens yet: create one with `modelplane token create OWNER`."
    output.listing(output.whole_page(records), TOKEN_COLUMNS, fmt=fmt, empty=empty)


@token.command()
@click.argument("token_id")
@yes_option
def revoke(token_id: str, yes: bool) -> None:
    """Revoke the token TOKEN_ID: requests with it get 401 from then on.

    A server that did not make the revoke itself (another worker, or a revoke made directly on
    the database) may still accept the token for up to 2 seconds.
    """
    confirm(f"Revoke token {token_id}?", yes=yes)
    record = session.writer().revoke_token(token_id)
    output.message(f"Revoked token {record.id} of '{record.owner}'.")
