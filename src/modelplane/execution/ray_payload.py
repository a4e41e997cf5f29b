"""What a Ray worker receives and sends back: the pickled run plan with the user's step code, and
the step's outcome.

Step functions from modules the workers may not have (a project folder, a test, a script's
neighbour) travel by value: each module that defines a step or an output materializer and is not
installed (it lives outside site-packages and the standard library) is registered with cloudpickle
for the dump. Every ``Client`` in the plan (a bound ``Model`` holds one) is replaced by the worker's
own ``Client``, built from the run's ``Settings``, so no live engine or connection is pickled.
``ExternalArtifact`` values stay behind: the launcher saved them at run start.

This module does not import Ray, so it can be tested without a cluster.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import site
import sys
import sysconfig
import threading
from types import ModuleType
from typing import Any

import cloudpickle

from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import PipelineRunError
from modelplane.execution.plan import RunPlan, StepFailure
from modelplane.execution.step_runner import StepOutcome

__all__ = ["dump_outcome", "dump_plan", "load_outcome", "load_plan", "modules_shipped_by_value"]

_CLIENT_ID = "modelplane:client"
_EXTERNAL_ID = "modelplane:external-artifact"
# cloudpickle's by-value registry is process-wide: one dump at a time changes it.
_REGISTRY_LOCK = threading.Lock()


class _PlanPickler(cloudpickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:  # noqa: D102 - pickle protocol hook
        if isinstance(obj, Client):
            return _CLIENT_ID
        if isinstance(obj, ExternalArtifact):
            return _EXTERNAL_ID
        return None


class _PlanUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, client: Client) -> None:
        super().__init__(io.BytesIO(data))
        self._client = client

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102 - pickle protocol hook
        if pid == _CLIENT_ID:
            return self._client
        if pid == _EXTERNAL_ID:
            return None  # the step runner reads the resolved id from plan.externals
        raise pickle.UnpicklingError(f"Unknown persistent id {pid!r} in a modelplane run plan.")


@functools.cache
def _installed_roots() -> tuple[str, ...]:
    roots = set(site.getsitepackages()) | {site.getusersitepackages()}
    paths = sysconfig.get_paths()
    roots |= {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return tuple(sorted(os.path.realpath(root) + os.sep for root in roots if root))


def _is_project_module(module: ModuleType) -> bool:
    """True for a module that only this machine may have: not installed, not part of modelplane."""
    name = module.__name__
    top = name.partition(".")[0]
    if name == "__main__" or top == "modelplane" or top in sys.stdlib_module_names:
        return False  # cloudpickle already ships __main__ by value
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = os.path.realpath(file)
    return not path.startswith(_installed_roots())


def modules_shipped_by_value(plan: RunPlan) -> list[ModuleType]:
    """The project modules whose steps and materializers travel inside the pickled plan."""
    names: set[str] = set()
    for node in plan.graph.nodes.values():
        step = node.step
        names.add(getattr(step.func, "__module__", None) or "")
        for materializer in getattr(step, "output_materializers", {}).values():
            names.add(getattr(materializer, "__module__", None) or "")
    modules = [sys.modules[name] for name in sorted(names) if name in sys.modules]
    return [module for module in modules if _is_project_module(module)]


def dump_plan(plan: RunPlan) -> bytes:
    """The plan as bytes a worker on another machine can load with ``load_plan``."""
    for node in plan.graph.nodes.values():
        _ = node.step.source_hash  # hash the source here: a worker may not have the file
    with _REGISTRY_LOCK:
        already = set(cloudpickle.list_registry_pickle_by_value())
        added = [m for m in modules_shipped_by_value(plan) if m.__name__ not in already]
        for module in added:
            cloudpickle.register_pickle_by_value(module)
        buffer = io.BytesIO()
        try:
            _PlanPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(plan)
        except Exception as exc:
            raise PipelineRunError(
                f"The steps of run '{plan.run.name}' cannot be sent to Ray workers: "
                f"{type(exc).__name__}: {exc}.",
                hint="Ray ships each step with cloudpickle: keep open connections, locks and "
                "threads out of module globals and step defaults (create them inside the step).",
            ) from exc
        finally:
            for module in added:
                cloudpickle.unregister_pickle_by_value(module)
    return buffer.getvalue()


def load_plan(data: bytes, client: Client) -> RunPlan:
    """The plan from ``dump_plan``, with every ``Client`` in it replaced by ``client``."""
    plan = _PlanUnpickler(data, client).load()
    if not isinstance(plan, RunPlan):
        raise PipelineRunError(
            f"A Ray worker received {type(plan).__name__} instead of a run plan.",
            hint="Run the same modelplane version on the driver and on every Ray node.",
        )
    return plan


def dump_outcome(outcome: StepOutcome) -> bytes:
    """The outcome as bytes; the user's exception travels pickled when it can."""
    traceback_text = error_bytes = summary = None
    if outcome.failure is not None:
        error = outcome.failure.error
        traceback_text = outcome.failure.traceback
        summary = f"{type(error).__name__}: {error}"
        try:
            error_bytes = cloudpickle.dumps(error)
        except Exception:  # noqa: BLE001 - an unpicklable exception still reports its text
            error_bytes = None
    return pickle.dumps(
        (outcome.node_id, outcome.status.value, dict(outcome.outputs), traceback_text, error_bytes, summary),
        protocol=pickle.HIGHEST_PROTOCOL,
    )


def load_outcome(data: bytes) -> StepOutcome:
    node_id, status, outputs, traceback_text, error_bytes, summary = pickle.loads(data)
    failure = None
    if traceback_text is not None:
        error: Any = None
        if error_bytes is not None:
            try:
                error = pickle.loads(error_bytes)
            except Exception:  # noqa: BLE001 - e.g. the exception's class exists only on the worker
                error = None
        if not isinstance(error, BaseException):
            error = PipelineRunError(
                f"Step '{node_id}' raised {summary}",
                hint="The exception could not be sent back from the Ray worker; its traceback is in the step run.",
            )
        failure = StepFailure(node_id, error, traceback_text)
    return StepOutcome(node_id, ExecutionStatus(status), outputs, failure)
