"""Plugins named by strings, imported on first use; third-party ones come from the
``modelplane.plugins`` entry-point group, loaded once and lazily."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from modelplane.errors import ConfigError

__all__ = ["entry_point_plugins", "import_object"]


def import_object(path: str, *, extra: str | None = None) -> Any:
    """``"package.module:Name"`` → the object. ``extra`` names the pip extra that provides it."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except ImportError as exc:
        hint = f"Install it with: pip install 'modelplane[{extra}]'." if extra else "Check that it is installed."
        raise ConfigError(f"Cannot import {path!r}: {exc}.", hint=hint) from None
    except AttributeError:
        raise ConfigError(f"{module_name!r} has no attribute {attr!r}.", hint="Check the plugin path.") from None


@functools.cache
def entry_point_plugins(kind: str) -> dict[str, str]:
    """``name → "module:attr"`` for the entry points ``modelplane.<kind>`` that packages declare."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=f"modelplane.{kind}")}
