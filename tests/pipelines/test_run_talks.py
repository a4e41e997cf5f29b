"""A run that talks: on a terminal (or when asked) a pipeline call tells its run, steps, cache hits,
model version, stage changes and where to look; quiet otherwise; a notebook shows the run as a table."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import modelplane
from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.errors import ConfigError

from .resources import chatty

SCRIPT = Path(__file__).parent / "resources" / "talky.py"


def _run(*args: str, verbosity: str | None, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(extra_env or {})}
    env["PYTHONPATH"] = str(Path(modelplane.__file__).parents[1])
    env.pop("MODELPLANE_LOGGING_VERBOSITY", None)
    if verbosity is not None:
        env["MODELPLANE_LOGGING_VERBOSITY"] = verbosity
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_run_tells_its_steps_cache_hits_model_version_stage_changes_and_where_to_look(mp_home: Path) -> None:
    first = _run(verbosity="info")
    name = first.stdout.split("RETURNED ")[1].strip()
    lines = first.stderr.splitlines()
    assert lines[0] == f"Running pipeline 'talky' as run '{name}' (2 steps, local orchestrator)."
    assert lines[1] == "Model 'talky' version 1 (a new version, created for this run)."
    assert lines[2] == "Step 'load' started."
    assert re.fullmatch(r"Step 'load' completed in \d+\.\d\ds\.", lines[3])
    assert lines[4] == "Step 'train' started."
    assert re.fullmatch(r"Step 'train' completed in \d+\.\d\ds\.", lines[5])
    assert re.fullmatch(r"Model 'talky' version 1: none → staging( by .+)?\.", lines[6])
    assert re.fullmatch(rf"Run '{name}' completed in \d+\.\d\ds: 2 steps, 0 from the cache\.", lines[7])
    assert lines[8] == f"See it: modelplane run describe {name}"
    assert len(lines) == 9

    second = _run(verbosity="info")
    name = second.stdout.split("RETURNED ")[1].strip()
    told = second.stderr
    assert "Step 'load' came from the cache: outputs of step run" in told and "Step 'load' started." not in told
    assert re.search(r"Model 'talky' version 1: staging → archived", told)
    assert re.search(r"Model 'talky' version 2: none → staging", told)
    assert f"Run '{name}' completed in" in told and "2 steps, 1 from the cache." in told

    # What the run told is not in the steps' own logs.
    client = Client(load_settings())
    for step_run in client.list_step_runs(client.get_run(name).id):
        assert "Step '" not in client.get_step_logs(step_run.id)


def test_a_failed_run_tells_the_step_its_error_and_where_to_look(mp_home: Path) -> None:
    done = _run("fail", verbosity="info")
    assert "FAILED StepFailedError" in done.stdout
    assert re.search(r"Step 'train' failed after \d+\.\d\ds: ValueError: Input contains NaN\.\n", done.stderr)
    name = re.search(r"Run '(\S+)' failed in step 'train' after", done.stderr).group(1)  # type: ignore[union-attr]
    assert f"See it: modelplane run describe {name}" in done.stderr


def test_without_a_terminal_or_a_setting_a_run_prints_nothing(mp_home: Path) -> None:
    done = _run(verbosity=None)
    assert done.stderr == ""
    assert done.stdout.startswith("RETURNED ") and done.stdout.count("\n") == 1
    quiet = _run(verbosity="quiet")
    assert quiet.stderr == ""


def test_the_handler_is_there_only_while_a_run_runs(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODELPLANE_LOGGING_VERBOSITY", "info")
    parent = logging.getLogger("modelplane")
    before = (list(parent.handlers), parent.level, parent.propagate)
    run = chatty.chatty_pipeline()
    assert f"Run '{run.name}' completed" in capsys.readouterr().err
    assert (list(parent.handlers), parent.level, parent.propagate) == before


def test_a_handler_of_the_users_is_used_instead_of_ours(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODELPLANE_LOGGING_VERBOSITY", "info")
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    parent = logging.getLogger("modelplane")
    handler = Collect()
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    try:
        run = chatty.chatty_pipeline()
    finally:
        parent.removeHandler(handler)
        parent.setLevel(logging.NOTSET)
    assert f"See it: modelplane run describe {run.name}" in seen
    assert "Run '" not in capsys.readouterr().err


def test_an_unknown_verbosity_names_the_setting_and_the_choices() -> None:
    with pytest.raises(ConfigError, match="MODELPLANE_LOGGING_VERBOSITY='loud'.*quiet, info, debug"):
        load_settings(env={"MODELPLANE_LOGGING_VERBOSITY": "loud", "MODELPLANE_HOME": "/tmp/x"})
    assert load_settings(env={"MODELPLANE_LOGGING_VERBOSITY": "DEBUG", "MODELPLANE_HOME": "/tmp/x"}).logging_verbosity == "debug"


def test_with_a_server_the_run_points_to_its_dashboard_page() -> None:
    settings = load_settings(env={"MODELPLANE_STORE_URL": "http://127.0.0.1:8237/", "MODELPLANE_HOME": "/tmp/x"})
    assert settings.where_to_look("train 1") == "http://127.0.0.1:8237/#/runs/train%201"


def test_a_run_on_a_server_points_to_its_dashboard_page(tmp_path: Path) -> None:
    from tests.server.live import LiveServer

    with LiveServer(tmp_path / "server") as server:
        env = {**server.client_env(), "MODELPLANE_ARTIFACT_URI": server.artifact_uri}
        done = _run(verbosity="info", extra_env=env)
    name = done.stdout.split("RETURNED ")[1].strip()
    assert f"See it: {server.url}/#/runs/{name}" in done.stderr.splitlines()


def test_in_a_notebook_a_returned_run_is_a_small_table_with_where_to_look(client: Client) -> None:
    run = chatty.chatty_pipeline()
    html = run._repr_html_()
    assert html.startswith("<table>") and run.name in html and "completed" in html
    assert f"<code>modelplane run describe {run.name}</code>" in html
    stored = client.get_run(run.id)
    assert stored == run  # the record is unchanged: equality and JSON as before
    assert "_repr_html_" not in run.model_dump_json() and "See it" not in run.model_dump_json()


def test_a_run_in_a_store_other_than_the_local_one_says_which(mp_home: Path, tmp_path: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    done = _run(verbosity="info", extra_env={"MODELPLANE_STORE_URL": elsewhere})
    first = done.stderr.splitlines()[0]
    assert first.endswith(f"(2 steps, local orchestrator) in the store {elsewhere}.")
    assert not (mp_home / "store.db").exists()  # the local store was not touched
