"""A listing's ``Page`` is a sequence of its items on every backend, and still the same record."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from modelplane.metadata.records import ModelRecord, Page
from modelplane.metadata.store import MetadataStore


def test_a_page_iterates_counts_and_indexes_its_items(store: MetadataStore) -> None:
    for name in ("a", "b", "c"):
        store.create_model(name)

    page = store.list_models(limit=2)

    assert [model.name for model in page] == ["a", "b"]
    assert len(page) == 2 and page.total == 3
    assert page[0].name == "a" and page[-1].name == "b"
    assert [model.name for model in page[:1]] == ["a"]
    assert page.items[1] in page
    assert list(reversed(page)) == page.items[::-1]
    assert not store.list_models(name="nothing-matches")


def test_a_page_keeps_its_json_and_equality(store: MetadataStore) -> None:
    store.create_model("a")
    page = store.list_models()

    data = page.model_dump(mode="json")
    assert set(data) == {"items", "total", "limit", "offset"}
    again = TypeAdapter(Page[ModelRecord]).validate_json(page.model_dump_json())
    assert again == page and isinstance(again.items[0], ModelRecord)
    with pytest.raises(TypeError, match="TypeAdapter"):  # the class alone does not know the items
        Page[ModelRecord].model_validate_json(page.model_dump_json())
    assert again != page.model_copy(update={"total": 2})
