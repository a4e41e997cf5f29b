"""Contract: models (create, get, list, update, delete)."""

from __future__ import annotations

import pytest

from modelplane.enums import ArtifactType
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MODEL_CARD_FIELDS, MetadataStore
from tests.store.state import ArtifactFactory, snapshot


def test_create_model_returns_the_card_and_tags(store: MetadataStore) -> None:
    model = store.create_model(
        "iris", tags=["tabular", "demo"], license="MIT", description="Flowers"
    )

    assert model.name == "iris"
    assert model.tags == ["tabular", "demo"]
    assert (model.license, model.description, model.audience) == ("MIT", "Flowers", None)
    assert model.version_count == 0
    assert model.latest_version_number is None
    assert model.created.tzinfo is not None
    assert len(model.id) == 32


def test_get_model_by_name_and_by_id(store: MetadataStore) -> None:
    created = store.create_model("iris", **{field: f"{field} text" for field in MODEL_CARD_FIELDS})

    assert store.get_model("iris") == created
    assert store.get_model(created.id) == created


def test_get_unknown_model_names_it_and_lists_what_exists(store: MetadataStore) -> None:
    store.create_model("iris")

    with pytest.raises(NotFoundError, match=r"'irs' does not exist.*'iris'") as caught:
        store.get_model("irs")
    assert caught.value.hint


def test_model_names_are_unique_and_case_sensitive(store: MetadataStore) -> None:
    store.create_model("iris")
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError, match="'iris' already exists"):
        store.create_model("iris", license="Apache")
    assert snapshot(store) == before
    assert store.create_model("Iris").name == "Iris"


@pytest.mark.parametrize(
    ("name", "card"),
    [
        ("", {}),
        (" iris", {}),
        ("a" * 256, {}),
        ("tab\tname", {}),
        ("iris", {"colour": "red"}),
        ("iris", {"license": 3}),
    ],
    ids=[
        "empty",
        "leading-space",
        "too-long",
        "control-char",
        "unknown-card-field",
        "card-not-text",
    ],
)
def test_create_model_rejects_bad_input_and_changes_nothing(
    store: MetadataStore, name: str, card: dict[str, object]
) -> None:
    before = snapshot(store)
    with pytest.raises(InvalidInputError):
        store.create_model(name, **card)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_create_model_rejects_a_string_as_tags(store: MetadataStore) -> None:
    with pytest.raises(InvalidInputError, match="list of strings"):
        store.create_model("iris", tags="demo")


def test_list_models_counts_versions_and_latest_number(store: MetadataStore) -> None:
    store.create_model("a")
    store.create_model("b")
    for _ in range(3):
        store.create_model_version("b")
    store.delete_model_version("b", 3)

    page = store.list_models()

    assert [(m.name, m.version_count, m.latest_version_number) for m in page.items] == [
        ("a", 0, None),
        ("b", 2, 2),
    ]
    assert page.total == 2


def test_list_models_filters_by_substring_case_insensitively(store: MetadataStore) -> None:
    for name in ("iris_classifier", "Iris-Large", "mnist", "100%_sure"):
        store.create_model(name)

    assert [m.name for m in store.list_models(name="iris").items] == [
        "Iris-Large",
        "iris_classifier",
    ]
    assert [m.name for m in store.list_models(name="%").items] == ["100%_sure"]
    assert [m.name for m in store.list_models(name="s__").items] == []


def test_list_models_filters_by_tag(store: MetadataStore) -> None:
    store.create_model("a", tags=["vision", "prod"])
    store.create_model("b", tags=["text"])
    store.create_model("c", tags=["production"])

    assert [m.name for m in store.list_models(tag="prod").items] == ["a"]
    assert store.list_models(tag="none").items == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["a", "b", "c"]),
        ("-name", ["c", "b", "a"]),
        ("created", ["b", "c", "a"]),
        ("-created", ["a", "c", "b"]),
    ],
)
def test_list_models_sorts(store: MetadataStore, sort: str, expected: list[str]) -> None:
    for name in ("b", "c", "a"):
        store.create_model(name)

    assert [m.name for m in store.list_models(sort=sort).items] == expected


def test_list_models_pages(store: MetadataStore) -> None:
    for i in range(5):
        store.create_model(f"m{i}")

    page = store.list_models(limit=2, offset=2)

    assert [m.name for m in page.items] == ["m2", "m3"]
    assert (page.total, page.limit, page.offset) == (5, 2, 2)


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": 2**70}, {"sort": "size"}],
    ids=["limit-0", "limit-too-big", "negative-offset", "huge-offset", "unknown-sort"],
)
def test_list_models_rejects_bad_paging_and_sort(
    store: MetadataStore, kwargs: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError):
        store.list_models(**kwargs)  # type: ignore[arg-type]


def test_update_model_changes_given_fields_only(store: MetadataStore) -> None:
    created = store.create_model("iris", tags=["a", "b"], license="MIT", description="old")

    updated = store.update_model(
        "iris", description="new", ethics=None, add_tags=["c", "a"], remove_tags=["b"]
    )

    assert (updated.license, updated.description, updated.ethics) == ("MIT", "new", None)
    assert updated.tags == ["a", "c"]
    assert updated.updated >= created.updated
    assert store.get_model("iris") == updated


def test_update_model_renames(store: MetadataStore) -> None:
    store.create_model("iris")
    store.create_model_version("iris")

    renamed = store.update_model("iris", new_name="iris_v2")

    assert renamed.name == "iris_v2"
    assert store.get_model_version("iris_v2", 1).model_name == "iris_v2"
    with pytest.raises(NotFoundError):
        store.get_model("iris")


def test_update_model_refuses_a_taken_name_and_changes_nothing(store: MetadataStore) -> None:
    store.create_model("a", license="MIT")
    store.create_model("b")
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError, match="'b' already exists"):
        store.update_model("a", new_name="b", license="GPL")
    assert snapshot(store) == before


def test_update_unknown_model_fails(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        store.update_model("ghost", license="MIT")


def test_delete_model_removes_versions_links_and_history_but_keeps_runs_and_artifacts(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    store.create_model("iris")
    version = store.create_model_version("iris")
    artifact = make_artifact()
    store.link_artifact(version.id, artifact.id, name="data", kind=ArtifactType.DATA)
    store.link_run(version.id, run.id)
    store.set_stage("iris", 1, "production")

    store.delete_model("iris")

    with pytest.raises(NotFoundError):
        store.get_model("iris")
    with pytest.raises(NotFoundError):
        store.get_model_version_by_id(version.id)
    assert store.get_run(run.id).id == run.id
    assert store.get_artifact_version(artifact.id) == artifact
    assert store.info().counts["model_versions"] == 0
    store.create_model("iris")
    assert store.list_stage_changes("iris").total == 0


def test_delete_unknown_model_fails(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.delete_model("ghost")
