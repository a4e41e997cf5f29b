"""matplotlib figures as artifacts: the figure pickled (to load it back) and a PNG to look at."""

from __future__ import annotations

import io
import pickle
from typing import Any

from matplotlib.figure import Figure

from modelplane.artifacts.materializers import ArtifactFolder, Materializer

__all__ = ["FigureMaterializer"]

_FILE = "figure.pkl"


class FigureMaterializer(Materializer):
    """A ``Figure``: pickled, as matplotlib supports, and rendered to ``figure.png``.

    Loading unpickles, which runs code: the name is listed by ``is_pickle_materializer``, so the
    dashboard shows the PNG and never loads the figure.
    """

    handled_types = (Figure,)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open(_FILE, "wb") as fileobj:
            pickle.dump(value, fileobj, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open(_FILE, "rb") as fileobj:
            return pickle.load(fileobj)  # recorded as pickle-based

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        width, height = value.get_size_inches()
        return {"axes": len(value.axes), "size_inches": [float(width), float(height)]}

    def visualize(self, value: Any) -> dict[str, bytes]:
        png = io.BytesIO()
        value.savefig(png, format="png", dpi=100, bbox_inches="tight")
        return {"figure.png": png.getvalue()}
