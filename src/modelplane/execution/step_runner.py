"""Runs one step invocation anywhere: cache → inputs → user code → outputs → records and links.

Given a ``Client`` (built from store settings), the run plan and an invocation id, ``run_step`` does
the whole life of one step run. Orchestrators only decide where and when it is called.
"""

from __future__ import annotations

import dataclasses
import numbers
import time
import traceback
import typing
import uuid
from typing import Any

from modelplane.client import Client
from modelplane.context import StepContext, step_context
from modelplane.dag.graph import External, Node, OutputRef, Parameter
from modelplane.enums import ArtifactType, ExecutionStatus
from modelplane.errors import ModelplaneError, PipelineRunError
from modelplane.execution import progress
from modelplane.execution.cache import cache_key, repeat_cached_changes
from modelplane.execution.logs import live_logs
from modelplane.execution.plan import RunPlan, StepFailure
from modelplane.metadata.records import (
    ArtifactVersionRecord,
    ModelVersionRecord,
    NewArtifactLink,
    NewArtifactVersion,
    StepRunRecord,
)
from modelplane.model import ArtifactConfig
from modelplane.signatures import SIGNATURE_KEY
from modelplane.signatures import infer as infer_signature

__all__ = ["StepOutcome", "run_step"]


@dataclasses.dataclass
class StepOutcome:
    node_id: str
    status: ExecutionStatus
    outputs: dict[str, str]
    failure: StepFailure | None = None


def _artifact_config(output_extras: tuple[Any, ...]) -> ArtifactConfig | None:
    for extra in output_extras:
        if isinstance(extra, ArtifactConfig):
            return extra
    return None


def _output_plan(node: Node) -> dict[str, tuple[str, ArtifactConfig | None, Any]]:
    """output name → (artifact name, its ArtifactConfig, the materializer the step forces)."""
    step = node.step
    plan = {}
    for spec in step.signature.outputs:
        config = _artifact_config(spec.extras)
        artifact_name = (config.name if config and config.name else None) or spec.name
        plan[spec.name] = (artifact_name, config, step.output_materializers.get(spec.name))
    return plan


def _resolve_inputs(
    node: Node, plan: RunPlan, upstream_outputs: dict[str, dict[str, str]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """(input name → artifact version id, input name → literal parameter)."""
    artifacts: dict[str, str] = {}
    parameters: dict[str, Any] = {}
    for name, binding in node.bindings.items():
        if isinstance(binding, OutputRef):
            artifacts[name] = upstream_outputs[binding.node_id][binding.output_name]
        elif isinstance(binding, External):
            artifacts[name] = plan.externals[(node.id, name)]
        elif isinstance(binding, Parameter):
            parameters[name] = binding.value
    return artifacts, parameters


def _links(
    model_version: ModelVersionRecord | None,
    outputs: dict[str, tuple[str, ArtifactType]],
    output_plan: dict[str, tuple[str, ArtifactConfig | None, Any]],
) -> list[NewArtifactLink]:
    """The links from the model version to a step's outputs (output name → (id, artifact type))."""
    if model_version is None:
        return []
    links = []
    for output_name, (artifact_version_id, artifact_type) in outputs.items():
        artifact_name, config, _ = output_plan[output_name]
        links.append(
            NewArtifactLink(
                model_version_id=model_version.id,
                artifact_version_id=artifact_version_id,
                name=artifact_name,
                kind=ArtifactType((config.artifact_type if config else None) or artifact_type),
                overwrite=bool(config and config.overwrite),
            )
        )
    return links


def _split_return(node: Node, value: Any) -> dict[str, Any]:
    names = node.step.signature.output_names
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise ModelplaneError(
            f"Step '{node.id}' declares {len(names)} outputs ({', '.join(names)}) but returned "
            f"{type(value).__name__}{'' if not isinstance(value, (tuple, list)) else f' of length {len(value)}'}.",
            hint="Return a tuple with one value per output, in the order of the return annotation.",
        )
    return dict(zip(names, value))


# A value of these stands for the annotated number type (PEP 484's numeric tower, and numpy's
# scalars, which do not subclass ``int``): ``-> int`` may return ``np.int64(3)``.
_NUMBERS = {int: numbers.Integral, float: numbers.Real, complex: numbers.Complex}


def _type_name(cls: type) -> str:
    module = getattr(cls, "__module__", "builtins")
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _matches(value: Any, expected: type) -> bool:
    if expected is bool and type(value).__name__ in ("bool_", "bool"):  # numpy.bool_ (numpy.bool in 2.x)
        return True
    try:
        return isinstance(value, _NUMBERS.get(expected, expected))
    except TypeError:  # a Protocol that is not runtime_checkable, and the like: not checkable
        return True


def _check_output_types(node: Node, values: dict[str, Any]) -> None:
    """Fail when an output is not an instance of its annotation. Only plain classes are checked:
    ``Any``, generics (``list[int]``, ``Optional[X]``), strings and type variables are left alone."""
    for spec in node.step.signature.outputs:
        expected = spec.annotation
        if not isinstance(expected, type) or typing.get_origin(expected) is not None:
            continue
        if expected is object or spec.name not in values:
            continue
        value = values[spec.name]
        if _matches(value, expected):
            continue
        raise PipelineRunError(
            f"Step '{node.id}' returned {_type_name(type(value))} for its output '{spec.name}', "
            f"which is annotated {_type_name(expected)} ({node.step.signature.location}).",
            hint=f"Return a {_type_name(expected)}, or change the return annotation to the type "
            "the step returns (Any skips the check).",
        )


def _write_outputs(client: Client, values: dict[str, Any], output_plan: dict) -> dict[str, tuple[str, Any]]:
    """Write every output's bytes into place; nothing is recorded yet (DESIGN §3 rule 4)."""
    from modelplane.artifacts.materializers import save_value

    written = {}
    for output_name, value in values.items():
        _, config, materializer = output_plan[output_name]
        artifact_version_id = uuid.uuid4().hex
        written[output_name] = (
            artifact_version_id,
            save_value(
                client.artifact_store,
                artifact_version_id,
                value,
                materializer=materializer,
                artifact_type=config.artifact_type if config else None,
            ),
        )
    return written


def _signatures(
    values: dict[str, Any], inputs: dict[str, Any], written: dict[str, tuple[str, Any]], output_plan: dict
) -> dict[str, dict[str, Any]]:
    """The input signature of each model output: declared in its ``ArtifactConfig``, or inferred
    from the DataFrames the step was given (modelplane.signatures)."""
    found = {}
    for name, (_, stored) in written.items():
        if stored.type is not ArtifactType.MODEL:
            continue
        config = output_plan[name][1]
        signature = (config.input_signature if config else None) or infer_signature(
            values[name], inputs.values()
        )
        if signature:
            found[name] = signature
    return found


def _record_outputs(
    client: Client,
    step_run: StepRunRecord,
    written: dict[str, tuple[str, Any]],
    output_plan: dict,
    model_version: ModelVersionRecord | None,
    logs: str,
    signatures: dict[str, dict[str, Any]],
) -> dict[str, ArtifactVersionRecord]:
    """Record the outputs, link them to the model version and close the step run: one store call,
    so a step's results appear all at once or not at all, on every backend."""
    new = []
    for output_name, (artifact_version_id, stored) in written.items():
        artifact_name, config, _ = output_plan[output_name]
        new.append(
            # Every value here is already of its field's type; the store checks each value before
            # it writes anything.
            NewArtifactVersion(
                id=artifact_version_id,
                output=output_name,
                name=artifact_name,
                type=stored.type,
                materializer=stored.materializer,
                data_type=stored.data_type,
                uri=stored.uri,
                content_hash=stored.content_hash,
                size=stored.size,
                metadata={**(stored.metadata or {}), **(
                    {SIGNATURE_KEY: signatures[output_name]} if output_name in signatures else {}
                )},
                tags=list(config.tags) if config else [],
            )
        )
    links = _links(
        model_version,
        {name: (av_id, stored.type) for name, (av_id, stored) in written.items()},
        output_plan,
    )
    completed = client.complete_step_run(step_run.id, artifacts=new, links=links, logs=logs)
    return completed.outputs


def _try_cache(
    client: Client, plan: RunPlan, node: Node, key: str, common: dict[str, Any], output_plan: dict
) -> StepOutcome | None:
    hit = client.find_cached_step_run(key)
    if hit is None:
        return None
    # A hit is only as good as its outputs' bytes: one deleted, or in a store this process cannot
    # reach, makes the step run again rather than fail the step that reads it.
    outputs = {
        name: plan.artifact_records.get(av_id) or client.get_artifact_version(av_id)
        for name, av_id in hit.outputs.items()
    }
    unreadable = [name for name, record in outputs.items() if not client.artifact_store.exists(record.uri)]
    if unreadable:
        progress.cache_unreadable(node.id, unreadable)
        return None
    _, model_version = plan.model_for(node.id)
    kinds = {
        name: (record.id, record.type) for name, record in outputs.items()
    } if model_version is not None else {}
    # The cached step run, its links to this run's model version and the metadata the cached step
    # logged to its own version, merged into this one: one store call.
    step_run = client.create_step_run(
        **common,
        status=ExecutionStatus.CACHED,
        outputs=dict(hit.outputs),
        cached_from=hit.id,
        links=_links(model_version, kinds, output_plan),
        replay_to=model_version.id if model_version is not None else None,
    )
    # Said in the run's output; the stage moves it made are asked for again, through the gates.
    repeat_cached_changes(client, hit, step_run, model_version)
    return StepOutcome(node.id, step_run.status, dict(step_run.outputs))


def run_step(
    client: Client, plan: RunPlan, node_id: str, upstream_outputs: dict[str, dict[str, str]]
) -> StepOutcome:
    """Run one invocation of the plan and record everything about it."""
    from modelplane.artifacts.materializers import load_value

    node = plan.graph.nodes[node_id]
    step = node.step
    input_ids, parameters = _resolve_inputs(node, plan, upstream_outputs)
    output_plan = _output_plan(node)
    key = cache_key(
        source_hash=step.source_hash,
        parameters=parameters,
        inputs=input_ids,
        outputs={n: (a, getattr(m, "__qualname__", None), repr(c)) for n, (a, c, m) in output_plan.items()},
    )
    common = dict(
        run_id=plan.run.id,
        name=node.id,
        step_name=step.name,
        cache_key=key,
        source_hash=step.source_hash,
        parameters=parameters,
        inputs=input_ids,
        upstream=list(node.upstream),
    )
    use_cache = plan.enable_cache if step.enable_cache is None else step.enable_cache
    if use_cache:
        cached = _try_cache(client, plan, node, key, common, output_plan)
        if cached is not None:
            progress.step_ended(node.id, ExecutionStatus.CACHED, 0.0)
            return cached

    progress.step_started(node.id)
    began = time.perf_counter()
    failure: StepFailure | None = None
    step_run = client.create_step_run(**common)
    model_request, model_version = plan.model_for(node.id)
    model = model_request.bound_copy(client, model_version) if model_request and model_version else None
    context = StepContext(plan.run, step_run, model, client, step.signature.output_names)
    with live_logs(client, step_run.id) as captured:
        try:
            kwargs = dict(parameters)
            for name, av_id in input_ids.items():
                record = plan.artifact_records.get(av_id) or client.get_artifact_version(av_id)
                kwargs[name] = load_value(
                    client.artifact_store,
                    uri=record.uri,
                    materializer=record.materializer,
                    data_type=record.data_type,
                    size=record.size,
                    content_hash=record.content_hash,
                )
            with step_context(context):
                value = step.func(**kwargs)
            values = _split_return(node, value)
            _check_output_types(node, values)
            written = _write_outputs(client, values, output_plan)
            signatures = _signatures(values, kwargs, written, output_plan)
            logs = captured.text
            saved = _record_outputs(
                client, step_run, written, output_plan, model_version, logs, signatures
            )
        except BaseException as exc:  # noqa: BLE001 - the user's error is recorded, then re-raised upstream
            text = traceback.format_exc()
            # The traceback goes into the step's logs too, after what the step printed, so
            # `modelplane run logs RUN --step S` (which the failure points to) shows it.
            printed = captured.text
            logs = f"{printed}{'' if not printed or printed.endswith(chr(10)) else chr(10)}{text}"
            client.finish_step_run(step_run.id, status=ExecutionStatus.FAILED, logs=logs, error=text)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failure = StepFailure(node.id, exc, text)
    # Told after the capture, so the step's own logs do not hold it.
    if failure is not None:
        progress.step_ended(node.id, ExecutionStatus.FAILED, time.perf_counter() - began, failure.error)
        return StepOutcome(node.id, ExecutionStatus.FAILED, {}, failure)
    progress.step_ended(node.id, ExecutionStatus.COMPLETED, time.perf_counter() - began)
    plan.artifact_records.update((record.id, record) for record in saved.values())
    return StepOutcome(node.id, ExecutionStatus.COMPLETED, {name: record.id for name, record in saved.items()})
