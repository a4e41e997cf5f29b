"""Contract: promotion gates — rules a version's metadata must meet to enter a stage, kept on the
model and checked by the store in the transaction that moves the version."""

from __future__ import annotations

from typing import Any

import pytest

from modelplane.enums import ModelStages
from modelplane.errors import InvalidInputError, PromotionBlockedError
from modelplane.gates import failed_gates, parse_gate
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot

GATED = {"production": ["accuracy >= current", "accuracy >= 0.9"], "staging": ["f1 exists"]}


def _version(store: MetadataStore, model: str, **metadata: Any) -> int:
    return store.create_model_version(model, metadata=metadata).number


def _stages(store: MetadataStore, model: str) -> dict[int, str]:
    return {v.number: v.stage.value for v in store.list_model_versions(model, sort="number").items}


@pytest.fixture
def iris(store: MetadataStore) -> str:
    store.create_model("iris", gates=GATED)
    return "iris"


# -- the rules themselves (no store) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("accuracy>=current", "accuracy >= current"),
        ("  eval.f1 > 0.80 ", "eval.f1 > 0.8"),
        ("loss < 1e-2", "loss < 0.01"),
        ("framework == 'sklearn'", "framework == 'sklearn'"),
        ("framework != torch", "framework != 'torch'"),
        ("dataset_hash exists", "dataset_hash exists"),
        ("epochs == 10", "epochs == 10"),
    ],
)
def test_rules_are_read_into_one_canonical_spelling(text: str, canonical: str) -> None:
    assert str(parse_gate(text)) == canonical
    assert str(parse_gate(canonical)) == canonical


@pytest.mark.parametrize(
    "text",
    ["", "accuracy", ">= 0.9", "accuracy => 0.9", "accuracy >= ", "name > bob", "x >= nan", "1x > 2"],
)
def test_malformed_rules_are_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(InvalidInputError, match="gate") as caught:
        parse_gate(text)
    assert caught.value.hint  # says how to write it


def test_rule_evaluation_explains_each_failure() -> None:
    rules = ["accuracy >= current", "accuracy >= 0.9", "eval.f1 > 0.5", "framework == sklearn"]
    candidate = {"accuracy": 0.92, "eval": {"f1": 0.4}, "framework": "torch"}

    failures = failed_gates(rules, candidate, {"accuracy": 0.95}, current_label="version 2")

    assert failures == [
        "accuracy >= current: it is 0.92, not >= 0.95 (version 2)",
        "eval.f1 > 0.5: it is 0.4, not > 0.5",
        "framework == 'sklearn': it is 'torch', not 'sklearn'",
    ]
    assert failed_gates(rules[:2], {"accuracy": 0.92}, None) == []  # nobody to beat
    assert failed_gates(["accuracy >= 0.9"], {"accuracy": True}, None) == [
        "accuracy >= 0.9: 'accuracy' is True, not a number"
    ]


# -- stored on the model ------------------------------------------------------------------------


def test_gates_are_stored_canonical_and_replaced_or_cleared_by_update(store: MetadataStore) -> None:
    created = store.create_model("iris", gates={"production": ["accuracy>=current", "accuracy>=current"]})

    assert created.gates == {"production": ["accuracy >= current"]}
    assert store.get_model("iris").gates == created.gates
    assert store.list_models().items[0].gates == created.gates
    assert store.update_model("iris", description="x").gates == created.gates  # None: unchanged
    replaced = store.update_model("iris", gates={"staging": ["f1 exists"]})
    assert replaced.gates == {"staging": ["f1 exists"]}
    assert store.update_model("iris", gates={}).gates == {}
    assert store.create_model("plain").gates == {}


@pytest.mark.parametrize(
    "gates",
    [
        {"latest": ["a > 1"]},
        {"archived": ["a > 1"]},
        {"production": "accuracy >= 0.9"},
        {"production": ["accuracy >>= 0.9"]},
        ["production: a > 1"],
        {"production": ["a > 1"] * 51},
    ],
)
def test_bad_gates_are_refused_and_change_nothing(store: MetadataStore, gates: Any) -> None:
    store.create_model("iris", gates=GATED)
    before = snapshot(store)

    with pytest.raises(InvalidInputError):
        store.update_model("iris", gates=gates)
    with pytest.raises(InvalidInputError):
        store.create_model("other", gates=gates)
    assert snapshot(store) == before


# -- enforced by set_stage ------------------------------------------------------------------------


def test_a_version_below_a_threshold_is_not_promoted_and_only_the_refusal_is_recorded(
    store: MetadataStore, iris: str
) -> None:
    low = _version(store, iris, accuracy=0.85)
    before = snapshot(store)

    with pytest.raises(PromotionBlockedError) as caught:
        store.set_stage(iris, low, "production", force=True, reason="nightly")

    assert "accuracy >= 0.9: it is 0.85, not >= 0.9" in caught.value.message
    assert f"Version {low} of model 'iris'" in caught.value.message
    assert "recorded in the stage history" in caught.value.message
    after = snapshot(store)
    assert len(after.pop("history:iris")) == 1 and before.pop("history:iris") == []
    counts_after, counts_before = after.pop("counts"), before.pop("counts")
    assert {k: v for k, v in counts_after.items() if counts_before.get(k) != v} in (
        {}, {"stage_changes": 1}
    )
    assert after == before  # no stage, version or webhook delivery changed
    (refusal,) = store.list_stage_changes(iris).items
    assert (refusal.kind, refusal.version_number, refusal.from_stage, refusal.to_stage) == (
        "refused", low, ModelStages.NONE, ModelStages.PRODUCTION
    )
    assert refusal.reason == (
        "accuracy >= 0.9: it is 0.85, not >= 0.9 (asked: nightly)"
    )


def test_a_refusal_holds_no_stage_and_is_skipped_by_rollback(store: MetadataStore, iris: str) -> None:
    first = _version(store, iris, accuracy=0.95)
    second = _version(store, iris, accuracy=0.97)
    low = _version(store, iris, accuracy=0.5)
    store.set_stage(iris, first, "production")
    store.set_stage(iris, second, "production", force=True)
    with pytest.raises(PromotionBlockedError):
        store.set_stage(iris, low, "production", force=True)
    refused_at = store.list_stage_changes(iris).items[0].created

    holder = store.get_stage_holder_at(iris, "production", refused_at)
    assert holder is not None and holder.number == second
    assert store.rollback_stage(iris, "production").number == first
    assert _stages(store, iris)[low] == "none"


def test_current_compares_with_the_holder_and_force_does_not_bypass_it(
    store: MetadataStore, iris: str
) -> None:
    first = _version(store, iris, accuracy=0.93)
    worse = _version(store, iris, accuracy=0.91)
    better = _version(store, iris, accuracy=0.97)

    store.set_stage(iris, first, "production")  # nobody to beat yet
    with pytest.raises(PromotionBlockedError, match=r"not >= 0.93 \(version 1, now in production\)"):
        store.set_stage(iris, worse, "production", force=True)
    store.set_stage(iris, better, "production", force=True)

    assert _stages(store, iris) == {first: "archived", worse: "none", better: "production"}


def test_missing_metadata_blocks_and_logging_it_then_lets_the_version_in(
    store: MetadataStore, iris: str
) -> None:
    number = _version(store, iris, accuracy=0.95)
    with pytest.raises(PromotionBlockedError, match="has no metadata 'f1'"):
        store.set_stage(iris, number, "staging")

    version = store.get_model_version(iris, number)
    store.add_metadata("model_version", version.id, {"f1": 0.7})

    assert store.set_stage(iris, number, "staging").stage is ModelStages.STAGING


def test_nested_metadata_and_text_rules(store: MetadataStore) -> None:
    store.create_model("m", gates={"production": ["eval.f1 >= 0.8", "framework == sklearn"]})
    torch = _version(store, "m", eval={"f1": 0.9}, framework="torch")
    weak = _version(store, "m", eval={"f1": 0.7}, framework="sklearn")
    good = _version(store, "m", eval={"f1": 0.81}, framework="sklearn")

    with pytest.raises(PromotionBlockedError, match="it is 'torch', not 'sklearn'"):
        store.set_stage("m", torch, "production")
    with pytest.raises(PromotionBlockedError, match="eval.f1 >= 0.8: it is 0.7"):
        store.set_stage("m", weak, "production")
    assert store.set_stage("m", good, "production").stage is ModelStages.PRODUCTION


def test_ungated_stages_and_rollback_are_not_checked(store: MetadataStore, iris: str) -> None:
    good = _version(store, iris, accuracy=0.95)
    better = _version(store, iris, accuracy=0.99)
    store.set_stage(iris, good, "production")
    store.set_stage(iris, better, "production", force=True)
    store.set_stage(iris, good, "archived")  # archived has no gates

    # Rolling back is the way out of a bad release: it does not ask version 1 to beat version 2.
    restored = store.rollback_stage(iris, "production", reason="v2 broke prod")

    assert restored.number == good
    assert _stages(store, iris)[good] == "production"
