"""``modelplane login URL --token TOKEN`` (or ``--sso``): make the SDK and CLI of this user use a
server."""

from __future__ import annotations

import click

from modelplane.cli import output

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

    MODELPLANE_STORE_URL and MODELPLANE_API_TOKEN, when set, still win over the saved values.
    """
    from modelplane.config import save_user_config
    from modelplane.errors import InvalidInputError

    if logout:
        path = save_user_config({"store_url": None, "api_token": None})
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
        artifact_uri = store.info().artifact_uri
    finally:
        store.close()
    path = save_user_config({"store_url": url.rstrip("/"), "api_token": token})
    how = f" ({who.role}, until {who.expires:%Y-%m-%d %H:%M} UTC)" if who.expires else ""
    output.message(
        f"Logged in to {url} as '{who.owner}'{how}. Artifacts: {artifact_uri}. Saved in {path}."
    )
    from modelplane.config import load_settings

    here = load_settings()
    if here.unused_login:
        output.message(
            f"Note: {here.store_source}, so commands here still use {here.store_url}; the login "
            "applies outside it (or set MODELPLANE_STORE_URL to the server).",
            err=True,
        )
