"""Contract: metadata merges deeply, and what a step does to its model version is recorded on its
step run so that a cache hit of the step leaves the new version as the original left its own
(issue 10 items 9 and "nested dicts merge deeply"); a run's Model(tags=…) tag the model."""

from __future__ import annotations

import pytest

from modelplane.enums import ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError, PromotionBlockedError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import STEP_CHANGES_KEY, MetadataStore


def test_nested_metadata_merges_key_by_key_on_every_target(
    store: MetadataStore, iris: str, run: RunRecord
) -> None:
    version = store.get_model_version(iris, 1)
    step_run = store.create_step_run(run_id=run.id, name="train", step_name="train")
    for target, target_id in (("model_version", version.id), ("step_run", step_run.id)):
        store.add_metadata(target, target_id, {"eval": {"f1": 0.8, "sets": {"a": 1}}, "n": [1]})
        store.add_metadata(target, target_id, {"eval": {"auc": 0.9, "sets": {"b": 2}}, "n": [2]})
    expected = {"eval": {"f1": 0.8, "auc": 0.9, "sets": {"a": 1, "b": 2}}, "n": [2]}
    assert store.get_model_version(iris, 1).metadata == expected
    assert store.get_step_run(step_run.id).metadata == expected
    # A dict replaces a value that is not one, and the other way round.
    store.add_metadata("model_version", version.id, {"eval": 1, "n": {"x": 1}})
    assert store.get_model_version(iris, 1).metadata == {"eval": 1, "n": {"x": 1}}


def test_a_step_logging_to_its_version_is_recorded_on_its_step_run(
    store: MetadataStore, iris: str, run: RunRecord
) -> None:
    version = store.get_model_version(iris, 1)
    step_run = store.create_step_run(run_id=run.id, name="train", step_name="train")

    store.add_metadata("model_version", version.id, {"eval": {"auc": 0.9}}, step_run_id=step_run.id)
    store.add_metadata("model_version", version.id, {"eval": {"f1": 0.7}}, step_run_id=step_run.id)
    store.set_stage(iris, version.id, "staging", step_run_id=step_run.id, reason="good")

    assert store.get_step_run(step_run.id).metadata[STEP_CHANGES_KEY] == {
        "metadata": {"eval": {"auc": 0.9, "f1": 0.7}},
        "stages": [{"stage": "staging", "force": False, "reason": "good"}],
    }
    with pytest.raises(InvalidInputError, match="step_run_id"):
        store.add_metadata("step_run", step_run.id, {"a": 1}, step_run_id=step_run.id)


def test_a_cache_hit_replays_the_logged_metadata_into_the_new_version(
    store: MetadataStore, iris: str, run: RunRecord
) -> None:
    first, second = store.get_model_version(iris, 1), store.get_model_version(iris, 2)
    original = store.create_step_run(run_id=run.id, name="train", step_name="train")
    store.add_metadata("model_version", first.id, {"auc": 0.9, "eval": {"f1": 0.8}}, step_run_id=original.id)
    store.set_stage(iris, first.id, "production", force=True, step_run_id=original.id)
    store.finish_step_run(original.id, status=ExecutionStatus.COMPLETED)
    store.add_metadata("model_version", second.id, {"eval": {"loss": 0.1}})

    later = store.create_run(pipeline_id=run.pipeline_id)
    hit = store.create_step_run(
        run_id=later.id,
        name="train",
        step_name="train",
        status=ExecutionStatus.CACHED,
        cached_from=original.id,
        replay_to=second.id,
    )

    assert store.get_model_version(iris, 2).metadata == {"auc": 0.9, "eval": {"f1": 0.8, "loss": 0.1}}
    recorded = {
        "metadata": {"auc": 0.9, "eval": {"f1": 0.8}},
        "stages": [{"stage": "production", "force": True}],
    }
    assert hit.metadata == {STEP_CHANGES_KEY: recorded}
    assert store.get_step_run(hit.id).metadata == {STEP_CHANGES_KEY: recorded}
    # The stage move is the caller's to ask for again (through the gates); nothing moved here.
    assert store.get_model_version(iris, 2).stage is ModelStages.NONE
    with pytest.raises(InvalidInputError, match="not a cache hit"):
        store.create_step_run(run_id=later.id, name="other", step_name="other", replay_to=second.id)


def test_a_refused_move_asked_for_by_a_step_is_still_recorded_on_it(
    store: MetadataStore, run: RunRecord
) -> None:
    store.create_model("gated", gates={"production": ["auc >= 0.99"]})
    version = store.create_model_version("gated", metadata={"auc": 0.5})
    step_run = store.create_step_run(run_id=run.id, name="promote", step_name="promote")

    with pytest.raises(PromotionBlockedError, match="auc >= 0.99"):
        store.set_stage("gated", version.id, "production", force=True, step_run_id=step_run.id)

    changes = store.get_step_run(step_run.id).metadata[STEP_CHANGES_KEY]
    assert changes == {"stages": [{"stage": "production", "force": True}]}
    assert [c.kind for c in store.list_stage_changes("gated").items] == ["refused"]


def test_a_runs_model_tags_tag_the_model_it_creates_or_uses(store: MetadataStore) -> None:
    created, _ = store.ensure_model_version("churn", None, model_card={"tags": ["team-a"]}, tags=["v"])
    assert store.get_model("churn").tags == ["team-a"]
    assert [m.name for m in store.list_models(tag="team-a").items] == ["churn"]
    assert store.get_model_version("churn", created.number).tags == ["v"]

    store.ensure_model_version("churn", "nightly", model_card={"tags": ["team-a", "tabular"]})
    assert store.get_model("churn").tags == ["team-a", "tabular"]
    # A run that only reads a version (a number, a stage) changes nothing on the model.
    store.ensure_model_version("churn", 1, model_card={"tags": ["other"]})
    assert store.get_model("churn").tags == ["team-a", "tabular"]
