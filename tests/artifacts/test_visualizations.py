"""Visualizations: pictures a materializer makes of an artifact when it is saved, stored beside it."""

from __future__ import annotations

import io
import logging
from typing import Any

import matplotlib
import pandas as pd
import pytest
from PIL import Image

from modelplane.artifacts.io import load_value, save_value
from modelplane.artifacts.materializers import Materializer, register_materializer
from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id
from modelplane.artifacts.visualizations import listed
from modelplane.types import HTMLString, MarkdownString

matplotlib.use("Agg")


def _saved(store: FsspecArtifactStore, value: Any) -> tuple[Any, dict[str, dict[str, Any]], Any]:
    saved = save_value(store, new_artifact_id(), value)
    folder = store.folder(saved.uri)
    found = {item["name"]: item for item in listed(folder.files())}
    back = load_value(
        store,
        uri=saved.uri,
        materializer=saved.materializer,
        data_type=saved.data_type,
        size=saved.size,
        content_hash=saved.content_hash,
    )
    return saved, found, back


def _read(store: FsspecArtifactStore, saved: Any, name: str) -> bytes:
    with store.folder(saved.uri).open(f"visualizations/{name}", "rb") as fileobj:
        return fileobj.read()


def test_a_dataframe_gets_an_html_head_and_a_csv_when_small(local_store: FsspecArtifactStore) -> None:
    frame = pd.DataFrame({"x": range(30), "label": ["<b>a</b>"] * 30})
    saved, found, back = _saved(local_store, frame)
    assert set(found) == {"head.html", "table.csv"}
    assert found["head.html"]["content_type"].startswith("text/html")
    html = _read(local_store, saved, "head.html").decode()
    assert html.count("<tr") == 21  # the header and the first 20 rows
    assert "&lt;b&gt;a&lt;/b&gt;" in html  # cell text escaped, never markup
    assert _read(local_store, saved, "table.csv").decode().count("\n") == 31
    pd.testing.assert_frame_equal(back, frame)  # the visualizations do not disturb loading
    big, found, _ = _saved(local_store, pd.DataFrame({"x": range(500)}))
    assert set(found) == {"head.html"}


def test_markdown_and_html_text_are_shown_as_what_they_are(local_store: FsspecArtifactStore) -> None:
    _, found, back = _saved(local_store, MarkdownString("# Report\n\nall good"))
    assert list(found) == ["text.md"] and type(back) is MarkdownString
    assert back == "# Report\n\nall good"
    _, found, back = _saved(local_store, HTMLString("<h1>x</h1>"))
    assert list(found) == ["page.html"] and type(back) is HTMLString


def test_a_matplotlib_figure_and_a_pil_image_become_png(local_store: FsspecArtifactStore) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [2, 0, 1])
    saved, found, back = _saved(local_store, figure)
    assert list(found) == ["figure.png"] and found["figure.png"]["content_type"] == "image/png"
    assert _read(local_store, saved, "figure.png").startswith(b"\x89PNG")
    assert len(back.axes) == 1
    plt.close(figure)

    image = Image.new("RGB", (7, 5), (10, 20, 30))
    saved, found, back = _saved(local_store, image)
    assert list(found) == ["preview.png"]
    assert Image.open(io.BytesIO(_read(local_store, saved, "preview.png"))).size == (7, 5)
    assert back.size == (7, 5) and back.getpixel((3, 2)) == (10, 20, 30)


class Thing:
    def __init__(self, text: str) -> None:
        self.text = text


class ThingMaterializer(Materializer):
    handled_types = (Thing,)
    pictures: dict[str, Any] = {}
    fail = False

    def save(self, value: Any, folder: Any) -> None:
        with folder.open("thing.txt", "wb") as fileobj:
            fileobj.write(value.text.encode())

    def load(self, data_type: type, folder: Any) -> Any:
        with folder.open("thing.txt", "rb") as fileobj:
            return Thing(fileobj.read().decode())

    def visualize(self, value: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("no plotting backend")
        return self.pictures


@pytest.fixture
def thing_materializer() -> type[ThingMaterializer]:
    register_materializer(ThingMaterializer)
    ThingMaterializer.fail = False
    return ThingMaterializer


def test_a_users_materializer_adds_its_own(local_store: FsspecArtifactStore, thing_materializer: Any) -> None:
    thing_materializer.pictures = {"summary.md": b"*a thing*", "chart.png": b"\x89PNG..."}
    _, found, back = _saved(local_store, Thing("x"))
    assert set(found) == {"summary.md", "chart.png"} and back.text == "x"


def test_a_failing_or_unusable_visualizer_never_fails_the_save(
    local_store: FsspecArtifactStore, thing_materializer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    thing_materializer.pictures = {
        "ok.csv": b"a,b\n",
        "evil.svg": b"<svg onload=alert(1)>",  # SVG can carry script: not a visualization type
        "../escape.png": b"x",
        "sub/dir.png": b"x",
        "text.txt": "not bytes",
    }
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        _, found, back = _saved(local_store, Thing("y"))
    assert list(found) == ["ok.csv"] and back.text == "y"
    assert caplog.text.count("unusable visualization") == 4
    thing_materializer.fail = True
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        _, found, _ = _saved(local_store, Thing("z"))
    assert found == {} and "could not visualize a Thing: no plotting backend" in caplog.text
