"""Promotion gates from the terminal: set them on a model, see them, and be refused (exit 1,
nothing changed) when a version does not meet them — with or without --force."""

from __future__ import annotations

import pytest

from modelplane.client import Client
from tests.cli.conftest import Cli, store_state


@pytest.fixture
def gated(cli: Cli, client: Client) -> Client:
    ran = cli(
        "model", "register", "-n", "iris",
        "-g", "production: accuracy >= current", "-g", "production:accuracy>=0.9",
    )
    assert ran.exit_code == 0, ran.stderr
    for accuracy in (0.93, 0.91, 0.97):
        client.create_model_version("iris", metadata={"accuracy": accuracy})
    return client


def test_register_and_describe_show_the_gates(cli: Cli, gated: Client) -> None:
    described = cli("model", "describe", "iris")
    as_json = cli("model", "describe", "iris", "-o", "json").json()
    listed = cli("model", "list", "-o", "json").json()

    assert "Gates into production" in described.stdout
    assert "accuracy >= current" in described.stdout and "accuracy >= 0.9" in described.stdout
    assert as_json["gates"] == {"production": ["accuracy >= current", "accuracy >= 0.9"]}
    assert listed["items"][0]["gates"] == as_json["gates"]


def test_update_adds_and_removes_gates(cli: Cli, gated: Client) -> None:
    added = cli("model", "update", "iris", "-g", "staging: f1 exists", "-o", "json")
    removed = cli("model", "update", "iris", "--remove-gate", "production: accuracy >= 0.9")
    cleared = cli("model", "update", "iris", "--remove-gate", "staging:")

    assert added.exit_code == removed.exit_code == cleared.exit_code == 0
    assert added.json()["gates"]["staging"] == ["f1 exists"]
    assert gated.get_model("iris").gates == {"production": ["accuracy >= current"]}


def test_a_version_that_misses_a_gate_is_refused_even_with_force(cli: Cli, gated: Client) -> None:
    assert cli("model", "version", "update", "iris", "1", "-s", "production").exit_code == 0
    before = store_state(gated)

    ran = cli("model", "version", "update", "iris", "2", "-s", "production", "--force")

    assert ran.exit_code == 1
    assert "does not meet the gates for 'production'" in ran.stderr
    assert "it is 0.91, not >= 0.93 (version 1, now in production)" in ran.stderr
    assert "--force does not bypass gates" in ran.stderr
    assert "Traceback" not in ran.stderr
    after = store_state(gated)
    # Only the refusal is added to the history; no stage moved.
    refusal, *rest = after.pop("history:iris")
    assert (refusal["kind"], refusal["version_number"]) == ("refused", 2)
    assert rest == before.pop("history:iris")
    assert {k: v for k, v in after.items() if k != "counts"} == {
        k: v for k, v in before.items() if k != "counts"
    }
    history = cli("model", "version", "history", "iris", "2")
    assert "refused" in history.stdout and "accuracy >= current" in history.stdout
    better = cli("model", "version", "update", "iris", "3", "-s", "production", "--force")
    assert better.exit_code == 0
    assert gated.get_model_version("iris", "production").number == 3


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("-g", "prod: accuracy > 1", "does not start with a stage"),
        ("-g", "production: accuracy >>= 1", "cannot be read"),
        ("-g", "latest: accuracy > 1", "does not start with a stage"),
        ("--remove-gate", "production: f1 exists", "has no gate 'f1 exists'"),
    ],
)
def test_bad_gate_options_are_usage_errors_and_change_nothing(
    cli: Cli, gated: Client, option: str, value: str, message: str
) -> None:
    before = store_state(gated)

    ran = cli("model", "update", "iris", option, value)

    assert ran.exit_code == 2
    assert message in ran.stderr and option in ran.stderr
    assert store_state(gated) == before
