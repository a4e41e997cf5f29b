"""A step is skipped when code, parameters and inputs match a finished step run whose outputs exist."""

from __future__ import annotations

import textwrap
from pathlib import Path

from modelplane.client import Client
from modelplane.enums import ExecutionStatus

PIPELINE_TEMPLATE = '''
from modelplane import pipeline, step

CALLS = []

@step
def source(n: int = 1) -> int:
    CALLS.append("source")
    return n

@step
def square(x: int) -> int:
    CALLS.append("square")
    return x * x{extra}

@pipeline
def cached_pipeline(n: int = 3):
    square(source(n=n))
'''


def _load(tmp_path: Path, extra: str = "", name: str = "cached_mod"):
    """A fresh module holding the pipeline, so a test can change the step's code between runs."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(PIPELINE_TEMPLATE.format(extra=extra)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _statuses(client: Client, run_id: str) -> dict[str, ExecutionStatus]:
    return {s.name: s.status for s in client.list_step_runs(run_id)}


def test_second_identical_run_is_served_from_cache(tmp_path: Path, client: Client, orchestrator: str) -> None:
    module = _load(tmp_path)
    pipe = module.cached_pipeline.with_options(orchestrator=orchestrator)
    first = pipe()
    second = pipe()
    assert _statuses(client, first.id) == {"source": ExecutionStatus.COMPLETED, "square": ExecutionStatus.COMPLETED}
    assert _statuses(client, second.id) == {"source": ExecutionStatus.CACHED, "square": ExecutionStatus.CACHED}
    cached = {s.name: s for s in client.list_step_runs(second.id)}
    original = {s.name: s for s in client.list_step_runs(first.id)}
    assert cached["square"].outputs == original["square"].outputs
    assert cached["square"].cached_from == original["square"].id
    if orchestrator == "local":
        assert module.CALLS == ["source", "square"]


def test_parameter_change_misses_downstream_too(tmp_path: Path, client: Client) -> None:
    module = _load(tmp_path)
    module.cached_pipeline(n=3)
    run = module.cached_pipeline(n=4)
    assert _statuses(client, run.id) == {"source": ExecutionStatus.COMPLETED, "square": ExecutionStatus.COMPLETED}
    assert client.load_artifact(client.list_step_runs(run.id)[-1].outputs["output"]) == 16


def test_code_change_misses_only_that_step(tmp_path: Path, client: Client) -> None:
    _load(tmp_path).cached_pipeline()
    changed = _load(tmp_path, extra="  # changed", name="cached_mod_changed")
    run = changed.cached_pipeline()
    assert _statuses(client, run.id) == {"source": ExecutionStatus.CACHED, "square": ExecutionStatus.COMPLETED}


def test_input_change_misses(tmp_path: Path, client: Client) -> None:
    module = _load(tmp_path)
    module.cached_pipeline(n=2)
    module.source.enable_cache = False  # source now writes a new artifact version on every run
    run = module.cached_pipeline(n=2)
    statuses = _statuses(client, run.id)
    assert statuses["source"] is ExecutionStatus.COMPLETED
    assert statuses["square"] is ExecutionStatus.COMPLETED  # same value, but a different input version


def test_deleted_artifact_is_not_reused(tmp_path: Path, client: Client) -> None:
    module = _load(tmp_path)
    first = module.cached_pipeline()
    square_output = {s.name: s for s in client.list_step_runs(first.id)}["square"].outputs["output"]
    client.delete_artifact_version(square_output)
    run = module.cached_pipeline()
    assert _statuses(client, run.id) == {"source": ExecutionStatus.CACHED, "square": ExecutionStatus.COMPLETED}
    assert client.load_artifact(client.list_step_runs(run.id)[-1].outputs["output"]) == 9


def test_cache_can_be_turned_off_per_pipeline_and_per_step(tmp_path: Path, client: Client) -> None:
    module = _load(tmp_path)
    module.cached_pipeline()
    run = module.cached_pipeline.with_options(enable_cache=False)()
    assert set(_statuses(client, run.id).values()) == {ExecutionStatus.COMPLETED}
    module.square.enable_cache = False
    run = module.cached_pipeline()
    assert _statuses(client, run.id) == {"source": ExecutionStatus.CACHED, "square": ExecutionStatus.COMPLETED}
