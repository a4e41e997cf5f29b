"""The reference page's "promote if better" flow with the rule on the model instead of in the
step: the promote step just calls set_stage(force=True), and the store refuses a worse version."""

from __future__ import annotations

import pytest

from modelplane import Model, get_step_context, pipeline, step
from modelplane.client import Client
from modelplane.errors import PromotionBlockedError, StepFailedError


@step
def evaluate(accuracy: float) -> float:
    get_step_context().model.log_metadata({"accuracy": accuracy})
    return accuracy


@step
def promote(accuracy: float) -> None:
    get_step_context().model.set_stage("production", force=True)


@pipeline(enable_cache=False, model=Model(name="gated_iris"))
def train_and_promote(accuracy: float = 0.9) -> None:
    promote(evaluate(accuracy))


def test_a_worse_model_is_kept_out_of_production_by_the_gate(client: Client) -> None:
    client.create_model("gated_iris", gates={"production": ["accuracy >= current"]})

    train_and_promote(accuracy=0.93)
    with pytest.raises(StepFailedError, match="promote") as caught:
        train_and_promote(accuracy=0.88)
    train_and_promote(accuracy=0.95)

    assert isinstance(caught.value.__cause__, PromotionBlockedError)
    assert "not >= 0.93 (version 1, now in production)" in str(caught.value.__cause__)
    stages = {v.number: v.stage.value for v in client.list_model_versions("gated_iris").items}
    # Version 2's run failed, so its new version went (delete_new_version_on_failure's default).
    assert stages == {1: "archived", 3: "production"}
    history = [(c.version_number, c.to_stage.value) for c in client.list_stage_changes("gated_iris").items]
    assert history == [(3, "production"), (1, "archived"), (1, "production")]
