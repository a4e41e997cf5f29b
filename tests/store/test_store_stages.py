"""Contract: stage moves (DESIGN §3 rule 2), stage history, holder at a time, rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelplane.enums import ModelStages
from modelplane.errors import InvalidInputError, NotFoundError, StageConflictError
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot


def stages(store: MetadataStore, model: str) -> dict[int, str]:
    return {v.number: v.stage.value for v in store.list_model_versions(model, sort="number").items}


def history(store: MetadataStore, model: str) -> list[tuple[int, str, str]]:
    changes = store.list_stage_changes(model).items
    return [(c.version_number, c.from_stage.value, c.to_stage.value) for c in reversed(changes)]


def test_set_stage_moves_and_records_history(store: MetadataStore, iris: str) -> None:
    moved = store.set_stage(iris, 1, "staging", actor="ana", reason="looks good")

    assert moved.stage is ModelStages.STAGING
    assert stages(store, iris) == {1: "staging", 2: "none", 3: "none"}
    [change] = store.list_stage_changes(iris).items
    assert (change.model_name, change.version_number, change.version_name) == (iris, 1, "1")
    assert (change.from_stage, change.to_stage) == (ModelStages.NONE, ModelStages.STAGING)
    assert (change.actor, change.reason) == ("ana", "looks good")


def test_occupied_stage_without_force_fails_and_changes_nothing(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    before = snapshot(store)

    with pytest.raises(
        StageConflictError, match="Version 1 of model 'iris' already holds stage 'production'"
    ) as caught:
        store.set_stage(iris, 2, "production")

    assert "force=True" in (caught.value.hint or "")
    assert snapshot(store) == before


def test_force_archives_the_previous_holder_in_the_same_change(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")

    store.set_stage(iris, 2, ModelStages.PRODUCTION, force=True, reason="better")

    assert stages(store, iris) == {1: "archived", 2: "production", 3: "none"}
    assert history(store, iris) == [
        (1, "none", "production"),
        (1, "production", "archived"),
        (2, "none", "production"),
    ]
    archived = store.list_stage_changes(iris, version=1, stage="archived").items[0]
    assert "version 2" in (archived.reason or "")


def test_staging_and_production_are_held_independently(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "staging")
    store.set_stage(iris, 2, "production")

    store.set_stage(iris, 1, "production", force=True)

    assert stages(store, iris) == {1: "production", 2: "archived", 3: "none"}
    assert history(store, iris)[-1] == (1, "staging", "production")


def test_setting_the_stage_a_version_already_has_is_a_no_op(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "archived")

    again = store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "archived")

    assert again.stage is ModelStages.PRODUCTION
    assert len(history(store, iris)) == 2


def test_many_versions_may_be_archived(store: MetadataStore, iris: str) -> None:
    for number in (1, 2, 3):
        store.set_stage(iris, number, "archived")

    assert stages(store, iris) == {1: "archived", 2: "archived", 3: "archived"}
    store.set_stage(iris, 2, "none")
    assert stages(store, iris)[2] == "none"


@pytest.mark.parametrize("stage", ["latest", ModelStages.LATEST, "retired", ""], ids=str)
def test_set_stage_rejects_latest_and_unknown_stages(
    store: MetadataStore, iris: str, stage: object
) -> None:
    before = snapshot(store)
    with pytest.raises(InvalidInputError):
        store.set_stage(iris, 1, stage)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_set_stage_of_unknown_model_or_version_fails(store: MetadataStore, iris: str) -> None:
    with pytest.raises(NotFoundError):
        store.set_stage("ghost", 1, "staging")
    with pytest.raises(NotFoundError):
        store.set_stage(iris, 9, "staging")


def test_expected_current_is_compare_and_set(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "production", expected_current=0)
    before = snapshot(store)

    with pytest.raises(StageConflictError, match="held by version 1, not by nobody"):
        store.set_stage(iris, 2, "production", force=True, expected_current=0)
    with pytest.raises(StageConflictError, match="not by version 3"):
        store.set_stage(iris, 2, "production", force=True, expected_current=3)
    assert snapshot(store) == before

    store.set_stage(iris, 2, "production", force=True, expected_current=1)
    assert stages(store, iris) == {1: "archived", 2: "production", 3: "none"}


def test_expected_current_still_needs_force_to_replace(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "staging")

    with pytest.raises(StageConflictError, match="already holds"):
        store.set_stage(iris, 2, "staging", expected_current=1)


@pytest.mark.parametrize("expected", [-1, True, "1"], ids=str)
def test_expected_current_must_be_a_number(
    store: MetadataStore, iris: str, expected: object
) -> None:
    with pytest.raises(InvalidInputError):
        store.set_stage(iris, 1, "staging", expected_current=expected)  # type: ignore[arg-type]


def test_expected_current_applies_only_to_held_stages(store: MetadataStore, iris: str) -> None:
    with pytest.raises(InvalidInputError):
        store.set_stage(iris, 1, "archived", expected_current=0)


def test_list_stage_changes_filters_by_version_and_stage(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "staging")
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "staging")

    assert [c.to_stage.value for c in store.list_stage_changes(iris, version=1).items] == [
        "production",
        "staging",
    ]
    assert [c.version_number for c in store.list_stage_changes(iris, stage="staging").items] == [
        2,
        1,
        1,
    ]
    assert [c.version_number for c in store.list_stage_changes(iris, version="staging").items] == [
        2
    ]
    page = store.list_stage_changes(iris, limit=1, offset=1)
    assert (page.total, [c.version_number for c in page.items]) == (3, [1])


def test_list_stage_changes_rejects_latest_and_unknown_model(
    store: MetadataStore, iris: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.list_stage_changes(iris, stage="latest")
    with pytest.raises(NotFoundError):
        store.list_stage_changes("ghost")


def test_stage_holder_at_a_time_comes_from_history(store: MetadataStore, iris: str) -> None:
    before_any = datetime.now(UTC) - timedelta(seconds=1)
    store.set_stage(iris, 1, "production")
    one_held = store.list_stage_changes(iris).items[0].created
    store.set_stage(iris, 2, "production", force=True)
    two_held = store.list_stage_changes(iris).items[0].created

    assert store.get_stage_holder_at(iris, "production", before_any) is None
    holder = store.get_stage_holder_at(iris, "production", one_held)
    assert holder is not None and holder.number == 1
    later = store.get_stage_holder_at(iris, ModelStages.PRODUCTION, two_held + timedelta(seconds=1))
    assert later is not None and later.number == 2
    naive = store.get_stage_holder_at(
        iris, "production", (two_held + timedelta(seconds=1)).replace(tzinfo=None)
    )
    assert naive is not None and naive.number == 2


def test_stage_holder_at_is_none_after_the_holder_left(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "staging")
    store.set_stage(iris, 1, "production")

    now = datetime.now(UTC) + timedelta(seconds=1)
    assert store.get_stage_holder_at(iris, "staging", now) is None
    assert store.get_stage_holder_at(iris, "production", now).number == 1  # type: ignore[union-attr]


def test_stage_holder_at_rejects_stages_without_a_single_holder(
    store: MetadataStore, iris: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.get_stage_holder_at(iris, "archived", datetime.now(UTC))
    with pytest.raises(InvalidInputError):
        store.get_stage_holder_at(iris, "latest", datetime.now(UTC))


def test_rollback_gives_the_stage_back_to_the_previous_holder(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "production", force=True)

    restored = store.rollback_stage(iris, "production", actor="ana", reason="v2 regressed")

    assert restored.number == 1 and restored.stage is ModelStages.PRODUCTION
    # Version 2 came from stage none, so it goes back there (issue 10 item 10).
    assert stages(store, iris) == {1: "production", 2: "none", 3: "none"}
    last_two = store.list_stage_changes(iris, limit=2).items
    assert [(c.version_number, c.to_stage.value, c.reason, c.actor) for c in last_two] == [
        (1, "production", "v2 regressed", "ana"),
        (2, "none", "v2 regressed", "ana"),
    ]


def test_rollback_skips_deleted_versions_and_the_current_holder(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "production", force=True)
    store.set_stage(iris, 1, "production", force=True)
    store.set_stage(iris, 3, "production", force=True)
    store.delete_model_version(iris, 1)

    assert store.rollback_stage(iris, "production").number == 2


def test_rollback_without_an_earlier_holder_fails_and_changes_nothing(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "staging")
    before = snapshot(store)

    with pytest.raises(NotFoundError, match="no earlier holder of stage 'staging'"):
        store.rollback_stage(iris, "staging")
    with pytest.raises(NotFoundError):
        store.rollback_stage(iris, "production")
    with pytest.raises(InvalidInputError):
        store.rollback_stage(iris, "archived")
    assert snapshot(store) == before


def test_a_forced_swap_leaves_no_instant_without_a_holder(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "staging")
    store.set_stage(iris, 2, "production", force=True)

    promoted, archived = store.list_stage_changes(iris, limit=2).items
    assert (archived.version_number, archived.to_stage) == (1, ModelStages.ARCHIVED)
    assert (promoted.version_number, promoted.to_stage) == (2, ModelStages.PRODUCTION)
    assert archived.created == promoted.created
    holder = store.get_stage_holder_at(iris, "production", archived.created)
    assert holder is not None and holder.number == 2


def test_the_moves_of_a_rollback_share_one_time(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "production", force=True)

    store.rollback_stage(iris, "production")

    restored, backed_out = store.list_stage_changes(iris, limit=2).items
    assert backed_out.created == restored.created
    holder = store.get_stage_holder_at(iris, "production", backed_out.created)
    assert holder is not None and holder.number == 1


def test_a_second_rollback_does_not_give_the_stage_back_to_the_version_backed_out_of(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "staging")
    store.set_stage(iris, 2, "production", force=True)
    assert store.rollback_stage(iris, "production").number == 1
    before = snapshot(store)

    with pytest.raises(NotFoundError, match="no earlier holder of stage 'production'"):
        store.rollback_stage(iris, "production")

    assert snapshot(store) == before
    assert stages(store, iris) == {1: "production", 2: "staging", 3: "none"}


def test_each_rollback_walks_one_holder_further_back(store: MetadataStore, iris: str) -> None:
    store.set_stage(iris, 1, "production")
    for number in (2, 3):
        store.set_stage(iris, number, "staging")
        store.set_stage(iris, number, "production", force=True)

    first = store.rollback_stage(iris, "production")
    after_first = stages(store, iris)
    second = store.rollback_stage(iris, "production")

    assert first.number == 2 and after_first == {1: "archived", 2: "production", 3: "staging"}
    assert second.number == 1
    # Version 2 came from staging, but version 3 holds staging now: it is archived instead.
    assert stages(store, iris) == {1: "production", 2: "archived", 3: "staging"}
    backed_out = store.list_stage_changes(iris, version=2, limit=1).items[0]
    assert "staging is held by version 3" in (backed_out.reason or "")
    with pytest.raises(NotFoundError):
        store.rollback_stage(iris, "production")


def test_a_rollback_after_a_new_promotion_undoes_only_that_promotion(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "production", force=True)
    store.rollback_stage(iris, "production")  # back to 1
    store.set_stage(iris, 3, "production", force=True)

    assert store.rollback_stage(iris, "production").number == 1
    assert stages(store, iris) == {1: "production", 2: "none", 3: "none"}


def test_the_version_backed_out_of_is_archived_when_the_gates_of_its_old_stage_refuse_it(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "staging")
    store.set_stage(iris, 2, "production", force=True)
    store.update_model(iris, gates={"staging": ["auc >= 0.9"]})

    store.rollback_stage(iris, "production")

    assert stages(store, iris) == {1: "production", 2: "archived", 3: "none"}
    backed_out = store.list_stage_changes(iris, version=2, limit=1).items[0]
    assert "gates for 'staging'" in (backed_out.reason or "")


def test_rollback_of_an_empty_stage_gives_it_back_to_the_last_holder(
    store: MetadataStore, iris: str
) -> None:
    store.set_stage(iris, 1, "production")
    store.set_stage(iris, 2, "production", force=True)
    store.set_stage(iris, 2, "archived")

    assert store.rollback_stage(iris, "production").number == 2
    assert stages(store, iris) == {1: "archived", 2: "production", 3: "none"}
