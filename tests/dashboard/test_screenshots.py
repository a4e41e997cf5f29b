"""The pictures in docs/dashboard.md, taken by the test suite from a real server and Chromium.

`make screenshots` runs this with MODELPLANE_SCREENSHOTS=docs/images and rewrites them; in a
plain test run the pages are still opened and checked to show what the pictures show.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import MODEL
from tests.dashboard.test_dashboard import log_in
from tests.server.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the tests' clean environment drops MODELPLANE_* variables before each test.
TARGET = os.environ.get("MODELPLANE_SCREENSHOTS")
# (file in docs/images, page, what must be on it before the picture is taken)
SHOTS = [
    ("dashboard-models.png", "#/models", "[data-testid=models-table]"),
    ("dashboard-model.png", f"#/models/{MODEL}", "[data-testid=trend-chart] canvas"),
    ("dashboard-version.png", f"#/models/{MODEL}/versions/1", "[data-testid=metric-chart] canvas"),
    ("dashboard-compare.png", f"#/models/{MODEL}/compare?versions=1,2", "[data-testid=compare-chart] canvas"),
    ("dashboard-runs.png", "#/runs", "main:not([aria-busy]) table"),
]


@pytest.mark.parametrize(("name", "path", "ready"), SHOTS, ids=[s[0] for s in SHOTS])
def test_the_documented_pages_show_what_their_pictures_show(
    browser: Any, iris_server: LiveServer, viewer_token: str, name: str, path: str, ready: str
) -> None:
    assert f"images/{name}" in (ROOT / "docs" / "dashboard.md").read_text()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        log_in(page, iris_server, viewer_token, path)
        page.wait_for_selector(ready)
        if TARGET:
            page.screenshot(path=str(ROOT / TARGET / name), full_page=False)
    finally:
        context.close()
