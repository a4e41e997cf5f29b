"""``init``, ``status``, ``db`` and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.metadata.sql.engine import SCHEMA_HEAD
from tests.cli.conftest import Cli


def test_init_makes_a_project_store_that_commands_below_find(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPLANE_HOME")
    ran = cli("init")
    project = Path.cwd() / ".modelplane"
    assert ran.exit_code == 0
    assert f"Initialized modelplane in {project}" in ran.stdout
    assert (project / "store.db").is_file()
    assert (project / "artifacts").is_dir()
    assert (project / ".gitignore").read_text().strip().endswith("*")
    again = cli("init")
    assert again.exit_code == 0
    assert "Already initialized" in again.stdout
    sub = Path.cwd() / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    status = cli("status", "-o", "json").json()
    assert status["store_url"] == f"sqlite:///{project / 'store.db'}"
    assert status["store_source"].startswith(f"project folder {project}")
    nested = cli("init")
    assert nested.exit_code == 0
    assert f"inside the project {project}" in nested.stderr


def test_init_warns_when_the_environment_overrides_the_project(cli: Cli, mp_home: Path) -> None:
    ran = cli("init", "-o", "json")
    assert ran.exit_code == 0
    assert ran.json()["created"] is True
    assert "MODELPLANE_HOME is set, so commands here use" in ran.stderr


def test_status_says_where_and_why(cli: Cli, iris: Client, mp_home: Path) -> None:
    data = cli("status", "-o", "json").json()
    assert data["store_url"] == f"sqlite:///{mp_home / 'store.db'}"
    assert data["store_source"] == "MODELPLANE_HOME is set"
    assert data["artifact_uri"] == str(mp_home / "artifacts")
    assert data["schema_revision"] == SCHEMA_HEAD
    assert data["counts"]["models"] == 1
    assert data["counts"]["model_versions"] == 4
    table = cli("status").stdout
    assert "Chosen by" in table
    assert "MODELPLANE_HOME is set" in table


def test_status_names_an_explicit_store_url(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    data = cli("status", "-o", "json", env={"MODELPLANE_STORE_URL": url}).json()
    assert (data["store_url"], data["store_source"]) == (url, "MODELPLANE_STORE_URL is set")


def test_db_current_does_not_create_a_store(cli: Cli, mp_home: Path) -> None:
    ran = cli("db", "current")
    assert ran.exit_code == 0
    assert "no database yet" in ran.stdout
    assert not (mp_home / "store.db").exists()


def test_db_upgrade_then_current(cli: Cli, mp_home: Path) -> None:
    first = cli("db", "upgrade")
    assert first.exit_code == 0
    assert f"from an empty database to {SCHEMA_HEAD}" in first.stdout
    second = cli("db", "upgrade")
    assert "nothing to do" in second.stdout
    data = cli("db", "current", "-o", "json").json()
    assert (data["revision"], data["head"], data["up_to_date"]) == (SCHEMA_HEAD, SCHEMA_HEAD, True)


def test_db_commands_refuse_a_server_url(cli: Cli) -> None:
    ran = cli("db", "current", env={"MODELPLANE_STORE_URL": "http://127.0.0.1:1"})
    assert ran.exit_code == 1
    assert "its database is managed there" in ran.stderr


MODELPLANE = str(Path(sys.executable).with_name("modelplane"))  # the installed console script


def test_completion_script_and_completions(mp_home: Path) -> None:
    env = {**os.environ, "_MODELPLANE_COMPLETE": "bash_source"}
    script = subprocess.run([MODELPLANE], env=env, capture_output=True, text=True)
    assert "_MODELPLANE_COMPLETE=bash_complete" in script.stdout
    env = {
        **os.environ,
        "_MODELPLANE_COMPLETE": "bash_complete",
        "COMP_WORDS": "modelplane model version d",
        "COMP_CWORD": "3",
    }
    words = subprocess.run([MODELPLANE], env=env, capture_output=True, text=True).stdout
    assert {"plain,describe", "plain,delete", "plain,data_artifacts", "plain,deployments"} <= set(
        words.split()
    )


def test_completion_command_prints_the_same_script(cli: Cli) -> None:
    ran = cli("completion", "bash")
    assert ran.exit_code == 0
    assert "_MODELPLANE_COMPLETE=bash_complete" in ran.stdout
