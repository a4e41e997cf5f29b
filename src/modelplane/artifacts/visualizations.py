"""Pictures of an artifact, made by its materializer when it is saved (``Materializer.visualize``).

They are files in the artifact's own folder, under ``visualizations/``: written in the same write
(so they exist exactly when the artifact does), listed with it, and served with their content type
by the server. A materializer returns ``{"name.ext": bytes}``; the extension says what it is.
Making them never fails a step: a visualizer that raises, or returns something unusable, is
reported as a warning and the artifact is saved without it.
"""

from __future__ import annotations

import logging
from typing import Any

from modelplane.artifacts.folder import ArtifactFolder, check_file_name
from modelplane.errors import ArtifactError

__all__ = ["FOLDER", "MAX_BYTES", "TYPES", "content_type", "listed", "write_visualizations"]

logger = logging.getLogger("modelplane")

FOLDER = "visualizations"
MAX_BYTES = 20 << 20
# Extension → content type. HTML is served sandboxed (no scripts, its own origin); SVG is left out
# on purpose: it can carry scripts.
TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def content_type(name: str) -> str | None:
    """The content type of visualization ``name``, ``None`` when it is not one of ``TYPES``."""
    dot = name.rfind(".")
    return TYPES.get(name[dot:].lower()) if dot > 0 else None


def write_visualizations(instance: Any, value: Any, folder: ArtifactFolder, materializer: str) -> None:
    """Ask ``instance`` for its visualizations of ``value`` and write them into ``folder``."""
    try:
        made = instance.visualize(value)
    except Exception as exc:  # noqa: BLE001 - a picture is never worth a failed step
        logger.warning("%s could not visualize a %s: %s", materializer, type(value).__name__, exc)
        return
    for name, data in (made or {}).items():
        try:
            check_file_name(name)
            if "/" in name or content_type(name) is None:
                raise ArtifactError(f"{name!r} is not a visualization file name.")
            if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
                raise ArtifactError(f"{name!r} is not bytes of at most {MAX_BYTES} bytes.")
        except ArtifactError as exc:
            logger.warning(
                "%s made an unusable visualization (%s); use a plain name ending in %s.",
                materializer, exc.message, ", ".join(TYPES),
            )
            continue
        with folder.open(f"{FOLDER}/{name}", "wb") as fileobj:
            fileobj.write(data)


def listed(files: dict[str, int]) -> list[dict[str, Any]]:
    """The visualizations among a folder's ``files`` (relative name → size)."""
    found = []
    for path, size in sorted(files.items()):
        folder, _, name = path.partition("/")
        kind = content_type(name)
        if folder == FOLDER and name and "/" not in name and kind is not None:
            found.append({"name": name, "content_type": kind, "size": size})
    return found
