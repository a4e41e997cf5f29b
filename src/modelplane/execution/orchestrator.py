"""Orchestrators decide where and when each step runner is called; ``local`` runs in-process."""

from __future__ import annotations

from typing import Any, Protocol

from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import ConfigError
from modelplane.execution.plan import RunPlan, StepFailure
from modelplane.execution.step_runner import run_step
from modelplane.plugins import entry_point_plugins, import_object

__all__ = ["ORCHESTRATORS", "LocalOrchestrator", "Orchestrator", "get_orchestrator"]

# Built-in orchestrators by name, imported on first use (third parties add entry points
# in the ``modelplane.orchestrators`` group).
ORCHESTRATORS = {
    "local": ("modelplane.execution.orchestrator:LocalOrchestrator", None),
    "ray": ("modelplane.execution.ray:RayOrchestrator", "ray"),
}


class Orchestrator(Protocol):
    name: str

    def check(self, client: Client) -> None:
        """Fail before the run starts when this orchestrator cannot work with these stores."""

    def execute(self, plan: RunPlan, client: Client) -> StepFailure | None:
        """Run every step whose upstream succeeded; return the first failure, if any."""


class LocalOrchestrator:
    """Runs the steps one after another in this process, in topological order."""

    name = "local"

    def check(self, client: Client) -> None:
        return None

    def execute(self, plan: RunPlan, client: Client) -> StepFailure | None:
        outputs: dict[str, dict[str, str]] = {}
        for node_id in plan.graph.topological_order():
            outcome = run_step(client, plan, node_id, outputs)
            if outcome.status is ExecutionStatus.FAILED:
                return outcome.failure
            outputs[node_id] = outcome.outputs
        return None


def get_orchestrator(name: str, **options: Any) -> Orchestrator:
    known = {key: value for key, value in ORCHESTRATORS.items()}
    if name not in known:  # a built-in wins over a plugin of its name: no need to look for one
        for plugin, path in entry_point_plugins("orchestrators").items():
            known.setdefault(plugin, (path, None))
    if name not in known:
        raise ConfigError(
            f"Unknown orchestrator {name!r}.", hint=f"Use one of: {', '.join(sorted(known))}."
        )
    path, extra = known[name]
    cls = import_object(path, extra=extra)
    return cls(**options)
