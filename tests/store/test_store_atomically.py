"""``atomically``: how the SQL store builds one operation out of others, in one transaction.

It is not part of the ``MetadataStore`` protocol (each operation is one call on every backend);
``test_store_lifecycle.py`` holds every backend to the atomicity of the operations built on it.
"""

from __future__ import annotations

import pytest

from modelplane.errors import NotFoundError
from modelplane.metadata.store import MetadataStore


def test_atomically_returns_what_the_work_returns(sql_store: MetadataStore) -> None:
    store = sql_store
    def work(inner: MetadataStore) -> int:
        inner.create_model("first")
        return inner.create_model_version("first").number

    assert store.atomically(work) == 1
    assert store.get_model_version("first", 1).model_name == "first"


def test_a_failure_inside_rolls_back_every_call(sql_store: MetadataStore) -> None:
    def work(inner: MetadataStore) -> None:
        inner.create_model("kept_out")
        inner.create_model_version("kept_out")
        inner.get_model("no_such_model")  # raises: nothing above may stay

    with pytest.raises(NotFoundError, match="no_such_model"):
        sql_store.atomically(work)
    with pytest.raises(NotFoundError):
        sql_store.get_model("kept_out")


def test_nested_blocks_share_the_outer_transaction(sql_store: MetadataStore) -> None:
    def inner_work(inner: MetadataStore) -> None:
        inner.create_model("nested")

    def outer(inner: MetadataStore) -> None:
        inner.atomically(inner_work)
        raise NotFoundError("stop")

    with pytest.raises(NotFoundError):
        sql_store.atomically(outer)
    assert sql_store.list_models().total == 0
