"""Figures, images and reports returned by steps are stored with their visualizations."""

from __future__ import annotations

from typing import Annotated

import matplotlib
import pytest
from PIL import Image

from modelplane import pipeline, step
from modelplane.artifacts.visualizations import listed
from modelplane.client import Client
from modelplane.types import MarkdownString

matplotlib.use("Agg")


@step(enable_cache=False)
def report() -> tuple[
    Annotated[object, "figure"], Annotated[Image.Image, "picture"], Annotated[MarkdownString, "summary"]
]:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3], [3, 1, 2])
    return figure, Image.new("RGB", (16, 8), (0, 128, 255)), MarkdownString("# Done\n\nAll steps ran.")


@pipeline(enable_cache=False)
def reporting() -> None:
    report()


def test_step_outputs_get_their_visualizations(client: Client, orchestrator: str) -> None:
    run = reporting.with_options(orchestrator=orchestrator)()
    (step_run,) = client.list_step_runs(run.id)
    found = {}
    for name, av_id in step_run.outputs.items():
        record = client.get_artifact_version(av_id)
        found[name] = [v["name"] for v in listed(client.artifact_store.folder(record.uri).files())]
    assert found == {"figure": ["figure.png"], "picture": ["preview.png"], "summary": ["text.md"]}
    assert client.load_artifact("picture").size == (16, 8)
    assert client.load_artifact("summary") == "# Done\n\nAll steps ran."


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
