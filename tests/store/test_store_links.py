"""Contract: model version ↔ artifact version links, and model version ↔ run links."""

from __future__ import annotations

import pytest

from modelplane.enums import ArtifactType
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import ModelVersionRecord, RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot


@pytest.fixture
def version(store: MetadataStore) -> ModelVersionRecord:
    store.create_model("iris")
    return store.create_model_version("iris")


def test_link_artifact_returns_the_link_with_its_artifact(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    model = make_artifact("svc", type=ArtifactType.MODEL)

    link = store.link_artifact(version.id, model.id, name="model", kind=ArtifactType.MODEL)

    assert (link.model_version_id, link.name, link.kind) == (
        version.id,
        "model",
        ArtifactType.MODEL,
    )
    assert link.artifact_version == model
    assert store.list_artifact_links(version.model_id, version.id).items == [link]


def test_link_without_overwrite_adds_and_with_overwrite_replaces(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    first, second, third = make_artifact(), make_artifact(), make_artifact()
    store.link_artifact(version.id, first.id, name="data", kind=ArtifactType.DATA)
    store.link_artifact(version.id, second.id, name="data", kind=ArtifactType.DATA)
    assert {link.artifact_version.id for link in store.list_artifact_links(version.model_id, version.id).items} == {
        first.id,
        second.id,
    }

    store.link_artifact(version.id, third.id, name="data", kind=ArtifactType.DATA, overwrite=True)

    assert [link.artifact_version.id for link in store.list_artifact_links(version.model_id, version.id).items] == [
        third.id
    ]


def test_linking_the_same_artifact_twice_keeps_one_link(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    data = make_artifact()

    first = store.link_artifact(version.id, data.id, name="data", kind=ArtifactType.DATA)
    again = store.link_artifact(version.id, data.id, name="data", kind=ArtifactType.DATA)

    assert again.id == first.id
    assert store.list_artifact_links(version.model_id, version.id).total == 1


def test_list_artifact_links_filters_newest_first(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    data, model, deploy = make_artifact("d"), make_artifact("m"), make_artifact("e")
    store.link_artifact(version.id, data.id, name="data", kind=ArtifactType.DATA)
    store.link_artifact(version.id, model.id, name="model", kind=ArtifactType.MODEL)
    store.link_artifact(version.id, deploy.id, name="endpoint", kind=ArtifactType.DEPLOYMENT)

    def names(**kwargs: object) -> list[str]:
        return [link.name for link in store.list_artifact_links(version.model_id, version.id, **kwargs).items]  # type: ignore[arg-type]

    assert names() == ["endpoint", "model", "data"]
    assert names(kind=ArtifactType.MODEL) == ["model"]
    assert names(kind="deployment") == ["endpoint"]
    assert names(name="data") == ["data"]
    assert names(limit=1, offset=1) == ["model"]
    with pytest.raises(InvalidInputError):
        store.list_artifact_links(version.model_id, version.id, kind="spreadsheet")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.list_artifact_links(version.model_id, "f" * 32)


def test_link_artifact_refuses_bad_input_and_changes_nothing(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    data = make_artifact()
    store.link_artifact(version.id, data.id, name="data", kind=ArtifactType.DATA)
    before = snapshot(store)

    with pytest.raises(NotFoundError):
        store.link_artifact("f" * 32, data.id, name="x", kind=ArtifactType.DATA)
    with pytest.raises(NotFoundError):
        store.link_artifact(
            version.id, "f" * 32, name="data", kind=ArtifactType.DATA, overwrite=True
        )
    with pytest.raises(InvalidInputError):
        store.link_artifact(version.id, data.id, name="", kind=ArtifactType.DATA)
    with pytest.raises(InvalidInputError):
        store.link_artifact(version.id, data.id, name="x", kind="spreadsheet")  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_link_run_is_idempotent_and_listed_newest_first(
    store: MetadataStore, version: ModelVersionRecord, run: RunRecord
) -> None:
    later = store.create_run(pipeline_id=run.pipeline_id)

    store.link_run(version.id, run.id)
    store.link_run(version.id, run.id)
    store.link_run(version.id, later.name)

    page = store.list_model_version_runs(version.model_id, version.id)
    assert [r.id for r in page.items] == [later.id, run.id]
    assert page.total == 2
    assert [r.id for r in store.list_model_version_runs(version.model_id, version.id, limit=1, offset=1).items] == [
        run.id
    ]


def test_link_run_refuses_unknown_things(
    store: MetadataStore, version: ModelVersionRecord, run: RunRecord
) -> None:
    with pytest.raises(NotFoundError):
        store.link_run("f" * 32, run.id)
    with pytest.raises(NotFoundError):
        store.link_run(version.id, "f" * 32)
    with pytest.raises(NotFoundError):
        store.list_model_version_runs(version.model_id, "f" * 32)
    assert store.list_model_version_runs(version.model_id, version.id).total == 0


def test_count_version_links_counts_runs_and_each_kind_of_artifact(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    other = store.create_model_version("iris")
    for name in ("a", "b"):
        store.link_artifact(version.id, make_artifact().id, name=name, kind=ArtifactType.DATA)
    store.link_artifact(version.id, make_artifact().id, name="m", kind=ArtifactType.MODEL)
    store.link_artifact(other.id, make_artifact().id, name="x", kind=ArtifactType.DEPLOYMENT)
    pipeline = store.save_pipeline("train", {})
    for _ in range(3):
        store.link_run(version.id, store.create_run(pipeline_id=pipeline.id).id)

    counts = store.count_version_links("iris", 1)

    assert counts == {
        "runs": 3,
        "data_artifacts": 2,
        "model_artifacts": 1,
        "deployment_artifacts": 0,
    }
    # every way of naming the version counts the same links
    assert store.count_version_links(version.model_id, version.id) == counts
    assert store.count_version_links("iris", "latest") == {
        "runs": 0,
        "data_artifacts": 0,
        "model_artifacts": 0,
        "deployment_artifacts": 1,
    }
    with pytest.raises(NotFoundError, match="version 9"):
        store.count_version_links("iris", 9)
    with pytest.raises(NotFoundError, match="nope"):
        store.count_version_links("nope", 1)


def test_version_lineage_has_the_runs_their_steps_and_artifacts(
    store: MetadataStore, version: ModelVersionRecord, make_artifact: ArtifactFactory
) -> None:
    from modelplane.enums import ExecutionStatus

    pipeline = store.save_pipeline("train", {})
    train_run = store.create_run(pipeline_id=pipeline.id, model_version_id=version.id)
    trainer = store.create_step_run(run_id=train_run.id, name="trainer", step_name="trainer")
    weights = make_artifact("weights", type=ArtifactType.MODEL, producer_step_run_id=trainer.id)
    store.finish_step_run(trainer.id, status=ExecutionStatus.COMPLETED, outputs={"output": weights.id})
    store.link_artifact(version.id, weights.id, name="model", kind=ArtifactType.MODEL)
    predict = store.save_pipeline("predict", {})
    predict_run = store.create_run(pipeline_id=predict.id)
    store.create_step_run(run_id=predict_run.id, name="predictor", step_name="predictor", inputs={"model": weights.id})
    for run in (train_run, predict_run):
        store.link_run(version.id, run.id)
    other = make_artifact("unrelated")

    lineage = store.get_version_lineage("iris", 1)

    assert lineage.model_version_id == version.id
    assert {run.id for run in lineage.runs} == {train_run.id, predict_run.id} and lineage.runs_total == 2
    assert sorted(step.name for step in lineage.steps) == ["predictor", "trainer"]
    assert [a.id for a in lineage.artifacts] == [weights.id] and other.id not in lineage.linked
    assert lineage.linked == {weights.id: ArtifactType.MODEL}
    with pytest.raises(NotFoundError):
        store.get_version_lineage("iris", 9)
