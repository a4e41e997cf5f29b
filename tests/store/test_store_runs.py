"""Contract: pipelines and pipeline runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelplane.enums import ExecutionStatus
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot


def test_save_pipeline_creates_then_replaces_the_spec(store: MetadataStore) -> None:
    created = store.save_pipeline("training", {"steps": ["a"]})
    replaced = store.save_pipeline("training", {"steps": ["a", "b"]})

    assert replaced.id == created.id
    assert replaced.spec == {"steps": ["a", "b"]}
    assert replaced.created == created.created
    assert replaced.updated >= created.updated
    assert store.get_pipeline("training") == replaced
    assert store.get_pipeline(created.id) == replaced


def test_save_pipeline_rejects_bad_names_and_specs(store: MetadataStore) -> None:
    with pytest.raises(InvalidInputError):
        store.save_pipeline("", {})
    with pytest.raises(InvalidInputError):
        store.save_pipeline("p", {"x": float("inf")})
    assert store.list_pipelines().total == 0


def test_list_pipelines_newest_first_and_by_substring(store: MetadataStore) -> None:
    for name in ("train", "predict", "Train_big"):
        store.save_pipeline(name, {})

    assert [p.name for p in store.list_pipelines().items] == ["Train_big", "predict", "train"]
    assert [p.name for p in store.list_pipelines(name="train").items] == ["Train_big", "train"]
    with pytest.raises(InvalidInputError):
        store.list_pipelines(limit=0)


def test_unknown_pipeline_is_not_found(store: MetadataStore) -> None:
    store.save_pipeline("train", {})
    with pytest.raises(NotFoundError, match=r"'trian' does not exist.*'train'"):
        store.get_pipeline("trian")
    with pytest.raises(NotFoundError):
        store.delete_pipeline("trian")


def test_create_run_starts_running_with_its_settings(store: MetadataStore) -> None:
    pipeline = store.save_pipeline("training", {})

    run = store.create_run(
        pipeline_id=pipeline.id,
        name="nightly-1",
        parameters={"gamma": 0.1},
        config={"enable_cache": False},
        extra={"git": "abc"},
        orchestrator="ray",
    )

    assert run.status is ExecutionStatus.RUNNING
    assert (run.name, run.pipeline_id, run.pipeline_name, run.orchestrator) == (
        "nightly-1",
        pipeline.id,
        "training",
        "ray",
    )
    assert (run.parameters, run.config, run.extra) == (
        {"gamma": 0.1},
        {"enable_cache": False},
        {"git": "abc"},
    )
    assert run.ended is None and run.model_version_id is None
    assert store.get_run(run.id) == run
    assert store.get_run("nightly-1") == run


def test_create_run_makes_a_unique_name_when_none_is_given(store: MetadataStore) -> None:
    pipeline = store.save_pipeline("training", {})

    names = {store.create_run(pipeline_id=pipeline.id).name for _ in range(3)}

    assert len(names) == 3
    assert all(name.startswith("training-") for name in names)


def test_create_run_links_its_model_version(store: MetadataStore) -> None:
    pipeline = store.save_pipeline("training", {})
    store.create_model("iris")
    version = store.create_model_version("iris")

    run = store.create_run(pipeline_id=pipeline.id, model_version_id=version.id)

    assert run.model_version_id == version.id
    assert [r.id for r in store.list_model_version_runs(version.model_id, version.id).items] == [run.id]


def test_create_run_refuses_bad_references_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    before = snapshot(store)
    with pytest.raises(NotFoundError):
        store.create_run(pipeline_id="f" * 32)
    with pytest.raises(NotFoundError):
        store.create_run(pipeline_id=run.pipeline_id, model_version_id="f" * 32)
    with pytest.raises(AlreadyExistsError, match=run.name):
        store.create_run(pipeline_id=run.pipeline_id, name=run.name)
    with pytest.raises(InvalidInputError):
        store.create_run(pipeline_id=run.pipeline_id, parameters={1: "x"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError):
        store.create_run(pipeline_id=run.pipeline_id, orchestrator="o" * 65)
    assert snapshot(store) == before


def test_finish_run_records_status_end_and_error(store: MetadataStore, run: RunRecord) -> None:
    finished = store.finish_run(run.id, ExecutionStatus.FAILED, error="Traceback: boom")

    assert finished.status is ExecutionStatus.FAILED
    assert finished.error == "Traceback: boom"
    assert finished.ended is not None and finished.ended >= run.created
    assert store.get_run(run.id) == finished


def test_finish_run_rejects_running_and_unknown_status(
    store: MetadataStore, run: RunRecord
) -> None:
    with pytest.raises(InvalidInputError):
        store.finish_run(run.id, ExecutionStatus.RUNNING)
    with pytest.raises(InvalidInputError):
        store.finish_run(run.id, "exploded")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.finish_run("f" * 32, ExecutionStatus.COMPLETED)
    assert store.get_run(run.id).status is ExecutionStatus.RUNNING


def test_list_runs_filters_by_pipeline_status_and_model(store: MetadataStore) -> None:
    train = store.save_pipeline("train", {})
    predict = store.save_pipeline("predict", {})
    store.create_model("iris")
    one = store.create_model_version("iris")
    two = store.create_model_version("iris")
    r1 = store.create_run(pipeline_id=train.id, model_version_id=one.id)
    r2 = store.create_run(pipeline_id=predict.id)
    r3 = store.create_run(pipeline_id=train.id)
    store.link_run(two.id, r2.id)
    store.finish_run(r1.id, ExecutionStatus.COMPLETED)

    def ids(**kwargs: object) -> list[str]:
        return [r.id for r in store.list_runs(**kwargs).items]  # type: ignore[arg-type]

    assert ids() == [r3.id, r2.id, r1.id]
    assert ids(pipeline="train") == [r3.id, r1.id]
    assert ids(pipeline=predict.id) == [r2.id]
    assert ids(status=ExecutionStatus.RUNNING) == [r3.id, r2.id]
    assert ids(status="completed") == [r1.id]
    assert ids(model="iris") == [r2.id, r1.id]
    assert ids(pipeline="train", model="iris") == [r1.id]
    assert ids(limit=1, offset=2) == [r1.id]
    assert store.list_runs(limit=1).total == 3


def test_list_runs_rejects_unknown_filters(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        store.list_runs(pipeline="ghost")
    with pytest.raises(NotFoundError):
        store.list_runs(model="ghost")
    with pytest.raises(InvalidInputError):
        store.list_runs(status="sleeping")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        store.list_runs(limit=5000)


def test_delete_run_removes_its_steps_but_keeps_artifacts(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    step = store.create_step_run(run_id=run.id, name="load", step_name="load")
    artifact = make_artifact(producer_step_run_id=step.id)

    store.delete_run(run.name)

    with pytest.raises(NotFoundError):
        store.get_run(run.id)
    with pytest.raises(NotFoundError):
        store.get_step_run(step.id)
    assert store.get_artifact_version(artifact.id).producer_step_run_id is None


def test_delete_pipeline_removes_its_runs(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    step = store.create_step_run(run_id=run.id, name="load", step_name="load")
    artifact = make_artifact(producer_step_run_id=step.id)

    store.delete_pipeline("training")

    with pytest.raises(NotFoundError):
        store.get_pipeline("training")
    with pytest.raises(NotFoundError):
        store.get_run(run.id)
    assert store.get_artifact_version(artifact.id).producer_step_run_id is None


def test_delete_unknown_run_fails(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        store.delete_run("nope")


def test_info_counts_what_is_stored(store: MetadataStore, run: RunRecord) -> None:
    store.create_model("iris")
    store.create_model_version("iris")

    info = store.info()

    assert info.schema_revision
    assert info.counts["models"] == 1
    assert info.counts["model_versions"] == 1
    assert info.counts["runs"] == 1
    assert info.counts["pipelines"] == 1


# -- the process driving a run, and abandoned runs --------------------------------------------


def test_a_run_records_the_host_and_pid_driving_it(store: MetadataStore) -> None:
    pipeline = store.save_pipeline("train", {})
    created = store.create_run(pipeline_id=pipeline.id, host="gpu-box-1", pid=4242)
    other = store.create_run(pipeline_id=pipeline.id, host="laptop", pid=7)
    unowned = store.create_run(pipeline_id=pipeline.id)

    assert (created.host, created.pid) == ("gpu-box-1", 4242)
    assert store.get_run(created.id) == created
    assert (unowned.host, unowned.pid) == (None, None)
    assert [r.id for r in store.list_runs(host="gpu-box-1").items] == [created.id]
    assert [r.id for r in store.list_runs(host="laptop", status="running").items] == [other.id]
    assert store.list_runs(host="nowhere").total == 0


def test_create_run_refuses_a_bad_pid_or_host_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    before = snapshot(store)
    for pid in (0, -5, "12", 1.5, True):
        with pytest.raises(InvalidInputError, match="pid"):
            store.create_run(pipeline_id=run.pipeline_id, host="h", pid=pid)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="host"):
        store.create_run(pipeline_id=run.pipeline_id, host="h" * 256, pid=1)
    assert snapshot(store) == before
    assert store.list_runs().total == 1


def test_heartbeats_move_forward_only_while_the_run_is_running(store: MetadataStore, run: RunRecord) -> None:
    assert run.heartbeat == run.created

    store.heartbeat_run(run.id)
    beaten = store.get_run(run.id).heartbeat
    finished = store.finish_run(run.id, ExecutionStatus.COMPLETED)
    store.heartbeat_run(run.name)  # by name too; a finished run keeps its last beat

    assert beaten is not None and beaten >= run.created
    assert store.get_run(run.id).heartbeat == beaten == finished.heartbeat
    with pytest.raises(NotFoundError):
        store.heartbeat_run("f" * 32)
