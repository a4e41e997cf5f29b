"""The reference page's "promote if better" flow with the rule on the model instead of in the
step: the promote step just calls set_stage(force=True), and the store refuses a worse version.

A refusal inside a step is not the step's failure (issue 10 item 7): the run completes, the
version it trained stays, the run's output warns naming the gate, and the stage history records
the refusal. Outside a step, set_stage still raises."""

from __future__ import annotations

import logging

import pytest

from modelplane import Model, get_step_context, pipeline, step
from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import PromotionBlockedError


@step
def evaluate(accuracy: float) -> float:
    get_step_context().model.log_metadata({"accuracy": accuracy})
    return accuracy


@step
def promote(accuracy: float) -> None:
    get_step_context().model.set_stage("production", force=True)


@pipeline(enable_cache=False, model=Model(name="gated_iris", delete_new_version_on_failure=True))
def train_and_promote(accuracy: float = 0.9) -> None:
    promote(evaluate(accuracy))


def test_a_worse_model_is_kept_out_of_production_by_the_gate(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    client.create_model("gated_iris", gates={"production": ["accuracy >= current"]})

    train_and_promote(accuracy=0.93)
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        refused_run = train_and_promote(accuracy=0.88)
    train_and_promote(accuracy=0.95)

    assert refused_run.status is ExecutionStatus.COMPLETED
    warning = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "Step 'promote'" in warning
    assert "accuracy >= current: it is 0.88, not >= 0.93 (version 1, now in production)" in warning
    assert "modelplane model version history gated_iris 2" in warning
    # Version 2 was trained and refused: it stays, with its metrics, out of production.
    versions = {v.number: v for v in client.list_model_versions("gated_iris").items}
    assert {n: v.stage.value for n, v in versions.items()} == {
        1: "archived", 2: "none", 3: "production"
    }
    assert versions[2].metadata == {"accuracy": 0.88}
    history = [
        (c.version_number, c.to_stage.value, c.kind)
        for c in client.list_stage_changes("gated_iris").items
    ]
    assert history == [
        (3, "production", "move"),
        (1, "archived", "move"),
        (2, "production", "refused"),
        (1, "production", "move"),
    ]
    refusal = client.list_stage_changes("gated_iris", version=2).items[0]
    assert refusal.reason is not None and refusal.reason.startswith("accuracy >= current: it is 0.88")
    # The refusal held no stage: rolling production back skips it and returns to version 1.
    assert client.rollback_stage("gated_iris", "production").number == 1


def test_set_stage_outside_a_step_still_raises_and_records_the_refusal(client: Client) -> None:
    client.create_model("gated_iris", gates={"production": ["accuracy >= 0.99"]})
    train_and_promote(accuracy=0.9)  # version 1, refused in its step

    with pytest.raises(PromotionBlockedError, match="accuracy >= 0.99: it is 0.9"):
        client.set_stage("gated_iris", 1, "production", force=True)
    with pytest.raises(PromotionBlockedError):
        Model(name="gated_iris", version=1).set_stage("production", force=True)

    kinds = [c.kind for c in client.list_stage_changes("gated_iris", version=1).items]
    assert kinds == ["refused", "refused", "refused"]
    assert client.get_model_version("gated_iris", 1).stage.value == "none"
