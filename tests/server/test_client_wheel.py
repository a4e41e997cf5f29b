"""The light client as a user installs it: the wheel built from this checkout, installed with
``[client]`` into a fresh virtual environment (nothing server-side in it), logs in to a live
server and runs a pipeline there.

The wheel is built from a copy of the sources (so the checkout gets no ``build/`` folder) and the
environment made anew on every run, from the package registry: about 20 s in all on the 2-core CI
machine, so no cached environment can hide a broken requirement.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SERVER_SIDE = ("fastapi", "starlette", "uvicorn", "prometheus_client", "psycopg", "pymysql", "ray")


def _outside_env() -> dict[str, str]:
    """This environment without modelplane's settings and without PYTHONPATH (which may name the
    checkout's ``src``, where pip would take modelplane as installed already)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MODELPLANE_", "PYTHON"))}


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        timeout=900,
        env=_outside_env(),
    )


def _build_wheel(into: Path) -> Path:
    source = into / "source"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _pip(Path(sys.executable), "wheel", str(source), "--no-deps", "-w", str(into / "dist"))
    (wheel,) = (into / "dist").glob("modelplane-*.whl")
    return wheel


def _client_venv(wheel: Path, venv: Path) -> Path:
    """A fresh virtual environment with ``wheel[client]`` from the package registry."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=_outside_env())
    _pip(venv / "bin" / "python", "install", f"{wheel}[client]")
    return venv


PIPELINE = textwrap.dedent(
    """
    from typing import Annotated

    from modelplane import Model, pipeline, step


    @step
    def numbers(count: int) -> Annotated[list[int], "numbers"]:
        return list(range(count))


    @step
    def total(values: list[int]) -> Annotated[int, "total"]:
        return sum(values)


    @pipeline(model=Model(name="from-the-light-client"), enable_cache=False)
    def sums(count: int = 4) -> None:
        total(numbers(count))


    run = sums(count=5)
    print("RUN", run.id, run.status)
    """
)


def test_the_client_wheel_runs_a_pipeline_against_a_live_server(
    live_server: LiveServer, admin: HttpMetadataStore, tmp_path: Path
) -> None:
    venv = _client_venv(_build_wheel(tmp_path / "build"), tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pipeline.py").write_text(PIPELINE)
    env = _outside_env()
    env["MODELPLANE_CONFIG"] = str(tmp_path / "user-config.json")
    env["HOME"] = str(tmp_path / "home")  # the user data folder, where no store should appear

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command), cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    imports = run(str(venv / "bin" / "python"), "-c", textwrap.dedent(f"""
        import importlib.util, json, modelplane
        print(json.dumps([modelplane.__file__, [m for m in {SERVER_SIDE!r} if importlib.util.find_spec(m)]]))
    """))  # fmt: skip
    login = run(str(venv / "bin" / "modelplane"), "login", live_server.url, "--token", str(live_server.admin_token))
    ran = run(str(venv / "bin" / "python"), "pipeline.py")
    listed = run(str(venv / "bin" / "modelplane"), "model", "version", "list", "from-the-light-client", "-o", "json")

    assert imports.returncode == 0, imports.stderr
    installed_at, server_side = json.loads(imports.stdout)
    assert installed_at.startswith(str(venv)) and server_side == []
    assert login.returncode == 0, login.stderr
    assert ran.returncode == 0, ran.stderr
    run_id = ran.stdout.split("RUN ")[1].split()[0]
    recorded = admin.get_run(run_id)
    assert recorded.status.value == "completed"
    steps = admin.list_step_runs(run_id)
    assert [(s.name, s.status.value) for s in steps] == [("numbers", "completed"), ("total", "completed")]
    (version,) = admin.list_model_versions("from-the-light-client").items
    links = admin.list_artifact_links(version.model_id, version.id).items
    assert {link.name for link in links} == {"numbers", "total"}
    assert listed.returncode == 0, listed.stderr
    assert [row["number"] for row in json.loads(listed.stdout)["items"]] == [version.number]
    assert not (tmp_path / "home" / ".local" / "share" / "modelplane").exists()
