"""docs/serving.md's five commands, run as written (on a free port instead of 8080)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelplane.client import Client
from tests.serving.conftest import ROOT, free_port, service_env

pytestmark = pytest.mark.slow


def _five_commands() -> str:
    text = (ROOT / "docs" / "serving.md").read_text()
    section = text.split("## Five commands", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_five_commands_serve_version_1_then_follow_production_to_version_2(
    tmp_path: Path, client: Client
) -> None:
    shutil.copytree(ROOT / "examples" / "iris", tmp_path / "examples" / "iris",
                    ignore=shutil.ignore_patterns(".modelplane", "__pycache__"))
    port = str(free_port())
    script = _five_commands().replace("8080", port)
    env = service_env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answers = re.findall(r"x-modelplane-model-version: (\d+)", done.stdout, flags=re.IGNORECASE)
    assert answers == ["1", "2"], done.stdout
    assert '{"predictions": [0, 2]}' in done.stdout
    assert f"http://127.0.0.1:{port}" in done.stdout and "follows production" in done.stdout
    deployment = client.list_deployments(model="iris_classifier", include_ended=True).items[0]
    assert [e.kind for e in deployment.events][:2] == ["started", "swapped"]
