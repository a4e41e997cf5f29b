"""The plan a Ray worker receives carries the user's step code, even from modules the worker cannot
import, and no live client; a fresh process with neither the module nor the driver's client runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import PipelineRunError
from modelplane.execution import orchestrator as orchestrators
from modelplane.execution.plan import RunPlan, StepFailure
from modelplane.execution.ray_payload import dump_outcome, dump_plan, load_outcome, modules_shipped_by_value
from modelplane.execution.step_runner import StepOutcome

PROJECT_MODULE = '''
from typing import Annotated

from modelplane import Model, get_step_context, pipeline, step
from modelplane.artifacts.external_artifact import ExternalArtifact


class Scaler:
    def __init__(self, factor):
        self.factor = factor


SCALER = Scaler(3)


class ProjectError(Exception):
    pass


@step
def scale(x: int, blob: bytes) -> Annotated[int, "scaled"]:
    if x < 0:
        raise ProjectError("negative")
    context = get_step_context()
    print("model", context.model.name, context.model.number, len(blob))
    return x * SCALER.factor


def build(blob: bytes):
    @pipeline(model=Model(name="payload_model"), enable_cache=False, orchestrator="capture")
    def shipped(x: int = 5):
        scale(x=x, blob=ExternalArtifact(value=blob))

    return shipped
'''

WORKER = """
import sys
from pathlib import Path

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.execution.ray_payload import dump_outcome, load_plan
from modelplane.execution.step_runner import run_step

client = Client(load_settings())
plan = load_plan(Path(sys.argv[1]).read_bytes(), client)
assert "{module}" not in sys.modules
outcome = run_step(client, plan, "scale", {{}})
Path(sys.argv[2]).write_bytes(dump_outcome(outcome))
"""


class CaptureOrchestrator:
    """Builds the real plan through the launcher, and keeps it instead of running it."""

    name = "capture"
    plans: list[RunPlan] = []

    def check(self, client: Client) -> None:
        return None

    def execute(self, plan: RunPlan, client: Client) -> None:
        self.plans.append(plan)
        return None


@pytest.fixture
def project_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a module
    name = f"project_steps_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(PROJECT_MODULE))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(orchestrators.ORCHESTRATORS, "capture", (f"{__name__}:CaptureOrchestrator", None))
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


def test_worker_without_the_module_runs_the_step(project_module, client: Client, tmp_path: Path) -> None:
    blob = b"x" * 3_000_000
    CaptureOrchestrator.plans.clear()
    project_module.build(blob)(x=5)
    (plan,) = CaptureOrchestrator.plans
    assert modules_shipped_by_value(plan) == [project_module]
    data = dump_plan(plan)
    assert len(data) < len(blob)  # the external value was saved at start, not shipped again
    assert project_module.__name__ not in __import__("cloudpickle").list_registry_pickle_by_value()

    plan_file, outcome_file = tmp_path / "plan.bin", tmp_path / "outcome.bin"
    plan_file.write_bytes(data)
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER.format(module=project_module.__name__))
    result = subprocess.run(
        [sys.executable, str(worker), str(plan_file), str(outcome_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "model payload_model 1 3000000" in result.stdout
    outcome = load_outcome(outcome_file.read_bytes())
    assert outcome.status is ExecutionStatus.COMPLETED
    assert client.load_artifact(outcome.outputs["scaled"]) == 15
    (step_run,) = client.list_step_runs(plan.run.id)
    assert step_run.source_hash == plan.graph.nodes["scale"].step.source_hash  # same cache key as on the driver
    links = client.list_artifact_links("payload_model", 1, name="scaled").items
    assert [link.artifact_version.id for link in links] == [outcome.outputs["scaled"]]


def test_user_exception_comes_back_as_the_drivers_class(project_module, client: Client, tmp_path: Path) -> None:
    CaptureOrchestrator.plans.clear()
    project_module.build(b"")(x=-1)
    (plan,) = CaptureOrchestrator.plans
    plan_file, outcome_file = tmp_path / "plan.bin", tmp_path / "outcome.bin"
    plan_file.write_bytes(dump_plan(plan))
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER.format(module=project_module.__name__))
    result = subprocess.run(
        [sys.executable, str(worker), str(plan_file), str(outcome_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = load_outcome(outcome_file.read_bytes())
    assert outcome.status is ExecutionStatus.FAILED
    assert isinstance(outcome.failure.error, project_module.ProjectError)
    assert "ProjectError: negative" in outcome.failure.traceback


def test_unpicklable_exception_still_reports_its_text() -> None:
    class Unpicklable(Exception):
        def __reduce__(self):  # noqa: ANN204
            raise TypeError("no pickling")

    failure = StepFailure("step_a", Unpicklable("bad thing"), "Traceback …\nUnpicklable: bad thing")
    loaded = load_outcome(dump_outcome(StepOutcome("step_a", ExecutionStatus.FAILED, {}, failure)))
    assert isinstance(loaded.failure.error, PipelineRunError)
    assert "Unpicklable: bad thing" in str(loaded.failure.error)
    assert loaded.failure.traceback.endswith("Unpicklable: bad thing")
