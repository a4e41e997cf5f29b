"""``run``, ``pipeline``, ``artifact`` and the link listings of ``model version``."""

from __future__ import annotations

import pytest

from modelplane.client import Client
from tests.cli.conftest import Cli


def names(data: dict, key: str = "name") -> list[str]:
    return [item[key] for item in data["items"]]


def test_run_list_and_filters(cli: Cli, trained: Client) -> None:
    assert names(cli("run", "list", "-o", "json").json()) == ["train-1"]
    assert names(cli("run", "list", "-o", "json", "--pipeline", "train").json()) == ["train-1"]
    assert names(cli("run", "list", "-o", "json", "--status", "completed").json()) == ["train-1"]
    assert names(cli("run", "list", "-o", "json", "--status", "failed").json()) == []
    assert names(cli("run", "list", "-o", "json", "--model", "iris").json()) == ["train-1"]
    trained.create_model("other")
    assert names(cli("run", "list", "-o", "json", "--model", "other").json()) == []
    table = cli("run", "list").stdout
    assert "train-1" in table
    assert "completed" in table


def test_run_describe_shows_steps_cache_hits_outputs_and_the_dag(cli: Cli, trained: Client) -> None:
    ran = cli("run", "describe", "train-1")
    assert ran.exit_code == 0
    out = ran.stdout
    assert "iris version 2" in out  # the model version the run used
    assert "weights → weights:1" in out
    assert "dataset → dataset:1" in out
    evaluate_row = next(line for line in out.splitlines() if line.startswith("evaluate"))
    assert "cached" in evaluate_row
    assert "hit" in evaluate_row
    dag = out[out.index("DAG") :].splitlines()[1:]
    assert dag[0].split() == ["1", "load", "completed"]
    assert dag[2].split()[:3] == ["2", "train", "completed"]
    assert dag[4].split()[:3] == ["3", "evaluate", "cached"]
    assert dag[4].endswith("load, train")


def test_run_describe_json(cli: Cli, trained: Client) -> None:
    data = cli("run", "describe", "train-1", "-o", "json").json()
    assert data["name"] == "train-1"
    assert data["status"] == "completed"
    assert data["parameters"] == {"n": 3}
    steps = {step["name"]: step for step in data["steps"]}
    assert list(steps) == ["load", "train", "evaluate"]
    assert steps["train"]["upstream"] == ["load"]
    assert steps["evaluate"]["status"] == "cached"
    assert steps["evaluate"]["cached_from"] == steps["train"]["id"]
    weights = steps["train"]["output_artifacts"]["weights"]
    assert (weights["name"], weights["version"]) == ("weights", 1)


def test_run_logs(cli: Cli, trained: Client) -> None:
    everything = cli("run", "logs", "train-1")
    assert everything.exit_code == 0
    assert "── load (completed) ──" in everything.stdout
    assert "loaded 3 rows" in everything.stdout
    assert "(no output)" in everything.stdout
    one = cli("run", "logs", "train-1", "--step", "load")
    assert one.stdout == "loaded 3 rows\n"
    missing = cli("run", "logs", "train-1", "--step", "predict")
    assert missing.exit_code == 1
    assert "has no step 'predict'. Its steps: load, train, evaluate." in missing.stderr


def test_run_delete_keeps_the_artifacts(cli: Cli, trained: Client) -> None:
    ran = cli("run", "delete", "train-1", "-y")
    assert ran.exit_code == 0
    assert "Deleted run 'train-1'" in ran.stdout
    assert trained.list_runs().total == 0
    assert trained.list_artifacts().total == 3


def test_pipeline_list_and_delete(cli: Cli, trained: Client) -> None:
    assert names(cli("pipeline", "list", "-o", "json").json()) == ["train"]
    ran = cli("pipeline", "delete", "train", input="y\n")
    assert ran.exit_code == 0
    assert "Delete pipeline 'train' and its 1 run?" in ran.stderr
    assert trained.list_pipelines().total == 0
    assert trained.list_runs().total == 0


def test_artifact_list_versions_and_describe(cli: Cli, trained: Client) -> None:
    listed = cli("artifact", "list", "-o", "json").json()
    assert sorted(names(listed)) == ["dataset", "score", "weights"]
    versions = cli("artifact", "version", "list", "weights", "-o", "json").json()
    assert [(v["name"], v["version"], v["type"]) for v in versions["items"]] == [
        ("weights", 1, "model")
    ]
    for spec in ("dataset", "dataset:1", versions["items"][0]["id"]):
        data = cli("artifact", "describe", spec, "-o", "json").json()
        assert data["version"] == 1
    table = cli("artifact", "describe", "dataset:1").stdout
    assert "2.0 KB" in table
    assert "memory://dataset" in table
    missing = cli("artifact", "describe", "dataset:7")
    assert missing.exit_code == 1
    assert "dataset" in missing.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("artifacts", ["dataset"]),
        ("data_artifacts", ["dataset"]),
        ("model_artifacts", ["weights"]),
        ("model_objects", ["weights"]),
        ("deployment_artifacts", []),
    ],
)
def test_link_listings_under_every_spelling(
    cli: Cli, trained: Client, command: str, expected: list[str]
) -> None:
    for version in ("2", "production"):
        ran = cli("model", "version", command, "iris", version, "-o", "json")
        assert ran.exit_code == 0
        assert names(ran.json()) == expected
    table = cli("model", "version", command, "iris", "2")
    assert table.exit_code == 0
    assert ("No " in table.stdout) if not expected else (expected[0] in table.stdout)


@pytest.mark.parametrize("command", ["deployments", "endpoint_artifacts"])
def test_deployments_list_services_then_deployment_artifacts(
    cli: Cli, trained: Client, command: str
) -> None:
    """The reference page's `deployments` and `endpoint_artifacts`: what serves the version."""
    empty = cli("model", "version", command, "iris", "2", "-o", "json").json()
    assert empty["deployments"]["items"] == [] and empty["deployment_artifacts"]["items"] == []
    from modelplane.metadata.deployment_records import DeploymentReport, NewDeployment

    service = trained.register_deployment(
        NewDeployment(model="iris", stage="production", endpoint="http://10.1.2.3:8080", host="node-7", pid=77)
    )
    trained.report_deployment(service.id, DeploymentReport(version=2))
    for version in ("2", "production"):
        listed = cli("model", "version", command, "iris", version, "-o", "json").json()
        assert [d["endpoint"] for d in listed["deployments"]["items"]] == ["http://10.1.2.3:8080"]
    table = cli("model", "version", command, "iris", "2").stdout
    assert "http://10.1.2.3:8080" in table and "follows production" in table and "node-7:77" in table
    assert cli("model", "version", command, "iris", "1").stdout.startswith("No service is serving version 1")
    trained.report_deployment(service.id, DeploymentReport(status="stopped", version=2))
    assert "No service" in cli("model", "version", command, "iris", "2").stdout
    assert "stopped" in cli("model", "version", command, "iris", "2", "--all").stdout
    missing = cli("model", "version", command, "iris", "9")
    assert missing.exit_code == 1 and "9" in missing.stderr


def test_version_runs_and_describe_counts(cli: Cli, trained: Client) -> None:
    assert names(cli("model", "version", "runs", "iris", "2", "-o", "json").json()) == ["train-1"]
    counts = cli("model", "version", "describe", "iris", "production", "-o", "json").json()[
        "counts"
    ]
    assert counts == {
        "runs": 1,
        "data_artifacts": 1,
        "model_artifacts": 1,
        "deployment_artifacts": 0,
    }
