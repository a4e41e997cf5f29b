"""``modelplane model version …``: listing, stage moves, history, rollback, delete."""

from __future__ import annotations

import pytest

from modelplane.client import Client
from tests.cli.conftest import Cli


def numbers(ran_json: dict) -> list[int]:
    return [v["number"] for v in ran_json["items"]]


def test_list_is_newest_first_with_stages(cli: Cli, iris: Client) -> None:
    data = cli("model", "version", "list", "iris", "-o", "json").json()
    assert numbers(data) == [4, 3, 2, 1]
    assert [v["stage"] for v in data["items"]] == ["none", "staging", "production", "archived"]
    assert data["items"][0]["name"] == "candidate"
    table = cli("model", "version", "list", "iris").stdout
    assert "candidate" in table
    assert "production" in table


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--stage", "staging"), [3]),
        (("--stage", "PRODUCTION"), [2]),
        (("--stage", "latest"), [4]),
        (("--stage", "archived"), [1]),
        (("--tag", "new"), [4]),
        (("--limit", "2", "--page", "2"), [2, 1]),
    ],
    ids=["staging", "production-any-case", "latest", "archived", "tag", "page-2"],
)
def test_list_filters(cli: Cli, iris: Client, args: tuple[str, ...], expected: list[int]) -> None:
    assert numbers(cli("model", "version", "list", "iris", "-o", "json", *args).json()) == expected


@pytest.mark.parametrize("spec", ["2", "production", "iris_v2"], ids=["number", "stage", "name"])
def test_describe_takes_a_number_a_stage_or_a_name(cli: Cli, iris: Client, spec: str) -> None:
    iris.update_model_version("iris", 2, name="iris_v2")
    data = cli("model", "version", "describe", "iris", spec, "-o", "json").json()
    assert data["number"] == 2
    assert data["stage"] == "production"
    assert data["counts"] == {
        "runs": 0,
        "data_artifacts": 0,
        "model_artifacts": 0,
        "deployment_artifacts": 0,
    }


def test_describe_table_lists_link_counts(cli: Cli, iris: Client) -> None:
    ran = cli("model", "version", "describe", "iris", "latest")
    assert ran.exit_code == 0
    assert "candidate" in ran.stdout
    assert "Data artifacts" in ran.stdout
    assert "Runs" in ran.stdout


def test_update_moves_the_stage_to_a_free_slot(cli: Cli, iris: Client) -> None:
    iris.set_stage("iris", 3, "none")
    ran = cli("model", "version", "update", "iris", "4", "-s", "staging", "--reason", "looks good")
    assert ran.exit_code == 0
    assert "version 4 (candidate) is now in stage 'staging'" in ran.stdout
    change = iris.list_stage_changes("iris", limit=1).items[0]
    assert (change.version_number, change.to_stage.value, change.reason) == (
        4,
        "staging",
        "looks good",
    )


def test_update_with_force_archives_the_holder(cli: Cli, iris: Client) -> None:
    data = cli(
        "model", "version", "update", "iris", "3", "-s", "production", "--force", "-o", "json"
    ).json()
    assert data["stage"] == "production"
    assert data["number"] == 3
    assert iris.get_model_version("iris", 2).stage.value == "archived"


def test_update_by_stage_resolves_the_version_once(cli: Cli, iris: Client) -> None:
    # "staging" names version 3; renaming it after the move must still hit version 3.
    ran = cli(
        "model",
        "version",
        "update",
        "iris",
        "staging",
        "-s",
        "production",
        "--force",
        "-n",
        "v3",
        "-t",
        "x",
    )
    assert ran.exit_code == 0
    record = iris.get_model_version("iris", 3)
    assert (record.stage.value, record.name, record.tags) == ("production", "v3", ["x"])


def test_update_expect_current_is_compare_and_set(cli: Cli, iris: Client) -> None:
    ok = cli(
        "model",
        "version",
        "update",
        "iris",
        "3",
        "-s",
        "production",
        "--force",
        "--expect-current",
        "2",
    )
    assert ok.exit_code == 0
    assert iris.get_model_version("iris", "production").number == 3


def test_update_metadata_only(cli: Cli, iris: Client) -> None:
    ran = cli(
        "model", "version", "update", "iris", "1", "-d", "first try", "-t", "old", "-n", "first"
    )
    assert ran.exit_code == 0
    assert "Updated model 'iris' version 1 (first)" in ran.stdout
    record = iris.get_model_version("iris", 1)
    assert (record.description, record.tags, record.name) == ("first try", ["old"], "first")


def test_history_shows_actor_reason_and_time(cli: Cli, iris: Client) -> None:
    iris.set_stage("iris", 4, "production", force=True, reason="better recall")
    data = cli("model", "version", "history", "iris", "-o", "json").json()
    newest = data["items"][0]
    assert (newest["version_number"], newest["from_stage"], newest["to_stage"]) == (
        4,
        "none",
        "production",
    )
    assert newest["reason"] == "better recall"
    assert newest["created"]
    only_v1 = cli("model", "version", "history", "iris", "1", "-o", "json").json()
    assert {c["version_number"] for c in only_v1["items"]} == {1}
    table = cli("model", "version", "history", "iris").stdout
    assert "better recall" in table
    assert "ACTOR" in table


def test_rollback_gives_the_stage_back(cli: Cli, iris: Client) -> None:
    ran = cli(
        "model", "version", "rollback", "iris", "--stage", "production", "--reason", "v2 regressed"
    )
    assert ran.exit_code == 0
    assert "version 1 is in stage 'production' again" in ran.stdout
    assert iris.get_model_version("iris", "production").number == 1


def test_delete_asks_then_deletes(cli: Cli, iris: Client) -> None:
    ran = cli("model", "version", "delete", "iris", "candidate", input="yes\n")
    assert ran.exit_code == 0
    assert "Deleted version 4 (candidate)" in ran.stdout
    assert numbers(cli("model", "version", "list", "iris", "-o", "json").json()) == [3, 2, 1]


def test_delete_of_a_stage_holder_needs_force(cli: Cli, iris: Client) -> None:
    ran = cli("model", "version", "delete", "iris", "production", "-y", "--force")
    assert ran.exit_code == 0
    assert iris.list_model_versions("iris", stage="production").total == 0


def test_history_of_a_number_without_changes_says_so(cli: Cli, iris: Client) -> None:
    # By number, so that a deleted version's history stays readable; an unused number has none.
    ran = cli("model", "version", "history", "iris", "99")
    assert ran.exit_code == 0
    assert "No stage changes of version 99 of model 'iris'." in ran.stdout


def test_describe_as_of_shows_who_held_a_stage_then(cli: Cli, client: Client) -> None:
    client.create_model("timeline")
    for _ in range(2):
        client.create_model_version("timeline")
    client.set_stage("timeline", 1, "production")
    client.set_stage("timeline", 2, "production", force=True)
    first, second = sorted(
        (c for c in client.list_stage_changes("timeline").items if c.to_stage.value == "production"),
        key=lambda change: change.created,
    )
    between = first.created + (second.created - first.created) / 2

    then = cli("model", "version", "describe", "timeline", "production", "--as-of", between.isoformat(), "-o", "json")
    now = cli("model", "version", "describe", "timeline", "production", "--as-of", second.created.isoformat())
    before = cli("model", "version", "describe", "timeline", "production", "--as-of", "2000-01-01")

    assert then.exit_code == 0, then.stderr
    assert (then.json()["number"], then.json()["as_of"]) == (1, between.isoformat())
    assert now.exit_code == 0 and "Held production at" in now.stdout
    assert now.stdout.split("Version", 1)[1].split()[0] == "2"
    assert before.exit_code == 1 and "No version of model 'timeline' held production" in before.stderr


def test_describe_as_of_names_the_time_asked_about_in_full(cli: Cli, client: Client) -> None:
    client.create_model("timeline")
    client.create_model_version("timeline")
    client.set_stage("timeline", 1, "production")

    ran = cli(
        "model", "version", "describe", "timeline", "production",
        "--as-of", "2001-02-03T04:05:06.789012+00:00",
    )  # fmt: skip

    assert ran.exit_code == 1
    assert "held production at 2001-02-03 04:05:06.789012+00:00." in ran.stderr


@pytest.mark.parametrize(
    ("version", "as_of", "message"),
    [("1", "2026-01-01", "needs VERSION to be a stage"), ("production", "last week", "is not a time")],
)
def test_describe_as_of_rejects_what_it_cannot_answer(
    cli: Cli, iris: Client, version: str, as_of: str, message: str
) -> None:
    ran = cli("model", "version", "describe", "iris", version, "--as-of", as_of)

    assert ran.exit_code == 2 and message in ran.stderr


def test_versions_show_who_created_them(cli: Cli, iris: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_ACTOR", "dora")
    made = Client().create_model_version("iris", name="by-dora")  # the login name, filled in locally
    assert made.created_by == "dora"

    listed = cli("model", "version", "list", "iris", "-o", "json").json()
    assert listed["items"][0]["created_by"] == "dora"
    assert "BY" in cli("model", "version", "list", "iris").stdout
    described = cli("model", "version", "describe", "iris", "by-dora")
    assert "Created by" in described.stdout and "dora" in described.stdout
    assert cli("model", "version", "describe", "iris", "by-dora", "-o", "json").json()["created_by"] == "dora"
