"""How a command reaches modelplane: one ``Client`` per command invocation, built from the settings.

The client module (and with it pydantic and the stores) is imported on first use, so commands that
answer from the fast read path or fail early never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from modelplane.config import Settings, load_settings

if TYPE_CHECKING:
    from modelplane.client import Client

__all__ = ["client", "client_for", "settings"]


def settings() -> Settings:
    ctx = click.get_current_context()
    found = ctx.meta.get("modelplane.settings")
    if found is None:
        found = ctx.meta["modelplane.settings"] = load_settings()
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
