"""Runs with a model: version resolution at start, links by kind, overwrite, caching, failures."""

from __future__ import annotations

import pytest

from modelplane import Model
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.client import Client
from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError, StepFailedError

from .resources import SEEN, consume_pipeline, train_pipeline


def test_new_version_per_run_with_links_by_kind(client: Client) -> None:
    train_pipeline(Model(name="m"))()
    train_pipeline(Model(name="m"))(n=4)
    assert [v.number for v in client.list_model_versions("m").items] == [2, 1]
    assert SEEN["model"] == ("m", 2)
    links = {(link.name, link.kind) for link in client.list_artifact_links("m", 2).items}
    assert links == {
        ("dataset", ArtifactType.DATA),
        ("weights", ArtifactType.MODEL),
        ("service", ArtifactType.DEPLOYMENT),
        ("score", ArtifactType.DATA),
    }
    version = client.get_model_version("m", 2)
    assert version.metadata == {"accuracy": 0.54, "n": 4}
    assert [r.pipeline_name for r in client.list_model_version_runs("m", 2).items] == ["train"]


def test_named_version_is_get_or_create_and_overwrite_rules(client: Client) -> None:
    train_pipeline(Model(name="m", version="candidate"))()
    train_pipeline(Model(name="m", version="candidate"))(n=5)
    versions = client.list_model_versions("m").items
    assert [(v.number, v.name) for v in versions] == [(1, "candidate")]
    links = client.list_artifact_links("m", "candidate").items
    weights = [link for link in links if link.name == "weights"]
    datasets = [link for link in links if link.name == "dataset"]
    assert len(weights) == 1 and client.load_artifact_version(weights[0].artifact_version) == {"w": 5}
    assert len(datasets) == 2  # overwrite=False keeps every linked version
    assert len(client.list_model_version_runs("m", "candidate").items) == 2


def test_number_or_stage_never_creates(client: Client) -> None:
    with pytest.raises(NotFoundError, match="m"):
        train_pipeline(Model(name="m", version=1))()
    with pytest.raises(NotFoundError):
        client.get_model("m")
    train_pipeline(Model(name="m"))()
    with pytest.raises(NotFoundError, match="production"):
        train_pipeline(Model(name="m", version=ModelStages.PRODUCTION))()
    assert client.list_model_versions("m").total == 1
    assert client.list_runs(pipeline="train").total == 1


def test_run_resolves_stage_once_at_start(client: Client) -> None:
    train_pipeline(Model(name="m"))()
    train_pipeline(Model(name="m"))()
    client.set_stage("m", 1, "production")
    run = train_pipeline(Model(name="m", version="production"))()
    assert run.model_version_id == client.get_model_version("m", 1).id
    assert SEEN["model"] == ("m", 1)


def test_cached_steps_link_to_the_new_version_with_kinds(client: Client) -> None:
    train_pipeline(Model(name="m"), enable_cache=True)()
    run = train_pipeline(Model(name="m"), enable_cache=True)()
    statuses = {s.name: s.status for s in client.list_step_runs(run.id)}
    assert set(statuses.values()) == {ExecutionStatus.CACHED}
    first = {(link.name, link.kind, link.artifact_version.id) for link in client.list_artifact_links("m", 1).items}
    second = {(link.name, link.kind, link.artifact_version.id) for link in client.list_artifact_links("m", 2).items}
    assert first == second and len(second) == 4


@pytest.mark.parametrize("delete", [True, False])
def test_failed_run_and_delete_new_version_on_failure(client: Client, delete: bool) -> None:
    with pytest.raises(StepFailedError, match="evaluation exploded"):
        train_pipeline(Model(name="m", delete_new_version_on_failure=delete), fail=True)()
    run = client.list_runs(pipeline="train").items[0]
    assert run.status is ExecutionStatus.FAILED
    if delete:
        assert client.list_model_versions("m").total == 0
    else:
        assert [r.id for r in client.list_model_version_runs("m", 1).items] == [run.id]


def test_create_new_model_version_with_a_taken_name(client: Client) -> None:
    train_pipeline(Model(name="m", version="v-a"))()
    with pytest.raises(AlreadyExistsError, match="v-a"):
        train_pipeline(Model(name="m", version="v-a", create_new_model_version=True))()
    assert client.list_model_versions("m").total == 1
    with pytest.raises(InvalidInputError):
        Model(name="m", version=3, create_new_model_version=True)


def test_external_artifacts_by_value_id_name_and_model_link(client: Client) -> None:
    train_pipeline(Model(name="m"))(n=6)
    weights = client.get_artifact_version("weights")
    model = Model(name="m", version="latest")
    for external in (
        ExternalArtifact(value={"w": 6}),
        ExternalArtifact(id=weights.id),
        ExternalArtifact(name="weights", version=1),
        ExternalArtifact(model_artifact_name="weights"),
        ExternalArtifact(model_artifact_name="weights", model_name="m", model_version=1),
    ):
        run = consume_pipeline(model, external)()
        step = client.list_step_runs(run.id)[0]
        assert client.load_artifact(step.outputs["score"]) == 6
        if external.has_value:
            assert client.get_artifact_version(step.inputs["weights"]).name == "consume.consume.weights"
        else:
            assert step.inputs["weights"] == weights.id  # lineage records the exact input


def test_external_artifact_that_matches_nothing(client: Client) -> None:
    train_pipeline(Model(name="m"))()
    with pytest.raises(NotFoundError, match="nope"):
        consume_pipeline(Model(name="m", version=1), ExternalArtifact(model_artifact_name="nope"))()
    with pytest.raises(NotFoundError):
        consume_pipeline(Model(name="m", version=1), ExternalArtifact(name="missing"))()
    assert client.list_runs(pipeline="consume").total == 0
    with pytest.raises(InvalidInputError):
        ExternalArtifact()


def test_handle_outside_a_run(client: Client) -> None:
    train_pipeline(Model(name="m"))(n=7)
    handle = Model(name="m", version=1)
    assert handle.number == 1 and handle.stage is ModelStages.NONE
    assert handle.load_artifact("weights") == {"w": 7}
    assert handle.get_model_artifact("weights").name == "weights"
    assert handle.get_deployment_artifact("service") is not None
    assert handle.get_data_artifact("weights") is None
    assert {link.name for link in handle.data_artifacts} == {"dataset", "score"}
    handle.log_metadata({"reviewed": True})
    assert handle.run_metadata["reviewed"] is True
    assert len(handle.runs) == 1
    handle.set_stage("staging")
    assert Model(name="m", version="staging").number == 1
    with pytest.raises(InvalidInputError, match="latest"):
        handle.set_stage("latest")
    with pytest.raises(NotFoundError, match="nope"):
        handle.load_artifact("nope")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 256, "bad\x00name", "tab\tname"])
def test_invalid_model_names_are_refused(client: Client, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        Model(name=bad)
    with pytest.raises(InvalidInputError):
        client.create_model(bad)
    assert client.list_models().total == 0
