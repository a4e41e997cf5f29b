"""A value of the wrong type is ``InvalidInputError`` naming the argument on every backend: on SQL
by the store's own checks, over HTTP by the route's types (``server/routes/wire.py``)."""

from __future__ import annotations

import pytest

from modelplane.errors import InvalidInputError
from modelplane.metadata.store import MetadataStore

from tests.store.state import snapshot


@pytest.mark.parametrize("wrong", [None, 5, {"a": 1}])
def test_tags_that_are_not_a_list_are_refused_naming_what_to_pass(
    store: MetadataStore, wrong: object
) -> None:
    store.create_model("iris")
    store.create_model_version("iris")
    before = snapshot(store)

    with pytest.raises(InvalidInputError, match="list of strings"):
        store.create_model("other", tags=wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="list of strings"):
        store.update_model("iris", add_tags=wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="list of strings"):
        store.create_model_version("iris", tags=wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="list of strings"):
        store.ensure_model_version("iris", None, tags=wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="list of strings"):
        store.update_model_version("iris", 1, remove_tags=wrong)  # type: ignore[arg-type]
    assert snapshot(store) == before


@pytest.mark.parametrize("limit", [0, -1])
def test_a_page_limit_below_one_names_the_limit(store: MetadataStore, limit: int) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        store.list_models(limit=limit)
