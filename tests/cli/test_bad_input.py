"""Bad input as a new user types it: a message naming the thing and the fix, the right exit code,
no traceback, and a store left exactly as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelplane.client import Client
from tests.cli.conftest import Cli, store_state

USER_ERRORS = [
    # unknown model
    (
        ("model", "describe", "nope"),
        ["Model 'nope' does not exist", "Models: 'iris'", "modelplane model list"],
    ),
    (("model", "version", "list", "nope"), ["Model 'nope' does not exist"]),
    (("model", "update", "nope", "-t", "x"), ["Model 'nope' does not exist"]),
    (("model", "delete", "nope", "-y"), ["Model 'nope' does not exist"]),
    (("model", "version", "describe", "nope", "1"), ["Model 'nope' does not exist"]),
    (("model", "version", "runs", "nope", "1"), ["Model 'nope' does not exist"]),
    (("model", "version", "rollback", "nope", "-s", "production"), ["Model 'nope' does not exist"]),
    (("run", "list", "--model", "nope"), ["Model 'nope' does not exist"]),
    # unknown version, by number, by name, by an empty stage
    (
        ("model", "version", "describe", "iris", "99"),
        ["no version 99", "Versions: 1 (archived), 2 (production)"],
    ),
    (("model", "version", "update", "iris", "99", "-s", "staging"), ["no version 99"]),
    (("model", "version", "delete", "iris", "99", "-y"), ["no version 99"]),
    (("model", "version", "artifacts", "iris", "nosuch"), ["no version named 'nosuch'"]),
    (("model", "version", "model_objects", "iris", "nosuch"), ["no version named 'nosuch'"]),
    (("model", "version", "history", "iris", "nosuch"), ["no version named 'nosuch'"]),
    (("model", "version", "history", "iris", "--stage", "latest"), ["'latest'", "virtual"]),
    # stages that cannot be used the way they were
    # (update -s latest is no longer offered: a usage error, tests/cli/test_stage_choices.py)
    (
        ("model", "version", "describe", "iris", "archived"),
        ["Stage 'archived' can hold many versions"],
    ),
    (("model", "version", "describe", "iris", "none"), ["can hold many versions"]),
    (
        ("model", "version", "update", "iris", "4", "-s", "production"),
        ["already holds stage 'production'", "was not moved", "Add --force to archive"],
    ),
    (
        (
            "model",
            "version",
            "update",
            "iris",
            "4",
            "-s",
            "production",
            "--force",
            "--expect-current",
            "1",
        ),
        ["held by", "nothing was changed", "--expect-current"],
    ),
    (
        ("model", "version", "update", "iris", "4", "-s", "production", "-n", "renamed"),
        ["already holds stage 'production'"],  # the rename must not happen either
    ),
    (
        ("model", "version", "delete", "iris", "production", "-y"),
        ["in stage 'production'", "--force"],
    ),
    (
        ("model", "version", "rollback", "iris", "-s", "staging"),
        [
            "no earlier holder of stage 'staging'",
            "modelplane model version update iris VERSION -s staging",
        ],
    ),
    # duplicates and invalid names
    (("model", "register", "-n", "iris"), ["already exists", "modelplane model update iris"]),
    (("model", "update", "iris", "--name", "other"), ["a model named 'other' already exists"]),
    (("model", "register", "-n", " iris "), ["starts or ends with spaces"]),
    (("model", "register", "-n", ""), ["name is empty"]),
    (("model", "version", "update", "iris", "1", "-n", "7"), ["is a number"]),
    (("model", "version", "update", "iris", "1", "-n", "staging"), ["is a stage name"]),
    (("model", "version", "update", "iris", "1", "-n", "3"), ["is a number"]),
    (
        (
            "model",
            "version",
            "update",
            "iris",
            "3",
            "-s",
            "production",
            "--force",
            "-n",
            "candidate",
        ),
        ["already has a version named 'candidate'", "nothing was changed"],
    ),
    (("model", "version", "update", "iris", "3", "-n", "candidate"), ["candidate"]),
    # other nouns
    (("run", "describe", "nope"), ["Run 'nope' does not exist", "modelplane run list"]),
    (("run", "logs", "nope"), ["Run 'nope' does not exist"]),
    (("run", "delete", "nope", "-y"), ["Run 'nope' does not exist"]),
    (("pipeline", "delete", "nope", "-y"), ["nope"]),
    (("run", "list", "--pipeline", "nope"), ["nope"]),
    (("artifact", "describe", "nope"), ["nope", "modelplane artifact list"]),
    (("artifact", "describe", "nope:x"), ["is not a number"]),
    (("artifact", "version", "list", "nope"), ["nope"]),
]


@pytest.mark.parametrize(
    ("args", "fragments"), USER_ERRORS, ids=[" ".join(a) for a, _ in USER_ERRORS]
)
def test_user_error_exits_1_with_a_message_and_changes_nothing(
    cli: Cli, iris: Client, args: tuple[str, ...], fragments: list[str]
) -> None:
    iris.create_model("other")
    before = store_state(iris)
    ran = cli(*args)
    assert ran.exit_code == 1, ran.stderr
    assert ran.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.stdout == ""
    assert store_state(iris) == before


USAGE_ERRORS = [
    (("model", "describe"), "Missing argument 'NAME'"),
    (("model", "version", "update", "iris", "1", "-s", "prod"), "'prod' is not one of"),
    (("model", "version", "list", "iris", "--stage", "prod"), "'prod' is not one of"),
    (("model", "version", "update", "iris", "1"), "Nothing to update"),
    (("model", "version", "update", "iris", "1", "--force"), "only work with -s/--stage"),
    (
        ("model", "version", "update", "iris", "1", "-s", "archived", "--expect-current", "1"),
        "--expect-current only",
    ),
    (("model", "update", "iris"), "Nothing to update"),
    (("model", "list", "--limit", "0"), "--limit"),
    (("model", "list", "--page", "0"), "--page"),
    (("model", "list", "-o", "yaml"), "'yaml' is not one of"),
    (("model", "register"), "Missing option '-n' / '--name'"),
    (("model", "version", "rollback", "iris", "-s", "archived"), "'archived' is not one of"),
    (("run", "list", "--status", "done"), "'done' is not one of"),
    (("modle", "list"), "No such command 'modle'"),
]


@pytest.mark.parametrize(
    ("args", "fragment"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS]
)
def test_usage_error_exits_2_and_changes_nothing(
    cli: Cli, iris: Client, args: tuple[str, ...], fragment: str
) -> None:
    before = store_state(iris)
    ran = cli(*args)
    assert ran.exit_code == 2, ran.stderr
    assert fragment in ran.stderr
    assert store_state(iris) == before


@pytest.mark.parametrize(
    "args",
    [
        ("model", "delete", "iris"),
        ("model", "version", "delete", "iris", "candidate"),
    ],
    ids=["model", "version"],
)
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "No answer on standard input, so nothing was changed."),
        ("", "No answer on standard input, so nothing was changed."),
        ("n\n", "Cancelled; nothing was changed."),
        ("\n", "Cancelled; nothing was changed."),
        ("maybe\n", "Cancelled; nothing was changed."),
    ],
    ids=["closed", "empty", "no", "enter", "other"],
)
def test_a_question_not_answered_yes_changes_nothing(
    cli: Cli, iris: Client, args: tuple[str, ...], answer: str | None, message: str
) -> None:
    before = store_state(iris)
    ran = cli(*args, input=answer)
    assert ran.exit_code == 1
    assert message in ran.stderr
    assert store_state(iris) == before


def test_empty_store_errors_say_there_is_nothing_yet(cli: Cli) -> None:
    ran = cli("model", "version", "list", "iris")
    assert ran.exit_code == 1
    assert "Model 'iris' does not exist. There are no models yet." in ran.stderr
    for listing in (("run", "list"), ("pipeline", "list"), ("artifact", "list"), ("model", "list")):
        ran = cli(*listing)
        assert ran.exit_code == 0
        assert "yet" in ran.stdout


def test_model_without_versions_says_how_to_make_one(cli: Cli, client: Client) -> None:
    client.create_model("fresh")
    ran = cli("model", "version", "describe", "fresh", "latest")
    assert ran.exit_code == 1
    assert "has no versions yet" in ran.stderr
    assert "Model(name='fresh')" in ran.stderr


def test_empty_stage_names_the_stage_and_the_fix(cli: Cli, iris: Client) -> None:
    iris.set_stage("iris", 3, "none")
    ran = cli("model", "version", "describe", "iris", "staging")
    assert ran.exit_code == 1
    assert "has no version in stage 'staging'" in ran.stderr
    assert "modelplane model version update iris VERSION --stage staging" in ran.stderr


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("nosuchdb://x", ["is not one modelplane can use", "sqlite:///"]),
        (
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            ["cannot be opened", "database server is running"],
        ),
    ],
    ids=["malformed-url", "unreachable-server"],
)
def test_store_that_cannot_be_used(cli: Cli, url: str, fragments: list[str]) -> None:
    ran = cli("model", "list", env={"MODELPLANE_STORE_URL": url})
    assert ran.exit_code == 1
    for fragment in fragments:
        assert fragment in ran.stderr
    assert "Traceback" not in ran.stderr


def test_store_in_a_folder_that_cannot_be_created(cli: Cli, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    ran = cli("model", "list", env={"MODELPLANE_STORE_URL": f"sqlite:///{blocker}/store.db"})
    assert ran.exit_code == 1
    assert ran.stderr.startswith("Error: ")
    assert str(blocker) in ran.stderr
    assert "Traceback" not in ran.stderr
    assert blocker.read_text() == "not a folder"


def test_debug_shows_the_traceback(cli: Cli, iris: Client) -> None:
    quiet = cli("model", "describe", "nope")
    loud = cli("--debug", "model", "describe", "nope")
    by_env = cli("model", "describe", "nope", env={"MODELPLANE_DEBUG": "1"})
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr
    assert "NotFoundError" in loud.stderr
    assert "Traceback" in by_env.stderr
    assert loud.exit_code == by_env.exit_code == 1


MODELPLANE = str(Path(sys.executable).with_name("modelplane"))


@pytest.mark.parametrize(
    ("redirect", "answered"),
    [("<&-", False), ("</dev/null", False), ("<<<n", False), ("<<<y", True)],
    ids=["closed", "empty", "no", "yes"],
)
def test_a_real_process_reads_its_answer_from_standard_input(
    iris: Client, redirect: str, answered: bool
) -> None:
    done = subprocess.run(
        ["bash", "-c", f'"$0" model delete iris {redirect}', MODELPLANE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == (0 if answered else 1)
    assert answered or "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert iris.list_models().total == (0 if answered else 1)
