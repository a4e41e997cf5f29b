"""The ``ray`` orchestrator: each step is a Ray task that runs the same step runner as ``local``.

Choose it with ``@pipeline(orchestrator="ray")``, ``pipeline.with_options(orchestrator="ray")`` or
``MODELPLANE_ORCHESTRATOR=ray``; ``MODELPLANE_RAY_ADDRESS`` names the cluster (unset: start or join a
Ray on this machine). A step is submitted once every step it depends on has finished, so steps with
no dependency between them run at the same time. ``@step(settings=StepSettings(num_cpus=...,
num_gpus=..., memory=...))`` become the task's resources; ``StepSettings.orchestrator_options`` are
passed to Ray as further task options (``runtime_env``, ``resources``, ``scheduling_strategy``…).

Each task gets the run's ``Settings`` and the pickled plan (``ray_payload``) and builds its own
``Client``: workers talk to the metadata and artifact stores themselves, so the stores must be ones
every node can reach (checked at run start by ``ray_cluster``). Tasks run once (``max_retries=0``):
when a worker dies mid-step, the driver marks that step run failed with the reason, and a rerun
serves the finished steps from the cache. After the first failure no new step starts; the running
ones are waited for, and the first failure is returned.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

import ray

from modelplane.client import Client
from modelplane.config import Settings
from modelplane.enums import ExecutionStatus
from modelplane.errors import ConfigError, ModelplaneError, PipelineRunError
from modelplane.execution import ray_cluster
from modelplane.execution.plan import RunPlan, StepFailure
from modelplane.execution.ray_payload import dump_outcome, dump_plan, load_outcome, load_plan
from modelplane.execution.step_runner import StepOutcome, run_step
from modelplane.metadata.records import StepRunRecord

__all__ = ["RayOrchestrator"]

logger = logging.getLogger("modelplane")

# Task options the orchestrator owns: a retried step would hide a crash and run user code twice.
_RESERVED_OPTIONS = frozenset({"max_retries", "retry_exceptions", "num_returns"})
_FINISHED = (ExecutionStatus.COMPLETED, ExecutionStatus.CACHED)

# -- worker side ---------------------------------------------------------------------------------

# A worker process usually runs several steps of one run: keep the last few plans loaded.
_WORKER_PLANS: collections.OrderedDict[tuple[str, Settings], tuple[Client, RunPlan]] = collections.OrderedDict()
_WORKER_PLANS_KEPT = 4


def _worker_plan(settings: Settings, run_id: str, data: bytes) -> tuple[Client, RunPlan]:
    key = (run_id, settings)
    if key in _WORKER_PLANS:
        _WORKER_PLANS.move_to_end(key)
        return _WORKER_PLANS[key]
    client = Client(settings)
    loaded = (client, load_plan(data, client))
    _WORKER_PLANS[key] = loaded
    while len(_WORKER_PLANS) > _WORKER_PLANS_KEPT:
        _WORKER_PLANS.popitem(last=False)
    return loaded


def modelplane_step(
    settings: Settings, run_id: str, plan_data: bytes, node_id: str, upstream: dict[str, dict[str, str]]
) -> bytes:
    """Runs on a Ray worker: one step through the step runner; returns the pickled outcome."""
    client, plan = _worker_plan(settings, run_id, plan_data)
    return dump_outcome(run_step(client, plan, node_id, upstream))


_remote_step = ray.remote(max_retries=0)(modelplane_step)


# -- driver side ---------------------------------------------------------------------------------


def _task_options(plan: RunPlan, node_id: str) -> dict[str, Any]:
    """Ray options of one step's task, from its ``StepSettings``; ``ConfigError`` if Ray refuses them."""
    settings = plan.graph.nodes[node_id].step.settings
    options: dict[str, Any] = {"max_retries": 0, "name": f"{plan.run.name}/{node_id}"}
    for key in ("num_cpus", "num_gpus", "memory"):
        value = getattr(settings, key)
        if value is not None:
            options[key] = value
    extra = dict(settings.orchestrator_options or {})
    reserved = sorted(_RESERVED_OPTIONS & set(extra))
    if reserved:
        raise ConfigError(
            f"Step '{node_id}' sets {', '.join(reserved)} in orchestrator_options, which the Ray orchestrator "
            "decides itself (each step runs once, so a crash is recorded rather than hidden).",
            hint="Remove it; to retry, rerun the pipeline: finished steps are served from the cache.",
        )
    options.update(extra)
    try:
        _remote_step.options(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Ray refuses the task options of step '{node_id}': {exc}",
            hint="StepSettings takes num_cpus, num_gpus, memory (bytes), and Ray task options such as "
            "runtime_env or resources in orchestrator_options.",
        ) from None
    return options


def _warn_unsatisfiable(options: dict[str, dict[str, Any]]) -> None:
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    for node_id, opts in options.items():
        need = {"CPU": opts.get("num_cpus", 1), "GPU": opts.get("num_gpus", 0), "memory": opts.get("memory", 0)}
        need.update(opts.get("resources") or {})
        if not any(all(res.get(k, 0) >= v for k, v in need.items() if v) for res in nodes):
            wanted = ", ".join(f"{k}={v}" for k, v in need.items() if v)
            logger.warning(
                "Step '%s' asks for %s, more than any node of the Ray cluster has now; it waits until a node "
                "that large joins (an autoscaler may add one). Lower its StepSettings otherwise.",
                node_id,
                wanted,
            )


def _latest_step_run(client: Client, run_id: str, node_id: str) -> StepRunRecord | None:
    records = [record for record in client.list_step_runs(run_id) if record.name == node_id]
    return records[-1] if records else None


def _describe(node_id: str, exc: BaseException) -> tuple[BaseException, str]:
    """The error to report for a task that did not return, and the text to record on its step run."""
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = getattr(exc, "cause", None)
        if isinstance(cause, ModelplaneError):
            return cause, str(exc)
        summary = f"{type(cause).__name__}: {cause}" if isinstance(cause, BaseException) else type(exc).__name__
        error: BaseException = PipelineRunError(
            f"Step '{node_id}' could not run on its Ray worker ({summary}).",
            hint="This failed outside the step's code: check that the worker has the packages the step imports "
            "(or ship them with orchestrator_options={'runtime_env': …}) and can reach the stores.",
        )
        return error, f"{error}\n\n{exc}"
    if isinstance(exc, ray.exceptions.OutOfMemoryError):
        hint = "Give the step more memory (StepSettings(memory=…)) or run it on a larger node, then rerun."
    else:
        hint = (
            "The worker process or its node was killed (out of memory, a crash in native code, a node going "
            "away, or someone stopping it); see the Ray logs of that node. Rerun the pipeline: finished "
            "steps are served from the cache."
        )
    error = PipelineRunError(
        f"The Ray worker running step '{node_id}' stopped before the step finished "
        f"({type(exc).__name__}). Output the step printed before that is in the Ray logs.",
        hint=hint,
    )
    return error, f"{error}\n\n{type(exc).__name__}: {exc}"


class RayOrchestrator:
    """Runs each step as a Ray task; independent steps run in parallel. See the module docstring."""

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address  # None: MODELPLANE_RAY_ADDRESS, else start or join a local Ray

    def _address(self, client: Client) -> str | None:
        return self.address if self.address is not None else client.settings.ray_address

    def check(self, client: Client) -> None:
        """Fail at run start when Ray workers could not reach the stores (see ``ray_cluster``)."""
        ray_cluster.check_process_local_stores(client)
        address = self._address(client)
        named = address not in ray_cluster.LOCAL_ADDRESSES
        if named:
            ray_cluster.require_shared_stores(
                client, f"MODELPLANE_RAY_ADDRESS={address} names a Ray cluster whose workers may run on other machines."
            )
        ray_cluster.connect(address)
        foreign = ray_cluster.nodes_elsewhere()
        if foreign:
            if not named:
                ray_cluster.require_shared_stores(
                    client, f"The Ray cluster has nodes on other machines ({', '.join(foreign)})."
                )
            ray_cluster.require_remote_reachable(client, foreign)

    def execute(self, plan: RunPlan, client: Client) -> StepFailure | None:
        graph = plan.graph
        order = graph.topological_order()
        options = {node_id: _task_options(plan, node_id) for node_id in order}
        _warn_unsatisfiable(options)
        plan_ref = ray.put(dump_plan(plan))
        waiting = {node_id: set(graph.nodes[node_id].upstream) for node_id in order}
        outputs: dict[str, dict[str, str]] = {}
        running: dict[Any, str] = {}
        failure: StepFailure | None = None
        try:
            while True:
                if failure is None:
                    for node_id in [n for n in order if n in waiting and not waiting[n]]:
                        del waiting[node_id]
                        upstream = {u: outputs[u] for u in graph.nodes[node_id].upstream}
                        task = _remote_step.options(**options[node_id])
                        running[task.remote(client.settings, plan.run.id, plan_ref, node_id, upstream)] = node_id
                if not running:
                    return failure
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    node_id = running.pop(ref)
                    outcome = self._outcome(ref, node_id, plan, client)
                    if outcome.status is ExecutionStatus.FAILED:
                        failure = failure or outcome.failure
                        continue
                    outputs[node_id] = outcome.outputs
                    for deps in waiting.values():
                        deps.discard(node_id)
        except BaseException as exc:
            self._abandon(running, plan, client, exc)
            raise

    def _outcome(self, ref: Any, node_id: str, plan: RunPlan, client: Client) -> StepOutcome:
        try:
            return load_outcome(ray.get(ref))
        except ray.exceptions.RayError as exc:
            error, text = _describe(node_id, exc)
        return self._record_lost_step(client, plan, node_id, error, text)

    def _record_lost_step(
        self, client: Client, plan: RunPlan, node_id: str, error: BaseException, text: str
    ) -> StepOutcome:
        """The task did not return: mark its step run failed (the worker could not), unless it finished."""
        record = _latest_step_run(client, plan.run.id, node_id)
        if record is not None and record.status in _FINISHED:
            return StepOutcome(node_id, record.status, dict(record.outputs))  # only the answer got lost
        if record is None:
            node = plan.graph.nodes[node_id]
            record = client.create_step_run(
                run_id=plan.run.id,
                name=node_id,
                step_name=node.step.name,
                source_hash=node.step.source_hash,
                upstream=list(node.upstream),
            )
        if record.status is ExecutionStatus.RUNNING:
            client.finish_step_run(record.id, status=ExecutionStatus.FAILED, error=text)
        elif record.error:
            text = record.error  # the worker recorded the failure itself before it went away
        logger.error("%s", text.splitlines()[0])
        return StepOutcome(node_id, ExecutionStatus.FAILED, {}, StepFailure(node_id, error, text))

    def _abandon(self, running: dict[Any, str], plan: RunPlan, client: Client, exc: BaseException) -> None:
        """The driver is leaving (an interrupt or an error): stop the running tasks, record why."""
        for ref in running:
            ray.cancel(ref, force=True)
        reason = f"The run was abandoned by its driver ({type(exc).__name__}) while this step ran on Ray."
        for node_id in running.values():
            try:
                record = _latest_step_run(client, plan.run.id, node_id)
                if record is not None and record.status is ExecutionStatus.RUNNING:
                    client.finish_step_run(record.id, status=ExecutionStatus.FAILED, error=reason)
            except Exception:  # noqa: BLE001 - best effort while already failing
                logger.debug("Could not mark step '%s' failed.", node_id, exc_info=True)
