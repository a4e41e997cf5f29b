"""``model version update -s`` offers only the stages a version can be moved to: ``latest`` is
virtual (the highest number) and was offered, then refused by the store."""

from __future__ import annotations

from modelplane.client import Client
from tests.cli.conftest import Cli


def test_update_does_not_offer_latest_as_a_stage_to_move_to(cli: Cli, iris: Client) -> None:
    helped = cli("model", "version", "update", "--help")
    assert "staging" in helped.stdout and "latest" not in helped.stdout.split("--stage")[1]

    ran = cli("model", "version", "update", "iris", "4", "-s", "latest")

    assert ran.exit_code == 2
    assert "'latest' is not one of" in ran.stderr
    assert "staging" in ran.stderr
    assert iris.get_model_version("iris", 4).stage == "none"


def test_update_still_moves_to_each_settable_stage(cli: Cli, iris: Client) -> None:
    ran = cli("model", "version", "update", "iris", "4", "-s", "archived")

    assert ran.exit_code == 0, ran.stderr
    assert iris.get_model_version("iris", 4).stage == "archived"
