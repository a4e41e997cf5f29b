"""Contract: model versions (numbers, get-or-create, lookups by spec, listings, changes)."""

from __future__ import annotations

import pytest

from modelplane.enums import ModelStages
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot


@pytest.fixture
def iris(store: MetadataStore) -> str:
    store.create_model("iris")
    return "iris"


def test_versions_are_numbered_from_one_and_named_by_number(
    store: MetadataStore, iris: str
) -> None:
    first = store.create_model_version(iris)
    second = store.create_model_version(
        iris, name="candidate", description="d", tags=["x"], metadata={"a": 1}
    )

    assert (first.number, first.name, first.stage) == (1, "1", ModelStages.NONE)
    assert (second.number, second.name, second.description, second.tags) == (
        2,
        "candidate",
        "d",
        ["x"],
    )
    assert second.metadata == {"a": 1}
    assert second.model_name == iris
    assert store.get_model_version_by_id(second.id) == second


def test_version_numbers_are_never_reused(store: MetadataStore, iris: str) -> None:
    for _ in range(3):
        store.create_model_version(iris)
    store.delete_model_version(iris, 3)

    assert store.create_model_version(iris).number == 4


def test_create_version_of_unknown_model_fails(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.create_model_version("ghost")


@pytest.mark.parametrize("name", ["7", "production", "Latest", "", " padded"], ids=str)
def test_create_version_rejects_reserved_names_and_burns_no_number(
    store: MetadataStore, iris: str, name: str
) -> None:
    store.create_model_version(iris)
    before = snapshot(store)

    with pytest.raises(InvalidInputError):
        store.create_model_version(iris, name=name)
    assert snapshot(store) == before
    assert store.create_model_version(iris).number == 2


def test_create_version_rejects_a_taken_name_and_burns_no_number(
    store: MetadataStore, iris: str
) -> None:
    store.create_model_version(iris, name="candidate")
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError, match="already has a version named 'candidate'"):
        store.create_model_version(iris, name="candidate")
    assert snapshot(store) == before
    assert store.create_model_version(iris).number == 2


def test_create_version_rejects_metadata_that_is_not_json(store: MetadataStore, iris: str) -> None:
    with pytest.raises(InvalidInputError, match="JSON"):
        store.create_model_version(iris, metadata={"loss": float("nan")})
    with pytest.raises(InvalidInputError, match="JSON"):
        store.create_model_version(iris, metadata={"when": object()})
    assert store.list_model_versions(iris).total == 0


def test_get_version_by_every_kind_of_spec(store: MetadataStore, iris: str) -> None:
    one = store.create_model_version(iris)
    two = store.create_model_version(iris, name="candidate")
    three = store.create_model_version(iris)
    store.set_stage(iris, 1, ModelStages.STAGING)
    store.set_stage(iris, 2, "production")

    assert store.get_model_version(iris, 1).id == one.id
    assert store.get_model_version(iris, "2").id == two.id
    assert store.get_model_version(iris, "candidate").id == two.id
    assert store.get_model_version(iris, ModelStages.STAGING).id == one.id
    assert store.get_model_version(iris, "Production").id == two.id
    assert store.get_model_version(iris, ModelStages.LATEST).id == three.id
    assert store.get_model_version(iris, "latest").id == three.id
    assert store.get_model_version(iris, three.id).id == three.id
    assert store.get_model_version(store.get_model(iris).id, 1).id == one.id


def test_empty_stage_error_says_which_model_and_lists_versions(
    store: MetadataStore, iris: str
) -> None:
    store.create_model_version(iris)
    store.create_model_version(iris, name="candidate")
    store.set_stage(iris, 1, "staging")

    with pytest.raises(NotFoundError) as caught:
        store.get_model_version(iris, "production")

    message = str(caught.value)
    assert "Model 'iris' has no version in stage 'production'" in message
    assert "1 (staging), 2 'candidate'" in message
    assert "set_stage" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (7, "no version 7"),
        (10**30, "no version 1000000000000000000000000000000"),
        ("missing", "no version named 'missing'"),
        ("a" * 32, "version named"),
    ],
    ids=["number", "huge-number", "name", "unknown-id"],
)
def test_missing_version_error_names_it(
    store: MetadataStore, iris: str, spec: object, text: str
) -> None:
    store.create_model_version(iris)

    with pytest.raises(NotFoundError, match=text):
        store.get_model_version(iris, spec)  # type: ignore[arg-type]


def test_latest_of_a_model_without_versions_is_not_found(store: MetadataStore, iris: str) -> None:
    with pytest.raises(NotFoundError, match="no versions yet"):
        store.get_model_version(iris, "latest")


def test_get_version_of_unknown_model_fails(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="Model 'ghost' does not exist"):
        store.get_model_version("ghost", 1)


@pytest.mark.parametrize("spec", [0, -1, True, 1.5, "archived", None], ids=str)
def test_get_version_rejects_specs_that_name_no_single_version(
    store: MetadataStore, iris: str, spec: object
) -> None:
    store.create_model_version(iris)

    with pytest.raises(InvalidInputError):
        store.get_model_version(iris, spec)  # type: ignore[arg-type]


def test_get_version_by_id_of_another_model_is_not_found(store: MetadataStore, iris: str) -> None:
    store.create_model("other")
    foreign = store.create_model_version("other")

    with pytest.raises(NotFoundError):
        store.get_model_version(iris, foreign.id)
    with pytest.raises(NotFoundError, match="does not exist"):
        store.get_model_version_by_id("f" * 32)


def test_ensure_none_creates_the_model_and_a_new_version(store: MetadataStore) -> None:
    first, created = store.ensure_model_version(
        "iris",
        None,
        model_card={"license": "MIT", "tags": ["demo"]},
        description="run 1",
        tags=["t"],
    )
    second, created_again = store.ensure_model_version("iris", None)

    assert created and created_again
    assert (first.number, second.number) == (1, 2)
    assert (first.description, first.tags) == ("run 1", ["t"])
    model = store.get_model("iris")
    assert (model.license, model.tags, model.version_count) == ("MIT", ["demo"], 2)


def test_ensure_name_is_get_or_create(store: MetadataStore) -> None:
    made, created = store.ensure_model_version("iris", "first-try")
    found, created_again = store.ensure_model_version("iris", "first-try")

    assert created and not created_again
    assert found.id == made.id
    assert (made.number, made.name) == (1, "first-try")


def test_ensure_accepts_a_version_id(store: MetadataStore) -> None:
    made, _ = store.ensure_model_version("iris", None)

    found, created = store.ensure_model_version("iris", made.id)

    assert (found.id, created) == (made.id, False)


@pytest.mark.parametrize("spec", [1, "1", "staging", ModelStages.PRODUCTION, "latest"], ids=str)
def test_ensure_never_creates_for_number_stage_or_latest(
    store: MetadataStore, spec: object
) -> None:
    with pytest.raises(NotFoundError):
        store.ensure_model_version("iris", spec)  # type: ignore[arg-type]
    assert store.list_models().total == 0

    store.create_model("iris")
    before = snapshot(store)
    with pytest.raises(NotFoundError):
        store.ensure_model_version("iris", spec)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_ensure_resolves_existing_number_stage_and_latest(store: MetadataStore) -> None:
    store.ensure_model_version("iris", None)
    two, _ = store.ensure_model_version("iris", None)
    store.set_stage("iris", 1, "production")

    assert store.ensure_model_version("iris", 2) == (two, False)
    assert store.ensure_model_version("iris", "production")[0].number == 1
    assert store.ensure_model_version("iris", "latest")[0].number == 2


def test_ensure_rejects_bad_input_and_changes_nothing(store: MetadataStore) -> None:
    with pytest.raises(InvalidInputError):
        store.ensure_model_version("", None)
    with pytest.raises(InvalidInputError):
        store.ensure_model_version("iris", None, model_card={"colour": "red"})
    assert store.list_models().total == 0


def test_list_versions_newest_first_with_filters(store: MetadataStore, iris: str) -> None:
    store.create_model_version(iris, tags=["good"])
    store.create_model_version(iris, name="Candidate-A")
    store.create_model_version(iris, tags=["good", "fast"])
    store.set_stage(iris, 1, "staging")
    store.set_stage(iris, 3, "archived")

    def numbers(**kwargs: object) -> list[int]:
        return [v.number for v in store.list_model_versions(iris, **kwargs).items]  # type: ignore[arg-type]

    assert numbers() == [3, 2, 1]
    assert numbers(sort="number") == [1, 2, 3]
    assert numbers(sort="created") == [1, 2, 3]
    assert numbers(stage="staging") == [1]
    assert numbers(stage=ModelStages.ARCHIVED) == [3]
    assert numbers(stage="none") == [2]
    assert numbers(stage="latest") == [3]
    assert numbers(tag="good") == [3, 1]
    assert numbers(name="candidate") == [2]
    assert numbers(limit=1, offset=1) == [2]
    assert store.list_model_versions(iris, limit=1).total == 3


def test_list_versions_rejects_unknown_model_stage_and_sort(
    store: MetadataStore, iris: str
) -> None:
    with pytest.raises(NotFoundError):
        store.list_model_versions("ghost")
    with pytest.raises(InvalidInputError):
        store.list_model_versions(iris, stage="retired")
    with pytest.raises(InvalidInputError):
        store.list_model_versions(iris, sort="stage")


def test_update_version_renames_and_retags(store: MetadataStore, iris: str) -> None:
    store.create_model_version(iris, tags=["a", "b"])

    updated = store.update_model_version(
        iris, 1, name="gold", description="best", add_tags=["c"], remove_tags=["a"]
    )

    assert (updated.name, updated.description, updated.tags) == ("gold", "best", ["b", "c"])
    assert store.get_model_version(iris, "gold").number == 1


def test_update_version_refuses_taken_or_reserved_names(store: MetadataStore, iris: str) -> None:
    store.create_model_version(iris, name="gold")
    store.create_model_version(iris)
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError):
        store.update_model_version(iris, 2, name="gold", description="changed")
    with pytest.raises(InvalidInputError):
        store.update_model_version(iris, 2, name="staging")
    with pytest.raises(InvalidInputError):
        store.update_model_version(iris, 2, name="12")
    assert snapshot(store) == before


def test_delete_version_keeps_its_stage_history_and_runs(
    store: MetadataStore, iris: str, run: RunRecord
) -> None:
    version = store.create_model_version(iris)
    pipeline = store.get_pipeline("training")
    used = store.create_run(pipeline_id=pipeline.id, model_version_id=version.id)
    store.set_stage(iris, 1, "staging")
    store.set_stage(iris, 1, "archived")

    store.delete_model_version(iris, 1)

    with pytest.raises(NotFoundError):
        store.get_model_version(iris, 1)
    history = store.list_stage_changes(iris).items
    assert [(c.version_number, c.model_version_id) for c in history] == [(1, None), (1, None)]
    assert store.get_run(used.id).model_version_id is None


@pytest.mark.parametrize("stage", ["staging", "production"])
def test_delete_version_refuses_a_stage_holder_unless_forced(
    store: MetadataStore, iris: str, stage: str
) -> None:
    store.create_model_version(iris)
    store.set_stage(iris, 1, stage)
    before = snapshot(store)

    with pytest.raises(InvalidInputError, match=f"in stage '{stage}'") as caught:
        store.delete_model_version(iris, 1)
    assert "force=True" in (caught.value.hint or "")
    assert snapshot(store) == before

    store.delete_model_version(iris, stage, force=True)
    assert store.list_model_versions(iris).total == 0


def test_delete_unknown_version_fails(store: MetadataStore, iris: str) -> None:
    with pytest.raises(NotFoundError):
        store.delete_model_version(iris, 1)
