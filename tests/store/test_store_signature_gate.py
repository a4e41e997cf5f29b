"""Contract: the ``signature compatible`` promotion gate, checked in the stage move, on every backend."""

from __future__ import annotations

import pytest

from modelplane.enums import ArtifactType
from modelplane.errors import InvalidInputError, PromotionBlockedError
from modelplane.metadata.store import MetadataStore
from modelplane.signatures import declared
from tests.store.state import ArtifactFactory


def _version_with_model(
    store: MetadataStore, make_artifact: ArtifactFactory, columns: dict[str, str] | None
) -> int:
    version = store.create_model_version("churn")
    metadata = {"input_signature": declared(columns)} if columns is not None else {}
    artifact = make_artifact("classifier", type=ArtifactType.MODEL, metadata=metadata)
    store.link_artifact(version.id, artifact.id, name="classifier", kind=ArtifactType.MODEL)
    return version.number


@pytest.fixture
def gated(store: MetadataStore) -> str:
    store.create_model("churn", gates={"production": ["signature  compatible"]})
    return "churn"


def test_the_gate_is_stored_in_its_canonical_spelling(store: MetadataStore, gated: str) -> None:
    assert store.get_model(gated).gates == {"production": ["signature compatible"]}
    with pytest.raises(InvalidInputError, match="cannot be read"):
        store.create_model("other", gates={"production": ["signature compatible please"]})


def test_a_version_that_needs_a_column_the_holders_clients_do_not_send_is_refused(
    store: MetadataStore, gated: str, make_artifact: ArtifactFactory
) -> None:
    first = _version_with_model(store, make_artifact, {"age": "int64", "income": "float64"})
    store.set_stage(gated, first, "production")  # nothing held production: nothing to break

    # Fewer columns, an int column now read as float: every old request still fits.
    fits = _version_with_model(store, make_artifact, {"income": "float64", "age": "float64"})
    assert store.set_stage(gated, fits, "production", force=True).stage == "production"

    needs_more = _version_with_model(store, make_artifact, {"age": "float64", "tenure": "int64"})
    with pytest.raises(PromotionBlockedError, match="'tenure'") as refused:
        store.set_stage(gated, needs_more, "production", force=True)
    assert "version 2, now in production" in str(refused.value)
    assert store.get_model_version(gated, "production").number == fits
    assert store.get_model_version(gated, needs_more).stage == "none"
    history = store.list_stage_changes(gated).items
    assert history[0].version_number == needs_more and history[0].kind == "refused"

    text_now = _version_with_model(store, make_artifact, {"age": "object", "income": "float64"})
    with pytest.raises(PromotionBlockedError, match="column 'age' is object here but float64"):
        store.set_stage(gated, text_now, "production", force=True)


def test_a_version_without_a_signature_cannot_pass_the_gate(
    store: MetadataStore, gated: str, make_artifact: ArtifactFactory
) -> None:
    unknown = _version_with_model(store, make_artifact, None)
    with pytest.raises(PromotionBlockedError, match="has no input signature"):
        store.set_stage(gated, unknown, "production")
