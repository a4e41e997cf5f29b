"""Fixtures of the dashboard tests: a real server holding the iris reference flow, and headless
Chromium (Debian's ``chromium`` package) driven by Playwright.

Without a ``chromium`` on PATH these tests are skipped, unless MODELPLANE_REQUIRE_BROWSER=1 (CI
sets it) turns the missing browser into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from modelplane.enums import ModelStages
from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer

IRIS = Path(__file__).resolve().parents[2] / "examples" / "iris"
MODEL = "iris_classifier"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _run_example(script: str, server: LiveServer, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(server.client_env(), MODELPLANE_HOME=str(home))
    return subprocess.run(
        [sys.executable, script], cwd=IRIS, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="package")
def iris_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server after the reference flow (train, predict twice when something is in production,
    train again), then with version 1 in production so that promoting version 2 archives it."""
    root = tmp_path_factory.mktemp("dashboard-server")
    with LiveServer(root) as server:
        store = server.store()
        for script in ("train.py", "predict.py", "predict.py", "train.py"):
            if script == "predict.py" and not store.list_model_versions(MODEL, stage="production").total:
                continue
            done = _run_example(script, server, root / "client-home")
            assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        if store.list_model_versions(MODEL, stage="production").items[:1] != [store.get_model_version(MODEL, 1)]:
            store.set_stage(MODEL, 1, ModelStages.PRODUCTION, force=True)
        store.close()
        yield server


@pytest.fixture(scope="package")
def viewer_token(iris_server: LiveServer) -> str:
    """A stored token owned by ``dora``, the person using the dashboard."""
    store = iris_server.store()
    _, secret = store.create_token("dora")
    store.close()
    return secret


@pytest.fixture
def admin(iris_server: LiveServer) -> Iterator[HttpMetadataStore]:
    store = iris_server.store()
    yield store
    store.close()


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "needs Debian's chromium: apt-get install -y chromium"
        if os.environ.get("MODELPLANE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (no token stored) that records script errors and dialogs."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.dialogs = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()
