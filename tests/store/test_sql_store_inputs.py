"""Inputs only the SQL store sees as given: over HTTP the server fills them in (the actor of a
stage change is the token's owner), so these run on the SQL backends only."""

from __future__ import annotations

import pytest

from modelplane.errors import InvalidInputError
from modelplane.metadata.store import MetadataStore


def test_a_stage_change_actor_must_be_a_name(sql_store: MetadataStore) -> None:
    sql_store.create_model("iris")
    sql_store.create_model_version("iris")

    with pytest.raises(InvalidInputError, match="actor"):
        sql_store.set_stage("iris", 1, "staging", actor="")
    with pytest.raises(InvalidInputError, match="actor"):
        sql_store.rollback_stage("iris", "staging", actor="a" * 300)
    assert sql_store.list_stage_changes("iris").total == 0


def test_the_actor_is_recorded_as_given(sql_store: MetadataStore) -> None:
    sql_store.create_model("iris")
    sql_store.create_model_version("iris")

    sql_store.set_stage("iris", 1, "staging", actor="ci-bot")

    assert sql_store.list_stage_changes("iris").items[0].actor == "ci-bot"
