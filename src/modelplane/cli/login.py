"""``modelplane login URL --token TOKEN``: make the SDK and CLI of this user use a server."""

from __future__ import annotations

import click

from modelplane.cli import output

__all__ = ["login"]


@click.command()
@click.argument("url", required=False)
@click.option(
    "--token", envvar="MODELPLANE_API_TOKEN", help="The API token (also MODELPLANE_API_TOKEN)."
)
@click.option("--logout", is_flag=True, help="Forget the saved server and token instead.")
def login(url: str | None, token: str | None, logout: bool) -> None:
    """Check TOKEN against the server at URL, then save both in the user's config file.

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
    if not token:
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
    output.message(
        f"Logged in to {url} as '{who.owner}'. Artifacts: {artifact_uri}. Saved in {path}."
    )
    from modelplane.config import load_settings

    here = load_settings()
    if here.unused_login:
        output.message(
            f"Note: {here.store_source}, so commands here still use {here.store_url}; the login "
            "applies outside it (or set MODELPLANE_STORE_URL to the server).",
            err=True,
        )
