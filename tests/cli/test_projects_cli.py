"""``modelplane project ...`` on a local store, and ``--project`` / MODELPLANE_PROJECT / ``project
use``: each chooses the project a command acts in, and bad input changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from modelplane.client import Client
from tests.cli.conftest import Cli


def test_a_project_is_created_chosen_and_kept_apart(cli: Cli, client: Client) -> None:
    made = cli("project", "create", "vision", "-d", "image models", "-o", "json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["name"] == "vision"
    assert cli("--project", "vision", "model", "register", "-n", "cnn").exit_code == 0
    assert cli("model", "list", "-o", "json").json()["total"] == 0
    assert [m["name"] for m in cli("-p", "vision", "model", "list", "-o", "json").json()["items"]] == ["cnn"]
    assert cli("model", "list", "-o", "json", env={"MODELPLANE_PROJECT": "vision"}).json()["total"] == 1

    used = cli("project", "use", "vision")
    assert used.exit_code == 0 and "Using the project 'vision'" in used.stdout
    assert cli("model", "list", "-o", "json").json()["total"] == 1
    status = cli("status", "-o", "json").json()
    assert (status["project"], status["project_source"]) == ("vision", "chosen with `modelplane project use`")
    assert status["counts"]["models"] == 1
    # --project and the environment still win over the saved choice.
    assert cli("-p", "default", "model", "list", "-o", "json").json()["total"] == 0
    listed = cli("project", "list")
    assert "* vision" in listed.stdout and "  default" in listed.stdout
    assert cli("project", "use", "default").exit_code == 0
    assert cli("model", "list", "-o", "json").json()["total"] == 0


def test_bad_project_input_is_refused_with_the_fix_and_changes_nothing(
    cli: Cli, client: Client, mp_home: Path
) -> None:
    cli("project", "create", "vision")
    before = cli("project", "list", "-o", "json").json()
    for args, said in [
        (("project", "create", "Vision"), "is not a project name"),
        (("project", "create", "vision"), "already exists"),
        (("project", "use", "nowhere"), "There is no project 'nowhere'"),
        (("--project", "nowhere", "model", "list"), "There is no project 'nowhere'"),
        (("--project", "Bad_Name", "model", "list"), "is not a project name"),
        (("project", "delete", "default", "--yes"), "'default' cannot be deleted"),
        (("project", "members", "nowhere"), "There is no project 'nowhere'"),
    ]:
        ran = cli(*args)
        assert ran.exit_code != 0, args
        assert said in ran.stderr, (args, ran.stderr)
        assert ran.stderr.count("\n") >= 2, ran.stderr  # the error and a hint naming the fix
    env_bad = cli("model", "list", env={"MODELPLANE_PROJECT": "UPPER"})
    assert env_bad.exit_code != 0 and "MODELPLANE_PROJECT is set" in env_bad.stderr
    assert cli("project", "list", "-o", "json").json() == before
    assert not (mp_home / "store.projects" / "nowhere.db").exists()


def test_members_and_tokens_are_per_project(cli: Cli, client: Client) -> None:
    cli("project", "create", "vision")
    made = cli("--project", "vision", "token", "create", "ci-bot", "--role", "editor", "-o", "json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["token"]["project"] == "vision"
    members = cli("project", "members", "vision", "-o", "json").json()["items"]
    assert [(m["user"], m["role"]) for m in members] == [("ci-bot", "editor")]
    assert cli("project", "add-member", "vision", "ann", "admin").exit_code == 0
    assert cli("--project", "vision", "token", "list", "-o", "json").json()["total"] == 1
    assert cli("token", "list", "-o", "json").json()["total"] == 0  # default's tokens only
    removed = cli("project", "remove-member", "vision", "ci-bot", "--yes")
    assert removed.exit_code == 0
    token = cli("--project", "vision", "token", "list", "-o", "json").json()["items"][0]
    assert token["revoked"] is not None
    assert [m["user"] for m in cli("project", "members", "vision", "-o", "json").json()["items"]] == ["ann"]


def test_deleting_a_project_takes_its_tables_and_leaves_default(
    cli: Cli, client: Client, mp_home: Path
) -> None:
    cli("project", "create", "scratch")
    cli("-p", "scratch", "model", "register", "-n", "m")
    assert (mp_home / "store.projects" / "scratch.db").exists()
    refused = cli("project", "delete", "scratch", input="n\n")
    assert refused.exit_code != 0 and (mp_home / "store.projects" / "scratch.db").exists()
    assert cli("project", "delete", "scratch", "--yes").exit_code == 0
    assert not (mp_home / "store.projects" / "scratch.db").exists()
    assert [p["name"] for p in cli("project", "list", "-o", "json").json()["items"]] == ["default"]
    assert json.loads(cli("status", "-o", "json").stdout)["project"] == "default"


def test_db_upgrade_upgrades_every_projects_tables(cli: Cli, client: Client, mp_home: Path) -> None:
    from modelplane.metadata.sql.engine import SCHEMA_HEAD, make_engine, upgrade

    cli("project", "create", "vision")
    older = mp_home / "store.projects" / "vision.db"
    older.unlink()  # as a modelplane of the revision before would have left it
    engine = make_engine(f"sqlite:///{older}")
    upgrade(engine, "0013_users")
    engine.dispose()

    ran = cli("db", "upgrade")
    assert ran.exit_code == 0, ran.stderr
    assert "Already at" in ran.stdout  # default
    assert f"The project 'vision': Upgraded" in ran.stdout and f"to {SCHEMA_HEAD}" in ran.stdout
    again = cli("db", "upgrade")
    assert "The project 'vision': Already at" in again.stdout
