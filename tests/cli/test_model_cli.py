"""``modelplane model …``: what people see and what scripts read."""

from __future__ import annotations

from modelplane.client import Client
from tests.cli.conftest import Cli


def test_list_shows_a_table_for_people(cli: Cli, iris: Client) -> None:
    ran = cli("model", "list")
    assert ran.exit_code == 0
    header, *rows = [
        line for line in ran.stdout.splitlines() if line.strip() and not set(line) <= {"─", " "}
    ]
    assert header.split() == ["NAME", "VERSIONS", "LATEST", "TAGS", "LICENSE", "UPDATED"]
    assert rows[0].split()[:4] == ["iris", "4", "4", "demo"]
    assert "\x1b[" not in ran.stdout  # no colour when not a terminal


def test_list_json_has_the_documented_shape(cli: Cli, iris: Client) -> None:
    data = cli("model", "list", "-o", "json").json()
    assert set(data) == {"items", "total", "limit", "offset"}
    assert (data["total"], data["limit"], data["offset"]) == (1, 50, 0)
    (item,) = data["items"]
    assert item["name"] == "iris"
    assert item["version_count"] == 4
    assert item["latest_version_number"] == 4
    assert item["tags"] == ["demo"]
    assert item["license"] == "Apache 2.0"


def test_list_filters_by_name_and_tag(cli: Cli, client: Client) -> None:
    client.create_model("alpha_one", tags=["x"])
    client.create_model("alpha_two", tags=["y"])
    client.create_model("beta", tags=["x"])

    def names(*args: str) -> list[str]:
        return [m["name"] for m in cli("model", "list", "-o", "json", *args).json()["items"]]

    assert names("--name", "alpha") == ["alpha_one", "alpha_two"]
    assert names("--tag", "x") == ["alpha_one", "beta"]
    assert names("--name", "ALPHA", "--tag", "y") == ["alpha_two"]
    assert names("--tag", "nope") == []


def test_list_pages(cli: Cli, client: Client) -> None:
    for index in range(5):
        client.create_model(f"m{index}")
    first = cli("model", "list", "-o", "json", "--limit", "2").json()
    third = cli("model", "list", "-o", "json", "--limit", "2", "--page", "3").json()
    assert [m["name"] for m in first["items"]] == ["m0", "m1"]
    assert (third["offset"], [m["name"] for m in third["items"]]) == (4, ["m4"])
    assert third["total"] == 5
    table = cli("model", "list", "--limit", "2")
    assert "1–2 of 5; next: --page 2" in table.stdout


def test_list_on_an_empty_store_says_how_to_start(cli: Cli) -> None:
    ran = cli("model", "list")
    assert ran.exit_code == 0
    assert "No models yet" in ran.stdout
    assert "modelplane model register" in ran.stdout
    assert cli("model", "list", "-o", "json").json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


def test_register_sets_every_card_field(cli: Cli, client: Client) -> None:
    ran = cli(
        "model",
        "register",
        "-n",
        "iris_classifier_cli",
        "-d",
        "created from cli",
        "-t",
        "cli",
        "-t",
        "demo",
        "-l",
        "MIT",
        "--audience",
        "analysts",
        "--use-cases",
        "sorting flowers",
        "--limitations",
        "3 species",
        "--trade-offs",
        "speed over accuracy",
        "-e",
        "none known",
    )
    assert ran.exit_code == 0
    assert "Registered model 'iris_classifier_cli'" in ran.stdout
    record = client.get_model("iris_classifier_cli")
    assert record.description == "created from cli"
    assert record.tags == ["cli", "demo"]
    assert (record.license, record.audience, record.use_cases) == (
        "MIT",
        "analysts",
        "sorting flowers",
    )
    assert (record.limitations, record.trade_offs, record.ethics) == (
        "3 species",
        "speed over accuracy",
        "none known",
    )


def test_register_json_prints_the_record(cli: Cli) -> None:
    data = cli("model", "register", "-n", "m", "-o", "json").json()
    assert data["name"] == "m"
    assert data["version_count"] == 0
    assert len(data["id"]) == 32


def test_describe_shows_card_and_stage_holders(cli: Cli, iris: Client) -> None:
    ran = cli("model", "describe", "iris")
    assert ran.exit_code == 0
    lines = {
        line.split("  ")[0]: line.split("  ", 1)[1].strip() for line in ran.stdout.splitlines()
    }
    assert lines["Description"] == "Iris classifier"
    assert lines["Production"] == "2"
    assert lines["Staging"] == "3"
    data = cli("model", "describe", "iris", "-o", "json").json()
    assert data["stages"] == {"staging": 3, "production": 2}
    assert data["version_count"] == 4


def test_update_adds_and_removes_tags_and_renames(cli: Cli, iris: Client) -> None:
    ran = cli(
        "model", "update", "iris", "-t", "tag1", "-t", "tag2", "-e", "some ethical implications"
    )
    assert ran.exit_code == 0
    assert "Updated model 'iris'" in ran.stdout
    record = iris.get_model("iris")
    assert record.tags == ["demo", "tag1", "tag2"]
    assert record.ethics == "some ethical implications"
    assert record.description == "Iris classifier"  # not given, so unchanged
    data = cli("model", "update", "iris", "-r", "demo", "--name", "iris2", "-o", "json").json()
    assert data["name"] == "iris2"
    assert data["tags"] == ["tag1", "tag2"]
    assert iris.list_model_versions("iris2").total == 4


def test_delete_with_yes_skips_the_question(cli: Cli, iris: Client) -> None:
    ran = cli("model", "delete", "iris", "-y")
    assert ran.exit_code == 0
    assert "Deleted model 'iris'" in ran.stdout
    assert iris.list_models().total == 0


def test_delete_reads_the_answer_from_standard_input(cli: Cli, iris: Client) -> None:
    ran = cli("model", "delete", "iris", input="y\n")
    assert ran.exit_code == 0
    assert "Delete model 'iris' and its 4 versions?" in ran.stderr
    assert iris.list_models().total == 0
