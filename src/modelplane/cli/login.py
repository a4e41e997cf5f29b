"""``modelplane login URL --token TOKEN`` (or ``--sso``): make the SDK and CLI of this user use a
server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from modelplane.cli import output
from modelplane.config import DEFAULT_PROJECT

if TYPE_CHECKING:
    from modelplane.metadata.records import TokenRecord

__all__ = ["login"]


@click.command()
@click.argument("url", required=False)
@click.option(
    "--token", envvar="MODELPLANE_API_TOKEN", help="The API token (also MODELPLANE_API_TOKEN)."
)
@click.option(
    "--sso",
    is_flag=True,
    help="Sign in through the server's identity provider in a browser instead of giving a token.",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="With --sso: only print the sign-in address (open it on any browser of this machine).",
)
@click.option("--logout", is_flag=True, help="Forget the saved server and token instead.")
def login(url: str | None, token: str | None, sso: bool, no_browser: bool, logout: bool) -> None:
    """Check TOKEN against the server at URL, then save both in the user's config file.

    With --sso, sign in through the server's single sign-on instead: the identity provider's page
    opens in a browser, sends you back to this command on a loopback port, and the server gives
    this machine a token of yours that lasts 7 days.

    The project in use becomes the token's own, or default if you have a role there, else the
    first of your projects (`modelplane project use NAME` changes it). MODELPLANE_STORE_URL,
    MODELPLANE_API_TOKEN and MODELPLANE_PROJECT, when set, still win over the saved values.
    """
    from modelplane.config import save_user_config
    from modelplane.errors import InvalidInputError

    if logout:
        path = save_user_config(
            {"store_url": None, "api_token": None, "project": None, "project_store_url": None}
        )
        output.message(f"Forgot the saved server and token ({path}).")
        return
    if not url or not url.startswith(("http://", "https://")):
        raise InvalidInputError(
            f"The server URL {url!r} is not an http(s):// URL.",
            hint="Use the address of `modelplane server start`, e.g. http://127.0.0.1:8237.",
        )
    if sso:
        from modelplane.cli.sso_login import sso_sign_in

        announce = lambda text: output.message(text, err=True)  # noqa: E731
        token = sso_sign_in(url.rstrip("/"), open_browser=not no_browser, announce=announce)
    elif not token:
        token = click.prompt("API token", hide_input=True)
    from modelplane.metadata.http import HttpMetadataStore

    # The address was just typed: a wrong one fails at once, not after the retries that ride
    # out a server restart.
    store = HttpMetadataStore(url, token=token, retry_for=0)
    try:
        who = store.whoami()
        project = _home_project(who)
        if project != DEFAULT_PROJECT:
            store.close()
            store = HttpMetadataStore(url, token=token, retry_for=0, project=project)
        artifact_uri = store.info().artifact_uri
    finally:
        store.close()
    server = url.rstrip("/")
    chosen = {"project": None, "project_store_url": None}
    if project != DEFAULT_PROJECT:  # as `modelplane project use` would save it
        chosen = {"project": project, "project_store_url": server}
    path = save_user_config({"store_url": server, "api_token": token, **chosen})
    how = f" ({who.role}, until {who.expires:%Y-%m-%d %H:%M} UTC)" if who.expires else ""
    output.message(
        f"Logged in to {url} as '{who.owner}'{how}, in the project '{project}'. "
        f"Artifacts: {artifact_uri}. Saved in {path}."
    )
    from modelplane.config import load_settings

    here = load_settings()
    if here.unused_login:
        output.message(
            f"Note: {here.store_source}, so commands here still use {here.store_url}; the login "
            "applies outside it (or set MODELPLANE_STORE_URL to the server).",
            err=True,
        )


def _home_project(who: TokenRecord) -> str:
    """The project a login starts in: the token's own, else default where the user has a role
    there, else the first (by name) of their projects."""
    if who.project is not None:
        return who.project
    if who.role_in(DEFAULT_PROJECT) is not None:
        return DEFAULT_PROJECT
    named = sorted(name for name in who.roles if name != "*")
    return named[0] if named else DEFAULT_PROJECT
