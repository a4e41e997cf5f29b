"""Contract: a running step's logs grow as it runs (``append_step_logs``), and its end has the last word."""

from __future__ import annotations

import pytest

from modelplane.enums import ExecutionStatus
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MetadataStore


def test_appended_logs_are_readable_while_the_step_runs(store: MetadataStore, run: RunRecord) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    assert store.get_step_logs(step.id) == ""

    store.append_step_logs(step.id, "epoch 1\n")
    store.append_step_logs(step.id, "epoch 2 — ünïcode\n")
    store.append_step_logs(step.id, "")

    assert store.get_step_logs(step.id) == "epoch 1\nepoch 2 — ünïcode\n"
    assert store.get_step_run(step.id).status is ExecutionStatus.RUNNING


def test_the_end_of_the_step_replaces_what_was_appended(store: MetadataStore, run: RunRecord) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    store.append_step_logs(step.id, "epoch 1\n")
    store.complete_step_run(step.id, logs="epoch 1\nepoch 2\n")
    assert store.get_step_logs(step.id) == "epoch 1\nepoch 2\n"


def test_appending_to_an_ended_step_changes_nothing(store: MetadataStore, run: RunRecord) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    store.finish_step_run(step.id, status=ExecutionStatus.FAILED, logs="all of it\n", error="boom")

    store.append_step_logs(step.id, "a late flush\n")

    assert store.get_step_logs(step.id) == "all of it\n"


def test_appending_to_an_unknown_step_run_names_it(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="no-such-step"):
        store.append_step_logs("no-such-step", "text")


def test_appended_logs_must_be_text(store: MetadataStore, run: RunRecord) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    with pytest.raises(InvalidInputError, match="text"):
        store.append_step_logs(step.id, 5)  # type: ignore[arg-type]
    assert store.get_step_logs(step.id) == ""
