"""Contract: artifact versions (numbers per name, lookups, listings, deletes), metadata merges."""

from __future__ import annotations

import uuid

import pytest

from modelplane.enums import ArtifactType, ExecutionStatus
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot


def test_create_artifact_version_numbers_per_name(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    first = make_artifact(
        "dataset", type=ArtifactType.MODEL, metadata={"rows": 150}, tags=["raw"], size=2**40
    )
    second = make_artifact("dataset")
    other = make_artifact("labels")

    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.artifact_id == second.artifact_id != other.artifact_id
    assert (first.name, first.type, first.metadata, first.tags, first.size) == (
        "dataset",
        ArtifactType.MODEL,
        {"rows": 150},
        ["raw"],
        2**40,
    )
    assert store.get_artifact_version(first.id) == first


def test_artifact_version_numbers_are_never_reused(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    make_artifact()
    second = make_artifact()
    store.delete_artifact_version(second.id)

    assert make_artifact().version == 3


@pytest.mark.parametrize(
    "overrides",
    [
        {"id": "not-an-id"},
        {"name": ""},
        {"type": "spreadsheet"},
        {"size": -1},
        {"metadata": {"x": float("nan")}},
        {"tags": "raw"},
        {"size": 2**70},
        {"content_hash": "x" * 129},
    ],
    ids=[
        "bad-id",
        "empty-name",
        "unknown-type",
        "negative-size",
        "nan-metadata",
        "string-tags",
        "huge-size",
        "long-hash",
    ],
)
def test_create_artifact_version_rejects_bad_input(
    store: MetadataStore, make_artifact: ArtifactFactory, overrides: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError):
        make_artifact(**overrides)
    assert store.list_artifact_versions().total == 0


def test_create_artifact_version_refuses_a_used_id_or_unknown_producer(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    existing = make_artifact()
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError):
        make_artifact(id=existing.id)
    with pytest.raises(NotFoundError):
        make_artifact("other", producer_step_run_id="f" * 32)
    assert snapshot(store) == before
    assert make_artifact().version == 2


def test_find_artifact_version_by_number_or_newest(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    first = make_artifact()
    second = make_artifact()

    assert store.find_artifact_version("dataset", 1) == first
    assert store.find_artifact_version("dataset") == second


def test_find_artifact_version_errors_name_what_exists(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    make_artifact()
    make_artifact()

    with pytest.raises(NotFoundError, match=r"'dataset' has no version 5. Versions: 1, 2"):
        store.find_artifact_version("dataset", 5)
    with pytest.raises(NotFoundError, match=r"'datset' does not exist.*'dataset'"):
        store.find_artifact_version("datset")
    with pytest.raises(InvalidInputError):
        store.find_artifact_version("dataset", 0)


def test_list_artifacts_with_version_counts(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    make_artifact("dataset")
    make_artifact("dataset")
    make_artifact("model")

    page = store.list_artifacts()

    assert [(a.name, a.version_count, a.latest_version) for a in page.items] == [
        ("model", 1, 1),
        ("dataset", 2, 2),
    ]
    assert [a.name for a in store.list_artifacts(name="DATA").items] == ["dataset"]
    assert store.list_artifacts(limit=1).total == 2


def test_list_artifact_versions_newest_first(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    a1 = make_artifact("a")
    b1 = make_artifact("b")
    a2 = make_artifact("a")

    assert [v.id for v in store.list_artifact_versions().items] == [a2.id, b1.id, a1.id]
    assert [v.id for v in store.list_artifact_versions(name="a").items] == [a2.id, a1.id]
    assert [v.id for v in store.list_artifact_versions(limit=1, offset=1).items] == [b1.id]
    with pytest.raises(NotFoundError):
        store.list_artifact_versions(name="ghost")
    with pytest.raises(InvalidInputError):
        store.list_artifact_versions(offset=-5)


def test_delete_artifact_version_returns_it_and_removes_its_links(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    artifact = make_artifact()
    store.create_model("iris")
    version = store.create_model_version("iris")
    store.link_artifact(version.id, artifact.id, name="data", kind=ArtifactType.DATA)

    deleted = store.delete_artifact_version(artifact.id)

    assert deleted == artifact
    with pytest.raises(NotFoundError):
        store.get_artifact_version(artifact.id)
    assert store.list_artifact_links(version.model_id, version.id).total == 0
    with pytest.raises(NotFoundError):
        store.delete_artifact_version(artifact.id)


@pytest.mark.parametrize("target", ["model_version", "artifact_version", "step_run", "run"])
def test_add_metadata_merges_key_by_key(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory, target: str
) -> None:
    store.create_model("iris")
    step = store.create_step_run(run_id=run.id, name="s", step_name="s")
    ids = {
        "model_version": store.create_model_version("iris", metadata={"keep": 1, "score": 0.5}).id,
        "artifact_version": make_artifact(metadata={"keep": 1, "score": 0.5}).id,
        "step_run": step.id,
        "run": run.id,
    }
    read = {
        "model_version": lambda i: store.get_model_version_by_id(i).metadata,
        "artifact_version": lambda i: store.get_artifact_version(i).metadata,
        "step_run": lambda i: store.get_step_run(i).metadata,
        "run": lambda i: store.get_run(i).extra,
    }[target]
    start = read(ids[target])

    store.add_metadata(target, ids[target], {"score": 0.9, "nested": {"a": [1, 2]}})  # type: ignore[arg-type]

    assert read(ids[target]) == {**start, "score": 0.9, "nested": {"a": [1, 2]}}


def test_add_metadata_rejects_bad_targets_and_values(store: MetadataStore, run: RunRecord) -> None:
    with pytest.raises(InvalidInputError):
        store.add_metadata("pipeline", run.pipeline_id, {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.add_metadata("run", "f" * 32, {"a": 1})
    with pytest.raises(InvalidInputError):
        store.add_metadata("run", run.id, {"a": float("nan")})
    assert store.get_run(run.id).extra == {}


def test_step_run_inputs_survive_as_missing_when_the_artifact_is_deleted(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    data = make_artifact()
    step = store.create_step_run(run_id=run.id, name="s", step_name="s", inputs={"data": data.id})
    store.finish_step_run(step.id, status=ExecutionStatus.COMPLETED)

    store.delete_artifact_version(data.id)

    assert store.get_step_run(step.id).inputs == {}


def test_artifact_ids_are_caller_chosen(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    chosen = uuid.uuid4().hex

    assert make_artifact(id=chosen).id == chosen


def test_move_artifact_version_points_the_record_at_the_new_place_once(
    store: MetadataStore, make_artifact: ArtifactFactory
) -> None:
    version = make_artifact("dataset")
    new_uri = f"s3://bucket/artifacts/{version.id}"

    moved = store.move_artifact_version(version.id, new_uri, from_uri=version.uri)

    assert moved.uri == new_uri
    assert moved.model_copy(update={"uri": version.uri}) == version  # nothing else changed
    assert store.get_artifact_version(version.id).uri == new_uri
    before = snapshot(store)
    # a second mover that read the old place is refused, and changes nothing
    with pytest.raises(InvalidInputError, match="Another migration"):
        store.move_artifact_version(version.id, "/elsewhere/" + version.id, from_uri=version.uri)
    with pytest.raises(NotFoundError):
        store.move_artifact_version("f" * 32, new_uri, from_uri=new_uri)
    with pytest.raises(InvalidInputError):
        store.move_artifact_version(version.id, "  ", from_uri=new_uri)
    assert snapshot(store) == before


def test_lineage_names_the_producer_the_readers_the_cache_hits_and_the_linked_versions(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    load = store.create_step_run(run_id=run.id, name="load", step_name="load")
    data = make_artifact("dataset", producer_step_run_id=load.id)
    store.finish_step_run(load.id, status=ExecutionStatus.COMPLETED, outputs={"output": data.id})
    train = store.create_step_run(run_id=run.id, name="train", step_name="train", inputs={"rows": data.id})
    again = store.create_run(pipeline_id=run.pipeline_id)
    store.create_step_run(
        run_id=again.id, name="load", step_name="load", status=ExecutionStatus.CACHED,
        outputs={"output": data.id}, cached_from=load.id,
    )  # fmt: skip
    store.create_model("m")
    version = store.create_model_version("m")
    store.link_artifact(version.id, data.id, name="training_data", kind=ArtifactType.DATA)

    lineage = store.get_artifact_lineage(data.id)

    assert lineage.artifact_version == store.get_artifact_version(data.id)
    assert [(u.direction, u.name, u.step_name, u.run_id, u.step_status) for u in lineage.uses] == [
        ("output", "output", "load", run.id, ExecutionStatus.COMPLETED),
        ("input", "rows", "train", run.id, ExecutionStatus.RUNNING),
        ("output", "output", "load", again.id, ExecutionStatus.CACHED),
    ]
    assert lineage.uses[1].step_run_id == train.id and lineage.uses[0].pipeline_name == "training"
    assert [(m.model_name, m.version_number, m.name, m.kind) for m in lineage.model_versions] == [
        ("m", 1, "training_data", ArtifactType.DATA)
    ]
    with pytest.raises(NotFoundError):
        store.get_artifact_lineage("f" * 32)
