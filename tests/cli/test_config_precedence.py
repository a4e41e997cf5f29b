"""The nearest explicit setting wins: a saved login never captures a project's or a
MODELPLANE_HOME's work, and a command that writes elsewhere than the local store says where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from tests.cli.conftest import Cli


@pytest.fixture
def team_login(tmp_path: Path) -> tuple[Path, str]:
    """A saved `modelplane login` (its config file) to a "team" store, here a SQLite file."""
    team = f"sqlite:///{tmp_path / 'team.db'}"
    config = tmp_path / "login.json"
    config.write_text(json.dumps({"store_url": team, "api_token": "mp_team", "artifact_uri": str(tmp_path / "team-artifacts")}))
    return config, team


def _env(config: Path, **more: str) -> dict[str, str]:
    return {"MODELPLANE_CONFIG": str(config), **more}


def test_a_project_folder_beats_a_saved_login(tmp_path: Path, team_login: tuple[Path, str]) -> None:
    config, team = team_login
    project = tmp_path / "work" / ".modelplane"
    (project / "artifacts").mkdir(parents=True)
    settings = load_settings(cwd=project.parent, env=_env(config))
    assert settings.store_url == f"sqlite:///{project / 'store.db'}"
    assert settings.artifact_uri == str(project / "artifacts")
    assert settings.api_token is None  # the login's token belongs to the login's store
    assert settings.store_is_local_default
    assert settings.unused_login == team
    assert settings.store_source.startswith(f"project folder {project}")


def test_modelplane_home_beats_a_saved_login(tmp_path: Path, team_login: tuple[Path, str]) -> None:
    config, team = team_login
    home = tmp_path / "home"
    settings = load_settings(cwd=tmp_path, env=_env(config, MODELPLANE_HOME=str(home)))
    assert settings.store_url == f"sqlite:///{home / 'store.db'}"
    assert (settings.store_source, settings.unused_login) == ("MODELPLANE_HOME is set", team)


def test_a_login_applies_where_nothing_nearer_chose(tmp_path: Path, team_login: tuple[Path, str]) -> None:
    config, team = team_login
    settings = load_settings(cwd=tmp_path, env=_env(config))
    assert (settings.store_url, settings.api_token) == (team, "mp_team")
    assert settings.artifact_uri == str(tmp_path / "team-artifacts")
    assert not settings.store_is_local_default and settings.unused_login is None
    assert "written by `modelplane login`" in settings.store_source
    # naming the login's store explicitly keeps its token, inside a project too
    project = tmp_path / "p" / ".modelplane"
    project.mkdir(parents=True)
    named = load_settings(cwd=project.parent, env=_env(config, MODELPLANE_STORE_URL=team))
    assert (named.store_url, named.api_token, named.store_source) == (
        team,
        "mp_team",
        "MODELPLANE_STORE_URL is set",
    )


def test_in_a_project_a_write_lands_in_the_project_and_status_mentions_the_login(
    cli: Cli, tmp_path: Path, team_login: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, team = team_login
    monkeypatch.delenv("MODELPLANE_HOME")
    monkeypatch.setenv("MODELPLANE_CONFIG", str(config))
    assert cli("init").exit_code == 0
    made = cli("model", "register", "-n", "local_model")
    assert made.exit_code == 0 and "Store:" not in made.stderr  # the local default: nothing to say
    assert not (tmp_path / "team.db").exists()  # nothing reached the team store
    status = cli("status", "-o", "json").json()
    assert status["unused_login"] == team
    assert "Saved login" in cli("status").stdout
    project = Path.cwd() / ".modelplane"
    names = [m.name for m in Client(load_settings()).list_models()]
    assert names == ["local_model"] and status["store_url"] == f"sqlite:///{project / 'store.db'}"


def test_a_write_to_a_store_that_is_not_the_local_one_says_where(
    cli: Cli, tmp_path: Path, team_login: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, team = team_login
    monkeypatch.delenv("MODELPLANE_HOME")
    monkeypatch.setenv("MODELPLANE_CONFIG", str(config))
    made = cli("model", "register", "-n", "shared")
    assert made.exit_code == 0
    assert made.stderr.count(f"Store: {team} (the user config file {config}") == 1
    listed = cli("model", "list")  # reads do not repeat it
    assert "Store:" not in listed.stderr and "shared" in listed.stdout
    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    moved = cli("model", "register", "-n", "x", env={"MODELPLANE_STORE_URL": elsewhere})
    assert f"Store: {elsewhere} (MODELPLANE_STORE_URL is set)." in moved.stderr
