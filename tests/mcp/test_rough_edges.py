"""Issue 10's rough edges of the model control plane: a stored artifact version passed to a step,
numpy metadata, deep metadata merges from a step, Model(tags=…) on the model, and steps that
return nothing."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pytest

from modelplane import Model, get_step_context, log_metadata, pipeline, step
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.client import Client
from modelplane.errors import InvalidInputError, PipelineDefinitionError
from modelplane.model import ArtifactConfig

SEEN: dict[str, object] = {}


@step
def train() -> Annotated[dict, "clf", ArtifactConfig(is_model_artifact=True)]:
    return {"w": 7}


@step
def predict(clf: dict) -> Annotated[int, "prediction"]:
    SEEN["clf"] = clf
    return clf["w"] * 2


@pipeline(model=Model(name="iris", tags=["team-a"]), enable_cache=False)
def training():
    train()


def test_a_stored_artifact_version_is_a_step_input_and_an_external_artifact(client: Client) -> None:
    training()
    record = Model(name="iris", version=1).get_model_artifact("clf")
    assert record is not None

    @pipeline(model=Model(name="iris", version=1), enable_cache=False)
    def direct():
        predict(clf=record)  # today's ZenML idiom

    @pipeline(model=Model(name="iris", version=1), enable_cache=False)
    def wrapped():
        predict(clf=ExternalArtifact(record))

    for pipe in (direct, wrapped):
        SEEN.clear()
        run = pipe()
        assert SEEN["clf"] == {"w": 7}
        assert client.list_step_runs(run.id)[0].inputs == {"clf": record.id}


def test_an_input_that_is_neither_is_refused_with_the_right_article() -> None:
    @pipeline(enable_cache=False)
    def bad():
        predict(clf=object())

    with pytest.raises(PipelineDefinitionError, match="is an object, which is neither"):
        bad()


@step
def measured() -> Annotated[int, "measured"]:
    log_metadata(
        {"n": np.int64(3), "auc": np.float32(0.5), "ok": np.bool_(True), "curve": np.arange(3)},
        infer_model=True,
    )
    get_step_context().model.log_metadata({"eval": {"f1": np.float64(0.25)}})
    get_step_context().model.log_metadata({"eval": {"auc": 0.75}})
    return 1


@pipeline(model=Model(name="numbers"), enable_cache=False)
def measuring():
    measured()


def test_numpy_metadata_is_logged_as_numbers_and_nested_dicts_merge(client: Client) -> None:
    measuring()
    metadata = client.get_model_version("numbers", 1).metadata
    assert metadata == {
        "n": 3, "auc": 0.5, "ok": True, "curve": [0, 1, 2], "eval": {"f1": 0.25, "auc": 0.75}
    }
    assert type(metadata["n"]) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"big": {"curve": np.zeros(20_000)}}, r"'big\.curve' is a numpy\.ndarray of shape \(20000,\)"),
        ({"when": {1, 2}}, r"'when' is a builtins\.set, which is not JSON"),
        ({"x": np.datetime64("2024-01-01")}, r"'x' is a numpy\.datetime64"),
        ({"inf": float("inf")}, r"'inf' is inf"),
    ],
)
def test_metadata_that_is_not_json_is_refused_naming_key_and_type(
    client: Client, value: dict, message: str
) -> None:
    training()
    with pytest.raises(InvalidInputError, match=message):
        log_metadata(value, model_name="iris", model_version=1)


def test_model_tags_tag_the_model_too(client: Client) -> None:
    training()
    assert [m.name for m in client.list_models(tag="team-a").items] == ["iris"]
    assert client.get_model_version("iris", 1).tags == ["team-a"]


@step
def score() -> Annotated[float, "score"]:
    return 0.95


@step
def promote_model(score: float):
    if score > 0.9:
        get_step_context().model.set_stage("production", force=True)


@pipeline(model=Model(name="seed"), enable_cache=False)
def train_and_promote():
    promote_model(score=score())


def test_a_step_without_annotation_that_returns_nothing_stores_nothing(client: Client) -> None:
    run = train_and_promote()
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    assert steps["promote_model"].outputs == {}
    assert [link.name for link in Model(name="seed", version=1).artifacts] == ["score"]
    assert client.get_model_version("seed", 1).stage.value == "production"
    assert "NoneType" not in {a.data_type.split(".")[-1] for a in client.list_artifact_versions().items}
