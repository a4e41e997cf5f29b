"""``modelplane model version compare``: versions side by side, with the differences marked."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from modelplane import Model, log_metadata, pipeline, step
from modelplane.client import Client
from tests.cli.conftest import Cli


@step
def make_numbers(count: int = 3) -> Annotated[list, "numbers"]:
    return list(range(count))


@step
def make_labels() -> Annotated[list, "labels"]:
    return [0, 1]  # the same content in every run


@step
def fit(numbers: list, labels: list, rate: float = 0.5) -> Annotated[int, "weights"]:
    log_metadata(
        {
            "accuracy": 0.9 if len(numbers) == 3 else 0.95,
            "owner": "ann",
            "eval": {"f1": 0.8, "rows": len(numbers)},
        },
        infer_model=True,
    )
    return sum(numbers)


@pipeline(model=Model(name="sums"), enable_cache=False)
def sums(count: int = 3) -> None:
    fit(make_numbers(count=count), make_labels())


@pytest.fixture
def two_versions(client: Client) -> Client:
    """Model ``sums``: version 1 (production, count=3) and version 2 (latest, count=4)."""
    sums(count=3)
    sums(count=4)
    client.set_stage("sums", 1, "production")
    return client


def rows_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{row['section']}.{row['field']}": row for row in data["rows"]}


def line_of(table: str, field: str) -> str:
    """The table line of ``field``, e.g. ``metadata.accuracy`` (the marker column comes first)."""
    found = [line for line in table.splitlines() if field in line.split()]
    assert len(found) == 1, (field, table)
    return found[0]


def test_table_marks_only_the_rows_that_differ(cli: Cli, two_versions: Client) -> None:
    ran = cli("model", "version", "compare", "sums", "1", "2")
    assert ran.exit_code == 0, ran.stderr
    out = ran.stdout
    assert line_of(out, "metadata.accuracy").split() == ["≠", "metadata.accuracy", "0.9", "0.95"]
    assert line_of(out, "metadata.eval.rows").split() == ["≠", "metadata.eval.rows", "3", "4"]
    assert line_of(out, "metadata.owner").split() == ["metadata.owner", "ann", "ann"]
    assert line_of(out, "metadata.eval.f1").split() == ["metadata.eval.f1", "0.8", "0.8"]
    # Artifacts (by link kind and name) differ by content: labels has a new version with the
    # same bytes.
    labels = line_of(out, "artifacts.data:labels").split()
    assert labels == ["artifacts.data:labels", "labels:1", "labels:2"]
    numbers = line_of(out, "artifacts.data:numbers").split()
    assert numbers == ["≠", "artifacts.data:numbers", "numbers:1", "numbers:2"]
    assert line_of(out, "details.description").split() == ["details.description", "-", "-"]
    assert "v1 (production)" in out.splitlines()[0]
    assert "≠ marks rows that differ" in out


def test_training_run_parameters_are_compared(cli: Cli, two_versions: Client) -> None:
    ran = cli("model", "version", "compare", "sums", "1", "2")
    assert line_of(ran.stdout, "parameters.pipeline.count").split() == [
        "≠",
        "parameters.pipeline.count",
        "3",
        "4",
    ]
    assert line_of(ran.stdout, "parameters.make_numbers.count").startswith("≠")
    rows = rows_of(cli("model", "version", "compare", "sums", "1", "2", "-o", "json").json())
    assert rows["parameters.pipeline.count"]["values"] == [3, 4]
    assert rows["parameters.make_numbers.count"]["values"] == [3, 4]
    runs = [two_versions.list_model_version_runs("sums", n).items[0].name for n in (1, 2)]
    assert rows["details.training_run"]["values"] == runs


def test_stage_names_resolve(cli: Cli, two_versions: Client) -> None:
    data = cli("model", "version", "compare", "sums", "production", "latest", "-o", "json").json()
    assert [(v["number"], v["stage"]) for v in data["versions"]] == [(1, "production"), (2, "none")]
    assert rows_of(data)["details.stage"]["values"] == ["production", "none"]
    same = cli("model", "version", "compare", "sums", "production", "1", "-o", "json").json()
    assert [v["number"] for v in same["versions"]] == [1, 1]
    assert not any(row["differs"] for row in same["rows"])


def test_only_differences_hides_equal_rows(cli: Cli, two_versions: Client) -> None:
    ran = cli("model", "version", "compare", "sums", "1", "2", "--only-differences")
    assert ran.exit_code == 0
    assert "metadata.accuracy" in ran.stdout
    assert "artifacts.data:numbers" in ran.stdout
    for hidden in ("metadata.owner", "metadata.eval.f1", "artifacts.data:labels", "details.tags"):
        assert hidden not in ran.stdout
    data = cli(
        "model", "version", "compare", "sums", "1", "2", "--only-differences", "-o", "json"
    ).json()
    assert data["rows"] and all(row["differs"] for row in data["rows"])
    assert "metadata.owner" not in rows_of(data)


def test_json_shape(cli: Cli, two_versions: Client) -> None:
    data = cli("model", "version", "compare", "sums", "2", "1", "-o", "json").json()
    assert set(data) == {"model", "versions", "rows"}
    assert data["model"] == "sums"
    first = data["versions"][0]
    assert set(first) == {"number", "name", "stage", "id", "training_run"}
    assert first["number"] == 2  # in the order given
    assert first["id"] == two_versions.get_model_version("sums", 2).id
    assert set(first["training_run"]) == {"id", "name"}
    for row in data["rows"]:
        assert set(row) == {"section", "field", "values", "differs"}
        assert len(row["values"]) == 2
    sections = [row["section"] for row in data["rows"]]
    order = ["details", "metadata", "parameters", "artifacts"]
    assert sections == sorted(sections, key=order.index)
    rows = rows_of(data)
    assert rows["metadata.accuracy"] == {
        "section": "metadata",
        "field": "accuracy",
        "values": [0.95, 0.9],
        "differs": True,
    }
    assert rows["metadata.owner"]["differs"] is False
    labels = rows["artifacts.data:labels"]
    assert labels["differs"] is False
    assert [[(a["name"], a["version"], a["kind"]) for a in v] for v in labels["values"]] == [
        [("labels", 2, "data")],
        [("labels", 1, "data")],
    ]
    hashes = {a["content_hash"] for v in labels["values"] for a in v}
    assert len(hashes) == 1
    assert rows["artifacts.data:numbers"]["differs"] is True


def test_missing_keys_are_null_and_differ(cli: Cli, iris: Client) -> None:
    iris.add_metadata("model_version", iris.get_model_version("iris", 2).id, {"loss": 1})
    iris.add_metadata("model_version", iris.get_model_version("iris", 3).id, {"loss": 1.0})
    iris.add_metadata("model_version", iris.get_model_version("iris", 3).id, {"extra": "x"})
    data = cli("model", "version", "compare", "iris", "2", "3", "-o", "json").json()
    rows = rows_of(data)
    assert rows["metadata.loss"]["differs"] is False  # 1 and 1.0 are the same JSON number
    assert rows["metadata.extra"] == {
        "section": "metadata",
        "field": "extra",
        "values": [None, "x"],
        "differs": True,
    }
    assert [v["training_run"] for v in data["versions"]] == [None, None]
    assert not any(row["section"] in ("parameters", "artifacts") for row in data["rows"])


def test_training_run_is_the_oldest_that_used_the_version(cli: Cli, trained: Client) -> None:
    store = trained.store
    pipeline_id = store.get_pipeline("train").id
    v2, v3, v4 = (trained.get_model_version("iris", n) for n in (2, 3, 4))
    # A later run that also used version 2 (a prediction run) is not its training run.
    later = store.create_run(
        pipeline_id=pipeline_id, name="predict-1", parameters={"n": 99}, model_version_id=v2.id
    )
    store.create_step_run(run_id=later.id, name="score", step_name="score", parameters={"k": 1})
    # Version 3 is linked to the older train-1 (which used version 2) and to its own run.
    store.create_run(
        pipeline_id=pipeline_id, name="train-3", parameters={"n": 5}, model_version_id=v3.id
    )
    store.link_run(v3.id, store.get_run("train-1").id)
    # Version 4 is linked only to a run that used another version: that one is the fallback.
    store.link_run(v4.id, later.id)
    data = cli("model", "version", "compare", "iris", "2", "3", "4", "-o", "json").json()
    assert [v["training_run"]["name"] for v in data["versions"]] == [
        "train-1",
        "train-3",
        "predict-1",
    ]
    rows = rows_of(data)
    assert rows["parameters.pipeline.n"]["values"] == [3, 5, 99]
    assert rows["parameters.score.k"]["values"] == [None, None, 1]
    assert rows["artifacts.data:dataset"]["values"][1:] == [None, None]
    assert rows["artifacts.data:dataset"]["differs"] is True


def test_fewer_than_two_versions_is_refused_by_the_store(cli: Cli, two_versions: Client) -> None:
    for args in (("sums", "1"), ("sums",)):
        ran = cli("model", "version", "compare", *args)
        assert ran.exit_code == 1
        assert "two or more versions of model 'sums'" in ran.stderr
        assert "Traceback" not in ran.stderr
        assert ran.stdout == ""


def test_a_version_named_twice_is_refused(cli: Cli, two_versions: Client) -> None:
    ran = cli("model", "version", "compare", "sums", "1", "2", "1")
    assert ran.exit_code == 1
    assert "version 1 more than once" in ran.stderr
    assert ran.stdout == ""


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("sums", "1", "9"), ["'sums'", "version 9"]),
        (("sums", "1", "staging"), ["'sums'", "staging"]),
        (("nope", "1", "2"), ["'nope'"]),
    ],
    ids=["unknown-number", "empty-stage", "unknown-model"],
)
def test_unknown_versions_fail_cleanly(
    cli: Cli, two_versions: Client, args: tuple[str, ...], named: list[str]
) -> None:
    ran = cli("model", "version", "compare", *args)
    assert ran.exit_code == 1
    assert ran.stderr.startswith("Error: ")
    for text in named:
        assert text in ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.stdout == ""


def test_artifacts_are_rows_by_link_kind_and_name(cli: Cli, trained: Client) -> None:
    """One rule, the store's: a link name under two kinds is two rows (KIND:NAME), so a link that
    changed kind shows as a difference."""
    weights = trained.list_artifact_links("iris", 2, name="weights").items[0].artifact_version
    trained.link_artifact(
        trained.get_model_version("iris", 3).id, weights.id, name="weights", kind="data"
    )
    data = cli("model", "version", "compare", "iris", "2", "3", "-o", "json").json()
    rows = rows_of(data)
    assert [key for key in rows if key.startswith("artifacts.")] == [
        "artifacts.data:dataset",
        "artifacts.data:weights",
        "artifacts.model:weights",
    ]
    assert rows["artifacts.model:weights"]["values"][1] is None
    assert rows["artifacts.data:weights"]["values"][0] is None
    assert rows["artifacts.model:weights"]["values"][0][0]["kind"] == "model"
    table = cli("model", "version", "compare", "iris", "2", "3").stdout
    assert line_of(table, "artifacts.model:weights").split() == [
        "≠",
        "artifacts.model:weights",
        "weights:1",
        "-",
    ]


def test_created_by_is_compared(cli: Cli, two_versions: Client) -> None:
    rows = rows_of(cli("model", "version", "compare", "sums", "1", "2", "-o", "json").json())
    creators = [two_versions.get_model_version("sums", n).created_by for n in (1, 2)]
    assert creators[0]
    assert rows["details.created_by"] == {
        "section": "details",
        "field": "created_by",
        "values": creators,
        "differs": False,
    }
