"""Stores Ray workers cannot reach, and task options Ray would refuse, fail at run start with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelplane import pipeline, step
from modelplane.client import Client
from modelplane.config import StepSettings, load_settings
from modelplane.enums import ExecutionStatus
from modelplane.errors import ConfigError

from tests.s3.moto_server import free_port

from .resources import napping_fan_pipeline

pytestmark = pytest.mark.ray

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"  # only named: never opened by these tests


def _nothing_recorded() -> None:
    client = Client(load_settings())
    assert client.list_pipelines().total == 0
    assert client.list_runs().total == 0


def test_named_cluster_refuses_embedded_sqlite_and_local_folder(ray_cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_RAY_ADDRESS", ray_cluster.address)
    with pytest.raises(ConfigError) as caught:
        napping_fan_pipeline(seconds=0.0)
    message = str(caught.value)
    assert "MODELPLANE_STORE_URL is an embedded SQLite file" in message
    assert "MODELPLANE_ARTIFACT_URI is a folder on this machine" in message
    assert f"MODELPLANE_RAY_ADDRESS={ray_cluster.address}" in message
    assert "postgresql" in caught.value.hint and "s3://" in caught.value.hint
    _nothing_recorded()


def test_named_cluster_names_only_the_setting_that_is_wrong(ray_cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("MODELPLANE_STORE_URL", POSTGRES_URL)
    with pytest.raises(ConfigError) as caught:
        napping_fan_pipeline(seconds=0.0)
    assert "MODELPLANE_ARTIFACT_URI is a folder on this machine" in str(caught.value)
    assert "MODELPLANE_STORE_URL" not in caught.value.message


def test_orchestrator_chosen_by_environment_checks_too(ray_cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    @step
    def one() -> int:
        return 1

    @pipeline
    def plain():
        one()

    monkeypatch.setenv("MODELPLANE_ORCHESTRATOR", "ray")
    monkeypatch.setenv("MODELPLANE_RAY_ADDRESS", ray_cluster.address)
    with pytest.raises(ConfigError, match="embedded SQLite"):
        plain()


def test_a_different_cluster_than_the_connected_one_is_refused(ray_cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_RAY_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("MODELPLANE_STORE_URL", POSTGRES_URL)
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", "s3://some-bucket/prefix")
    with pytest.raises(ConfigError, match="already connected to the Ray cluster"):
        napping_fan_pipeline(seconds=0.0)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MODELPLANE_ARTIFACT_URI", "memory://artifacts", "lives in this process's memory"),
        ("MODELPLANE_STORE_URL", "sqlite://", "in-memory SQLite"),
    ],
)
def test_process_local_stores_are_refused_even_on_this_machine(
    ray_cluster, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=expected):
        napping_fan_pipeline(seconds=0.0)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"max_retries": 3}, "max_retries in orchestrator_options"),
        ({"no_such_option": 1}, "Ray refuses the task options of step 'odd'"),
    ],
)
def test_bad_task_options_fail_before_any_step_runs(
    ray_cluster, client: Client, options: dict, expected: str
) -> None:
    @step(settings=StepSettings(orchestrator_options=options))
    def odd() -> int:
        return 1

    @step
    def first() -> int:
        return 0

    @pipeline(orchestrator="ray")
    def with_odd_step():
        first()
        odd()

    with pytest.raises(ConfigError, match=expected):
        with_odd_step()
    run = client.list_runs(pipeline="with_odd_step").items[0]
    assert run.status is ExecutionStatus.FAILED
    assert client.list_step_runs(run.id) == []


UNREACHABLE = """
from modelplane import pipeline, step
from modelplane.errors import ConfigError

@step
def one() -> int:
    return 1

@pipeline(orchestrator="ray")
def lonely():
    one()

try:
    lonely()
except ConfigError as exc:
    print("CONFIG-ERROR", exc)
"""


def test_address_nobody_answers_fails_at_once(ray_cluster, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(
        MODELPLANE_HOME=str(tmp_path / "home"),
        MODELPLANE_RAY_ADDRESS=f"127.0.0.1:{free_port()}",
        MODELPLANE_STORE_URL=POSTGRES_URL,
        MODELPLANE_ARTIFACT_URI="s3://some-bucket/prefix",
    )
    result = subprocess.run([sys.executable, "-c", UNREACHABLE], env=env, capture_output=True, text=True, timeout=120)
    assert "CONFIG-ERROR No Ray cluster answers at MODELPLANE_RAY_ADDRESS=127.0.0.1:" in result.stdout, result.stderr
