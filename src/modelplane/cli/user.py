"""``modelplane user list|set-role|disable|enable``: the server's users (the holders of tokens)."""

from __future__ import annotations

import click

from modelplane.cli import output, session
from modelplane.cli.options import confirm, output_option, yes_option
from modelplane.cli.output import Column

__all__ = ["user"]

USER_COLUMNS = (
    Column("NAME", "name"),
    Column("ROLE", "role"),
    Column("FROM", "role_from"),
    Column("TOKENS", "live_tokens"),
    Column("LAST SIGN-IN", "last_sign_in", output.when),
    Column("CREATED", "created", output.when),
    Column("DISABLED", "disabled", output.when),
)


@click.group()
def user() -> None:
    """List users, set their roles, disable and enable them (admins only).

    A user holds tokens: the name a token is made for (`modelplane token create NAME`) or the
    name single sign-on gives. Their role caps what each of their tokens may do (viewer, editor,
    admin); FROM says whether an admin set it or the identity provider's claim did at their
    latest sign-in. Works on the server (logged in as an admin) or directly on its database.
    """


@user.command("list")
@output_option
def list_users(fmt: str) -> None:
    """List users, disabled ones included, with how many live tokens and sessions each holds."""
    records = session.client().list_users()
    empty = "No users yet: they come with their first token or sign-in."
    output.listing(output.whole_page(records), USER_COLUMNS, fmt=fmt, empty=empty)


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "editor", "admin"]))
@output_option
def set_role(name: str, role: str, fmt: str) -> None:
    """Give NAME the ROLE; their tokens act with at most this role from now on.

    A name that is not a user yet becomes one, so a role can be given before someone first signs
    in. For people whose groups the server maps to a role (MODELPLANE_OIDC_ROLES), the mapped
    role wins again at their next sign-in.
    """
    record = session.writer().set_user_role(name, role)
    if fmt == "json":
        output.emit_json(record)
        return
    output.message(f"'{record.name}' is now {record.role}.")


@user.command()
@click.argument("name")
@yes_option
def disable(name: str, yes: bool) -> None:
    """Disable NAME: every token and sign-in session of theirs is revoked at once, and they can
    neither sign in nor get a new token until enabled again."""
    confirm(f"Disable '{name}' and revoke all their tokens and sessions?", yes=yes)
    record = session.writer().disable_user(name)
    output.message(f"Disabled '{record.name}'; their tokens and sessions are revoked.")


@user.command()
@click.argument("name")
def enable(name: str) -> None:
    """Enable NAME again (the tokens revoked when they were disabled stay revoked)."""
    record = session.writer().enable_user(name)
    output.message(f"Enabled '{record.name}' ({record.role}); they may sign in and get tokens again.")
