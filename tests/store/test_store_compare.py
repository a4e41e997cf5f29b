"""Contract: ``compare_model_versions``, the one comparison the CLI and the dashboard display."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import ComparedField, ModelVersionRecord, VersionComparison
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot

HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64


def fields(rows: list[ComparedField]) -> dict[str, ComparedField]:
    return {row.key: row for row in rows}


def artifact_rows(comparison: VersionComparison) -> dict[tuple[str, str], Any]:
    return {(row.kind.value, row.name): row for row in comparison.artifacts}


@pytest.fixture
def versions(store: MetadataStore) -> list[ModelVersionRecord]:
    """Model ``iris``: version 1 (production) and 2, with metadata, tags and a training run each."""
    store.create_model("iris")
    first = store.create_model_version(
        "iris",
        description="first",
        tags=["a", "b"],
        metadata={"accuracy": 0.9, "owner": "ann", "eval": {"f1": 0.8, "rows": 3}, "loss": 1},
    )
    second = store.create_model_version(
        "iris",
        tags=["b", "a"],
        metadata={"accuracy": 0.95, "owner": "ann", "eval": {"f1": 0.8, "rows": 4}, "loss": 1.0},
    )
    store.set_stage("iris", 1, ModelStages.PRODUCTION)
    pipeline = store.save_pipeline("train", {})
    for version, count in ((first, 3), (second, 4)):
        run = store.create_run(
            pipeline_id=pipeline.id,
            name=f"train-{version.number}",
            parameters={"count": count},
            model_version_id=version.id,
            linked_versions=[version.id],
        )
        store.create_step_run(
            run_id=run.id, name="fit", step_name="fit", parameters={"rate": 0.5, "count": count}
        )
        store.finish_run(run.id, ExecutionStatus.COMPLETED)
    return [store.get_model_version("iris", n) for n in (1, 2)]


def test_compares_overview_metadata_and_parameters_in_the_order_given(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    first, second = versions

    compared = store.compare_model_versions("iris", [2, "production"])

    assert compared.model == "iris"
    assert [c.version for c in compared.versions] == [second, first]
    assert [c.training_run and c.training_run.name for c in compared.versions] == [
        "train-2",
        "train-1",
    ]
    overview = fields(compared.overview)
    assert list(overview) == [
        "number", "name", "stage", "created", "created_by", "description", "tags", "training_run",
    ]
    assert (overview["number"].values, overview["number"].differs) == ([2, 1], True)
    assert overview["stage"].values == ["none", "production"]
    assert overview["description"].values == [None, "first"]
    assert overview["created"].values == [
        second.model_dump(mode="json")["created"],
        first.model_dump(mode="json")["created"],
    ]
    assert overview["created_by"].values == [second.created_by, first.created_by]
    assert overview["created_by"].differs is False
    # Tags compare as sets.
    assert (overview["tags"].values, overview["tags"].differs) == ([["b", "a"], ["a", "b"]], False)
    assert (overview["training_run"].values, overview["training_run"].differs) == (
        ["train-2", "train-1"],
        True,
    )
    metadata = fields(compared.metadata)
    assert list(metadata) == ["accuracy", "eval.f1", "eval.rows", "loss", "owner"]
    assert (metadata["accuracy"].values, metadata["accuracy"].differs) == ([0.95, 0.9], True)
    assert (metadata["eval.f1"].values, metadata["eval.f1"].differs) == ([0.8, 0.8], False)
    assert metadata["loss"].differs is False  # 1 and 1.0 are the same JSON number
    parameters = fields(compared.parameters)
    assert list(parameters) == ["fit.count", "fit.rate", "pipeline.count"]
    assert (parameters["pipeline.count"].values, parameters["pipeline.count"].differs) == (
        [4, 3],
        True,
    )
    assert (parameters["fit.rate"].values, parameters["fit.rate"].differs) == ([0.5, 0.5], False)


def test_missing_keys_are_none_and_differ(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    store.add_metadata("model_version", versions[1].id, {"extra": "x"})
    third = store.create_model_version("iris")

    compared = store.compare_model_versions("iris", [1, 2, 3])

    extra = fields(compared.metadata)["extra"]
    assert (extra.values, extra.differs) == ([None, "x", None], True)
    assert compared.versions[2].version == third
    assert compared.versions[2].training_run is None
    assert fields(compared.parameters)["pipeline.count"].values == [3, 4, None]
    assert compared.artifacts == []


def test_two_specs_of_one_version_compare_equal(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    compared = store.compare_model_versions("iris", ["production", 1])

    assert [c.version.number for c in compared.versions] == [1, 1]
    rows = [*compared.overview, *compared.metadata, *compared.parameters, *compared.artifacts]
    assert rows and not any(row.differs for row in rows)


def test_artifacts_are_grouped_by_link_kind_and_name_and_compared_by_content(
    store: MetadataStore, versions: list[ModelVersionRecord], make_artifact: ArtifactFactory
) -> None:
    first, second = versions
    labels_1 = make_artifact("labels", content_hash=HASH_A)
    labels_2 = make_artifact("labels", content_hash=HASH_A)  # a new version, the same bytes
    numbers_1 = make_artifact("numbers", content_hash=HASH_A)
    numbers_2 = make_artifact("numbers", content_hash=HASH_B)
    extra = make_artifact("numbers_extra", content_hash=HASH_B)
    clf = make_artifact("clf", type=ArtifactType.MODEL, content_hash=HASH_A)
    link = store.link_artifact
    link(first.id, labels_1.id, name="labels", kind=ArtifactType.DATA)
    link(second.id, labels_2.id, name="labels", kind=ArtifactType.DATA)
    link(first.id, numbers_1.id, name="numbers", kind=ArtifactType.DATA)
    link(second.id, numbers_2.id, name="numbers", kind=ArtifactType.DATA)
    link(second.id, extra.id, name="numbers", kind=ArtifactType.DATA)  # a second link, same name
    # The same link name with another kind in each version: two rows, not one.
    link(first.id, clf.id, name="clf", kind=ArtifactType.MODEL)
    link(second.id, clf.id, name="clf", kind=ArtifactType.DATA)

    compared = store.compare_model_versions("iris", [1, 2])

    rows = artifact_rows(compared)
    assert list(rows) == [
        ("data", "clf"), ("data", "labels"), ("data", "numbers"), ("model", "clf"),
    ]
    labels = rows["data", "labels"]
    assert labels.differs is False
    shown = [[(a.id, a.name, a.version, a.content_hash) for a in v or []] for v in labels.values]
    assert shown == [
        [(labels_1.id, "labels", 1, HASH_A)],
        [(labels_2.id, "labels", 2, HASH_A)],
    ]
    numbers = rows["data", "numbers"]
    assert numbers.differs is True
    assert [[a.id for a in v or []] for v in numbers.values] == [
        [numbers_1.id],
        [numbers_2.id, extra.id],  # oldest link first
    ]
    assert rows["model", "clf"].values[1] is None and rows["model", "clf"].differs
    assert rows["data", "clf"].values[0] is None and rows["data", "clf"].differs


def test_training_run_is_the_oldest_linked_run_that_used_the_version(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    first, second = versions
    pipeline = store.get_pipeline("train")
    # A later run that also used version 1 (a prediction run) is not its training run.
    store.create_run(
        pipeline_id=pipeline.id, name="predict-1", parameters={"n": 99},
        model_version_id=first.id, linked_versions=[first.id],
    )
    # Version 2 is also linked to train-1, which used version 1: not version 2's training run.
    store.link_run(second.id, store.get_run("train-1").id)
    # Version 3 is linked only to runs that used other versions: the oldest is the fallback.
    third = store.create_model_version("iris")
    store.link_run(third.id, store.get_run("predict-1").id)
    store.link_run(third.id, store.get_run("train-2").id)

    compared = store.compare_model_versions("iris", [1, 2, 3])

    assert [c.training_run and c.training_run.name for c in compared.versions] == [
        "train-1", "train-2", "train-2",
    ]
    training = fields(compared.overview)["training_run"]
    assert training.values == ["train-1", "train-2", "train-2"]


def test_nothing_is_capped(
    store: MetadataStore, versions: list[ModelVersionRecord], make_artifact: ArtifactFactory
) -> None:
    """Every linked run counts (the oldest is found behind 100 newer ones) and every link."""
    first, second = versions
    pipeline = store.get_pipeline("train")
    for index in range(101):
        store.create_run(
            pipeline_id=pipeline.id, name=f"predict-{index}", model_version_id=first.id,
            linked_versions=[first.id],
        )
    shared = make_artifact("shared")
    for index in range(501):
        store.link_artifact(first.id, shared.id, name=f"link-{index:03d}", kind=ArtifactType.DATA)

    compared = store.compare_model_versions("iris", [1, 2])

    assert compared.versions[0].training_run is not None
    assert compared.versions[0].training_run.name == "train-1"
    assert len(compared.artifacts) == 501
    assert all(row.values[1] is None and row.differs for row in compared.artifacts)


def test_comparing_writes_nothing(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    before = snapshot(store)

    store.compare_model_versions("iris", ["production", "latest"])

    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ([], "none were given"),
        ([1], "only version 1 was given"),
        (["latest"], "only the latest version was given"),
        ([1, "1"], "version 1 more than once"),
        (["production", ModelStages.PRODUCTION, 2], "stage 'production' more than once"),
        ([1, None], "None"),
        ([1, True], "True"),
        ([1, 0], "start at 1"),
        ("12", "two or more versions"),
    ],
    ids=[
        "none", "one", "one-stage", "twice", "stage-twice",
        "none-item", "bool", "zero", "lone-string",
    ],
)
def test_bad_requests_are_refused(
    store: MetadataStore, versions: list[ModelVersionRecord], asked: Any, named: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        store.compare_model_versions("iris", asked)

    assert caught.value.hint
    if named != "two or more versions":  # a lone string: what it says differs by backend
        assert named in caught.value.message


def test_unknown_versions_are_named(
    store: MetadataStore, versions: list[ModelVersionRecord]
) -> None:
    with pytest.raises(NotFoundError, match="no version 9") as one:
        store.compare_model_versions("iris", [1, 9])
    with pytest.raises(NotFoundError) as lookup:
        store.get_model_version("iris", 9)
    assert one.value.message == lookup.value.message  # one unknown: the lookup's own error
    with pytest.raises(NotFoundError) as several:
        store.compare_model_versions("iris", [9, 1, "staging", "nope"])
    message = several.value.message
    named = ("version 9", "stage 'staging'", "version named 'nope'", "Versions: 1 (production), 2")
    for text in named:
        assert text in message
    assert "modelplane model version list iris" in (several.value.hint or "")
    with pytest.raises(NotFoundError, match="'elsewhere'"):
        store.compare_model_versions("elsewhere", [1, 2])
