"""The reference page's CLI walk-through, run as a user would: scripts and ``modelplane``
commands in subprocesses over one store in a temporary ``MODELPLANE_HOME``, checked with -o json.

train, list, predict twice, list again, update, register, delete (docs/cli.md shows the commands).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent / "walkthrough"
MODELPLANE = str(Path(sys.executable).with_name("modelplane"))
MODEL = "iris_classifier"


class Session:
    """Runs the walk-through's steps in order and keeps every step's result by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
        self.env.update(
            MODELPLANE_HOME=str(folder / "home"), MODELPLANE_CONFIG=str(folder / "config.json")
        )
        self.results: dict[str, subprocess.CompletedProcess[str]] = {}

    def python(self, key: str, script: str) -> None:
        self._run(key, [sys.executable, str(HERE / script)])

    def cli(self, key: str, *args: str, input: str | None = None) -> None:
        self._run(key, [MODELPLANE, *args], input=input)

    def _run(self, key: str, argv: list[str], input: str | None = None) -> None:
        done = subprocess.run(
            argv,
            cwd=self.folder,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{key}: {' '.join(argv)}\n{done.stdout}\n{done.stderr}"
        self.results[key] = done

    def json(self, key: str) -> Any:
        import json

        return json.loads(self.results[key].stdout)


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Session:
    s = Session(tmp_path_factory.mktemp("walkthrough"))
    s.python("train", "train.py")
    s.cli("models after training", "model", "list", "-o", "json")
    s.cli("versions after training", "model", "version", "list", MODEL, "-o", "json")
    s.cli("artifacts after training", "model", "version", "artifacts", MODEL, "1", "-o", "json")
    s.cli("model objects", "model", "version", "model_objects", MODEL, "1", "-o", "json")
    s.cli("deployments", "model", "version", "deployments", MODEL, "1", "-o", "json")
    s.cli("runs after training", "model", "version", "runs", MODEL, "1", "-o", "json")
    s.python("predict 1", "predict.py")
    s.cli("versions after predicting", "model", "version", "list", MODEL, "-o", "json")
    s.cli("artifacts after predicting", "model", "version", "artifacts", MODEL, "1", "-o", "json")
    s.python("predict 2", "predict.py")
    s.cli(
        "artifacts after predicting twice",
        "model",
        "version",
        "artifacts",
        MODEL,
        "1",
        "-o",
        "json",
    )
    s.cli("runs after predicting twice", "model", "version", "runs", MODEL, "1", "-o", "json")
    s.cli(
        "update",
        "model",
        "update",
        MODEL,
        "-t",
        "tag1",
        "-t",
        "tag2",
        "-e",
        "some ethical implications",
    )
    s.cli("described", "model", "describe", MODEL, "-o", "json")
    s.cli(
        "register",
        "model",
        "register",
        "-n",
        "iris_classifier_cli",
        "-d",
        "created from cli",
        "-t",
        "cli",
    )
    s.cli("models after register", "model", "list", "-o", "json")
    s.cli("delete cli model", "model", "delete", "iris_classifier_cli", input="y\n")
    s.cli("delete model", "model", "delete", MODEL, "-y")
    s.cli("models after cleanup", "model", "list", "-o", "json")
    return s


def link_names(items: list[dict[str, Any]]) -> Counter[str]:
    return Counter(item["name"] for item in items)


def test_training_creates_the_model_and_version_1_in_production(walk: Session) -> None:
    (model,) = walk.json("models after training")["items"]
    assert (model["name"], model["license"], model["version_count"]) == (MODEL, "Apache", 1)
    (version,) = walk.json("versions after training")["items"]
    assert (version["number"], version["stage"]) == (1, "production")


def test_training_links_two_datasets_one_model_object_no_deployment_and_its_run(
    walk: Session,
) -> None:
    artifacts = walk.json("artifacts after training")
    assert link_names(artifacts["items"]) == Counter({"train_dataset": 1, "test_dataset": 1})
    assert {item["kind"] for item in artifacts["items"]} == {"data"}
    objects = walk.json("model objects")["items"]
    assert [(o["name"], o["kind"]) for o in objects] == [("iris_classifier", "model")]
    empty = {"items": [], "total": 0, "limit": 1000, "offset": 0}
    assert walk.json("deployments") == {"deployments": empty, "deployment_artifacts": empty}
    (run,) = walk.json("runs after training")["items"]
    assert (run["pipeline_name"], run["status"]) == ("train_and_promote_model", "completed")


def test_predicting_uses_version_1_without_making_a_new_one(walk: Session) -> None:
    versions = walk.json("versions after predicting")
    assert [v["number"] for v in versions["items"]] == [1]
    assert link_names(walk.json("artifacts after predicting")["items"]) == Counter(
        {"train_dataset": 1, "test_dataset": 1, "inference_dataset": 1, "iris_predictions": 1}
    )


def test_predicting_twice_adds_a_second_version_of_each_new_link(walk: Session) -> None:
    items = walk.json("artifacts after predicting twice")["items"]
    assert link_names(items) == Counter(
        {"train_dataset": 1, "test_dataset": 1, "inference_dataset": 2, "iris_predictions": 2}
    )
    predictions = sorted(
        i["artifact_version"]["version"] for i in items if i["name"] == "iris_predictions"
    )
    assert predictions == [1, 2]
    runs = walk.json("runs after predicting twice")["items"]
    assert Counter(r["pipeline_name"] for r in runs) == Counter(
        {"do_predictions": 2, "train_and_promote_model": 1}
    )


def test_update_adds_tags_and_ethics(walk: Session) -> None:
    model = walk.json("described")
    assert model["tags"] == ["tag1", "tag2"]
    assert model["ethics"] == "some ethical implications"
    assert model["stages"] == {"staging": None, "production": 1}


def test_register_creates_a_model_from_the_cli(walk: Session) -> None:
    models = {m["name"]: m for m in walk.json("models after register")["items"]}
    assert set(models) == {MODEL, "iris_classifier_cli"}
    assert models["iris_classifier_cli"]["description"] == "created from cli"
    assert models["iris_classifier_cli"]["tags"] == ["cli"]


def test_cleanup_deletes_both_models(walk: Session) -> None:
    assert "Delete model 'iris_classifier_cli'" in walk.results["delete cli model"].stderr
    assert walk.json("models after cleanup") == {"items": [], "total": 0, "limit": 50, "offset": 0}
