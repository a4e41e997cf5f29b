"""Pillow images as artifacts, stored losslessly as PNG (which is also their visualization)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from modelplane.artifacts.materializers import ArtifactFolder, Materializer

__all__ = ["ImageMaterializer"]

_FILE = "image.png"


def _png(value: Any) -> bytes:
    buffer = io.BytesIO()
    value.save(buffer, format="PNG")
    return buffer.getvalue()


class ImageMaterializer(Materializer):
    """A ``PIL.Image.Image``, as a PNG file (every mode PNG can hold; others go to the next
    materializer)."""

    handled_types = (Image.Image,)

    def can_save(self, value: Any) -> bool:
        return value.mode in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA")

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open(_FILE, "wb") as fileobj:
            fileobj.write(_png(value))

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open(_FILE, "rb") as fileobj:
            image = Image.open(io.BytesIO(fileobj.read()))
            image.load()
            return image

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"width": value.width, "height": value.height, "mode": value.mode}

    def visualize(self, value: Any) -> dict[str, bytes]:
        return {"preview.png": _png(value)}
