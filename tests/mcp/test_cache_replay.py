"""Re-running an identical training leaves the new version as the first run left its own (issue 10
item 9): cached steps' metadata and stage moves are repeated, the run says which steps came from
the cache, and the cache key covers the helpers a step calls."""

from __future__ import annotations

import importlib.util
import logging
import textwrap
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus

TRAINING = '''
from typing import Annotated
from modelplane import Model, get_step_context, pipeline, step

THRESHOLD = {threshold}

def scale(x):
    return x * {factor}

@step
def train(n: int = 3) -> Annotated[float, "auc"]:
    auc = scale(n) / 10
    model = get_step_context().model
    model.log_metadata({{"auc": auc, "eval": {{"n": n}}}})
    if auc > THRESHOLD:
        model.set_stage("production", force=True)
    return auc

@pipeline(model=Model(name="churn"))
def training(n: int = 3):
    train(n=n)
'''


def _load(tmp_path: Path, name: str, *, factor: int = 3, threshold: float = 0.5):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(TRAINING.format(factor=factor, threshold=threshold)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _status(client: Client, run_id: str) -> ExecutionStatus:
    return client.list_step_runs(run_id)[0].status


def test_a_cached_training_leaves_the_new_version_as_the_first_run_left_its_own(
    tmp_path: Path, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    module = _load(tmp_path, "training_a")
    module.training()
    with caplog.at_level(logging.INFO, logger="modelplane"):
        second = module.training()

    assert _status(client, second.id) is ExecutionStatus.CACHED
    assert any("Step 'train' came from the cache" in r.getMessage() for r in caplog.records)
    versions = {v.number: v for v in client.list_model_versions("churn").items}
    assert versions[2].metadata == versions[1].metadata == {"auc": 0.9, "eval": {"n": 3}}
    # The promotion the first run made is made again, through the normal path: 2 replaces 1.
    assert {n: v.stage.value for n, v in versions.items()} == {1: "archived", 2: "production"}
    assert client.list_stage_changes("churn").items[0].version_number == 2


def test_a_cached_promotion_the_gates_refuse_is_a_warning_not_a_failure(
    tmp_path: Path, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    module = _load(tmp_path, "training_b")
    module.training()
    client.update_model("churn", gates={"production": ["auc > current"]})
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        second = module.training()

    assert second.status is ExecutionStatus.COMPLETED
    assert _status(client, second.id) is ExecutionStatus.CACHED
    assert any("auc > current" in r.getMessage() and "from the cache" in r.getMessage() for r in caplog.records)
    version = client.get_model_version("churn", 2)
    assert version.metadata["auc"] == 0.9 and version.stage.value == "none"
    assert client.list_stage_changes("churn", version=2).items[0].kind == "refused"


@pytest.mark.parametrize("change", [{"factor": 4}, {"threshold": 0.95}])
def test_an_edited_helper_or_constant_misses_the_cache(
    tmp_path: Path, client: Client, change: dict
) -> None:
    _load(tmp_path, "training_c").training()
    run = _load(tmp_path, "training_c", **change).training()

    assert _status(client, run.id) is ExecutionStatus.COMPLETED
