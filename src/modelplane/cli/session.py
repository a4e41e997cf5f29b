"""How a command reaches modelplane: one ``Client`` per command invocation, built from the settings,
and ``read`` for the everyday reads.

The client module (and with it pydantic and the stores) is imported on first use, so commands that
answer from the light reader (``metadata.light``) or fail early never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from modelplane.config import Settings, load_settings

if TYPE_CHECKING:
    from modelplane.client import Client

__all__ = ["client", "client_for", "info", "read", "settings", "writer"]


def settings() -> Settings:
    ctx = click.get_current_context()
    found = ctx.meta.get("modelplane.settings")
    if found is None:
        project = ctx.meta.get("modelplane.project")  # modelplane --project NAME
        found = ctx.meta["modelplane.settings"] = load_settings(project=project)
    return found


def client_for(chosen: Settings) -> Client:
    """A client over ``chosen`` settings rather than the ones in force."""
    # Imported on first use: the client pulls in pydantic and the store (~0.5 s together).
    from modelplane.client import Client

    return Client(chosen)


def client() -> Client:
    """The client of the running command, over the settings in force."""
    ctx = click.get_current_context()
    found = ctx.meta.get("modelplane.client")
    if found is None:
        found = ctx.meta["modelplane.client"] = client_for(settings())
    return found


def writer() -> Client:
    """The client of a command that changes stored data. When the store is not the local one of
    this folder (a saved login, MODELPLANE_STORE_URL), the command says which store it writes to,
    once, on stderr: a "local" change must never land in a team store unnoticed."""
    chosen = settings()
    ctx = click.get_current_context()
    if not chosen.store_is_local_default and not ctx.meta.get("modelplane.said_where"):
        ctx.meta["modelplane.said_where"] = True
        click.echo(f"Store: {chosen.store_url} ({chosen.store_source}).", err=True)
    return client()


def _light_reader() -> Any:
    ctx = click.get_current_context()
    if "modelplane.light" not in ctx.meta:
        from modelplane.metadata.light import open_reader

        chosen = settings()
        reader = open_reader(chosen.store_url, chosen.project)
        if reader is not None:
            ctx.call_on_close(reader.close)
        ctx.meta["modelplane.light"] = reader
    return ctx.meta["modelplane.light"]


def _answer(light: Any, full: Any) -> Any:
    """``light(reader)`` when the light reader can answer, else ``full(client)`` as JSON."""
    from modelplane.metadata.light import Unavailable

    reader = _light_reader()
    if reader is not None:
        try:
            return light(reader)
        except Unavailable:
            pass
    from modelplane.cli.output import to_json

    return to_json(full(client()))


def read(operation: str, *args: Any, **kwargs: Any) -> Any:
    """The JSON of ``Client.<operation>(*args, **kwargs)``, one of ``metadata.reads``.

    A local SQLite store answers through the light reader; anything it cannot answer (another
    store, a name that matches nothing) goes to the client, which answers or raises the real error.
    """
    return _answer(
        lambda reader: reader.call(operation, *args, **kwargs),
        lambda found: getattr(found, operation)(*args, **kwargs),
    )


def info() -> dict[str, Any]:
    """``Client.info()`` as JSON, through the light reader when it can."""
    return _answer(lambda reader: reader.info(), lambda found: found.info())  # type: ignore[no-any-return]
