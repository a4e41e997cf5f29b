"""log_metrics: series logged from steps (on every orchestrator) and from outside, read back
through the Client and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from modelplane import Model, get_step_context, log_metrics, pipeline, step
from modelplane.cli import main
from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import InvalidInputError, StepFailedError


@step(enable_cache=False)
def train(epochs: int) -> int:
    for epoch in range(epochs):
        log_metrics({"loss": 1.0 / (epoch + 1), "acc": np.float32(0.5 + epoch / 10)})
    log_metrics({"lr": 0.01}, step=100)
    log_metrics({"lr": 0.001}, step=200)
    return epochs


@step(enable_cache=False)
def diverge() -> int:
    log_metrics({"loss": 0.5})
    log_metrics({"loss": float("nan")})
    return 0


@pipeline(model=Model(name="curves"), enable_cache=False)
def training(epochs: int = 5) -> None:
    train(epochs)


@pipeline(model=Model(name="curves", delete_new_version_on_failure=False), enable_cache=False)
def diverging() -> None:
    diverge()


@step(enable_cache=False)
def train_and_promote(final_loss: float) -> float:
    for epoch, loss in enumerate([0.9, 0.6, final_loss]):
        log_metrics({"val_loss": loss}, step=epoch)
    get_step_context().model_version.set_stage("production", force=True)  # gated on val_loss
    return final_loss


@pipeline(model=Model(name="gated_curves"), enable_cache=False)
def gated_training(final_loss: float) -> None:
    train_and_promote(final_loss)


def test_a_promotion_in_a_step_is_gated_on_the_points_the_step_logged_before_it(
    client: Client, orchestrator: str
) -> None:
    client.create_model("gated_curves")
    client.update_model("gated_curves", gates={"production": ["val_loss.min <= 0.5", "val_loss.last <= current"]})
    run = gated_training.with_options(orchestrator=orchestrator)
    run(final_loss=0.4)  # the points are in the store before the gates read them
    assert client.get_model_version("gated_curves", "production").number == 1
    run(final_loss=0.45)  # worse than the holder's 0.4: refused, the run goes on
    run(final_loss=0.3)
    versions = client.list_model_versions("gated_curves").items
    assert [(v.number, v.stage) for v in versions] == [(3, "production"), (2, "none"), (1, "archived")]
    assert [c.kind for c in client.list_stage_changes("gated_curves").items][:3] == ["move", "move", "refused"]


def test_a_step_logs_series_to_its_version_run_and_step_run(client: Client, orchestrator: str) -> None:
    run = training.with_options(orchestrator=orchestrator)(epochs=5)
    series = {s.key: s for s in client.list_metric_series("curves", "latest")}
    assert set(series) == {"loss", "acc", "lr"}
    assert (series["loss"].count, series["loss"].last, series["loss"].last_step) == (5, 0.2, 4)
    assert series["acc"].max == pytest.approx(0.9)
    assert (series["lr"].last, series["lr"].last_step) == (0.001, 200)
    points = client.get_metric_history("curves", "latest", "loss")
    assert [p.step for p in points] == [0, 1, 2, 3, 4]
    (step_run,) = client.list_step_runs(run.id)
    assert {p.run_id for p in points} == {run.id} and {p.step_run_id for p in points} == {step_run.id}


def test_a_refused_value_fails_the_step_naming_the_key_and_keeps_earlier_points(
    client: Client, orchestrator: str
) -> None:
    with pytest.raises(StepFailedError, match="'loss' is nan"):
        diverging.with_options(orchestrator=orchestrator)()
    run = client.list_runs(limit=1).items[0]
    assert run.status is ExecutionStatus.FAILED
    kept = client.get_metric_history("curves", "latest", "loss")
    assert [(p.step, p.value) for p in kept] == [(0, 0.5)]


def test_outside_a_step_name_the_version_and_the_series_goes_on(client: Client) -> None:
    training(epochs=3)
    log_metrics({"loss": 0.1}, model_name="curves")
    log_metrics({"loss": 0.05, "test_auc": 0.93}, model_name="curves", model_version="latest")
    loss = client.get_metric_history("curves", "latest", "loss")
    assert [(p.step, p.value) for p in loss][-2:] == [(3, 0.1), (4, 0.05)]
    assert client.get_metric_history("curves", 1, "test_auc")[0].step == 0
    run = client.list_runs(limit=1).items[0]
    log_metrics({"throughput": 12.5}, run_id=run.name, step=7)
    with pytest.raises(InvalidInputError, match="needs a target"):
        log_metrics({"loss": 1.0})
    for bad, words in (({"ok": True}, "'ok' is bool"), ({"x": "1"}, "not a number"), ({"x": float("inf")}, "'x' is inf")):
        with pytest.raises(InvalidInputError, match=words):
            log_metrics(bad, model_name="curves")
    with pytest.raises(InvalidInputError, match="step"):
        log_metrics({"x": 1.0}, model_name="curves", step=-1)


def test_the_cli_shows_each_series_and_its_points(client: Client) -> None:
    training(epochs=3)
    runner = CliRunner()
    table = runner.invoke(main, ["model", "version", "metrics", "curves", "latest"])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["KEY", "POINTS", "LAST", "AT", "STEP", "MIN", "MAX"]
    assert [line.split()[:2] for line in lines[2:]] == [["acc", "3"], ["loss", "3"], ["lr", "2"]]
    data = json.loads(runner.invoke(main, ["model", "version", "metrics", "curves", "1", "loss", "-o", "json"]).stdout)
    assert [s["key"] for s in data["series"]] == ["loss"]
    assert [p["step"] for p in data["series"][0]["points"]] == [0, 1, 2]
    missing = runner.invoke(main, ["model", "version", "metrics", "curves", "1", "nope"])
    assert missing.exit_code == 2 and "it has acc, loss, lr" in missing.stderr


@step
def cached_train(epochs: int) -> int:
    for epoch in range(epochs):
        log_metrics({"loss": 1.0 / (epoch + 1)})
    return epochs


@pipeline(model=Model(name="cached_curves"))
def cached_training(epochs: int = 4) -> None:
    cached_train(epochs)


def test_a_cache_hit_gives_the_new_version_the_curves_of_the_first_run(client: Client, orchestrator: str) -> None:
    first = cached_training.with_options(orchestrator=orchestrator)()
    second = cached_training.with_options(orchestrator=orchestrator)()
    (hit,) = client.list_step_runs(second.id)
    assert hit.status is ExecutionStatus.CACHED
    versions = client.list_model_versions("cached_curves", sort="number").items
    assert [v.number for v in versions] == [1, 2]
    original = [(p.step, p.value) for p in client.get_metric_history("cached_curves", 1, "loss")]
    replayed = client.get_metric_history("cached_curves", 2, "loss")
    assert [(p.step, p.value) for p in replayed] == original and len(original) == 4
    assert {(p.run_id, p.step_run_id) for p in replayed} == {(second.id, hit.id)}
    assert first.id != second.id
