"""Starts a run: resolves models and external artifacts once, creates the run, hands the plan to an
orchestrator, and closes the run as completed or failed."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

from modelplane.client import Client
from modelplane.dag.graph import External, Graph
from modelplane.enums import ExecutionStatus
from modelplane.errors import ModelplaneError, NotFoundError, StepFailedError
from modelplane.execution import progress
from modelplane.execution.orchestrator import get_orchestrator
from modelplane.execution.plan import RunPlan
from modelplane.metadata.records import ModelVersionRecord, RunRecord
from modelplane.model import Model
from modelplane.periodic import Periodic
from modelplane.processes import current_host

__all__ = ["launch"]

logger = logging.getLogger("modelplane")


def _run_name(pipeline_name: str) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return f"{pipeline_name}-{now:%Y_%m_%d-%H_%M_%S}-{uuid.uuid4().hex[:6]}"


def _dag_spec(graph: Graph) -> dict[str, Any]:
    return {
        node_id: {"step": node.step.name, "upstream": list(node.upstream), "location": node.location}
        for node_id, node in graph.nodes.items()
    }


def _model_spec(model: Model | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"name": model.name, "version": None if model.requested_version is None else str(model.requested_version)}


def _resolve_external(client: Client, ext: Any, pipeline_name: str, node_id: str, input_name: str,
                      pipeline_model: Model | None) -> str:
    if ext.has_value:
        from modelplane.artifacts.materializers import save_value

        av_id = uuid.uuid4().hex
        stored = save_value(client.artifact_store, av_id, ext.value, materializer=ext.materializer)
        record = client.create_artifact_version(
            id=av_id, name=f"{pipeline_name}.{node_id}.{input_name}", type=stored.type,
            materializer=stored.materializer, data_type=stored.data_type, uri=stored.uri,
            content_hash=stored.content_hash, size=stored.size, metadata=stored.metadata,
        )
        return record.id
    if ext.id is not None:
        return client.get_artifact_version(ext.id).id
    if ext.name is not None:
        return client.get_artifact_version(ext.name, ext.version).id
    model_name = ext.model_name or (pipeline_model.name if pipeline_model else None)
    if model_name is None:
        raise ModelplaneError(
            f"ExternalArtifact(model_artifact_name={ext.model_artifact_name!r}) for input '{input_name}' of step "
            f"'{node_id}' names no model, and the pipeline has none.",
            hint="Pass model_name= (and model_version=), or give the pipeline a model=.",
        )
    if ext.model_version is not None:
        version = client.get_model_version(model_name, ext.model_version)
    elif pipeline_model is not None and pipeline_model.name == model_name:
        version = pipeline_model._ensure_bound()
    else:
        version = client.get_model_version(model_name, "latest")
    links = client.list_artifact_links(version.model_id, version.id, name=ext.model_artifact_name, limit=1).items
    if not links:
        names = sorted({link.name for link in client.list_artifact_links(version.model_id, version.id, limit=1000).items})
        raise NotFoundError(
            f"Version {version.number} of model '{model_name}' has no artifact linked as "
            f"'{ext.model_artifact_name}' (needed by input '{input_name}' of step '{node_id}').",
            hint=f"Linked names: {', '.join(names) or 'none'}. Run the pipeline that produces it first.",
        )
    return links[0].artifact_version.id


@contextlib.contextmanager
def _heartbeat(client: Client, run_id: str) -> Iterator[None]:
    """Tell the store every ``heartbeat_seconds`` that this process still drives the run, so a
    run whose machine is lost can be told from a long one (``reap_abandoned_runs``)."""
    beats = Periodic(
        f"modelplane-heartbeat-{run_id[:8]}",
        lambda: client.heartbeat_run(run_id),
        client.settings.heartbeat_seconds,
        # A missed beat must not break the run.
        on_error=lambda exc: logger.debug("Heartbeat of run %s failed: %s", run_id, exc),
    )
    beats.start()
    try:
        yield
    finally:
        beats.stop(timeout=10)


def _say_discarded(created: list[tuple[Model, ModelVersionRecord]]) -> None:
    for handle, record in created:
        if handle.delete_new_version_on_failure:
            logger.info("Deleted version %s of model '%s' created by the failed run.", record.number, handle.name)


def launch(*, client: Client, **options: Any) -> RunRecord:
    """Run ``graph`` as a new run of ``pipeline_name`` (the options of ``_launch``), telling its
    progress on the console when it should (``progress.reporting``)."""
    with progress.reporting(client.settings):
        return _launch(client=client, **options)


def _launch(
    *,
    client: Client,
    pipeline_name: str,
    graph: Graph,
    parameters: dict[str, Any],
    extra: dict[str, Any],
    model: Model | None,
    enable_cache: bool,
    orchestrator: str,
) -> RunRecord:
    """Run ``graph`` as a new run of ``pipeline_name``; raise ``StepFailedError`` when a step fails."""
    runner = get_orchestrator(orchestrator)
    runner.check(client)
    for abandoned in client.reap_abandoned_runs():
        logger.warning(
            "Run '%s' of pipeline '%s' was still marked running, but process %s that ran it is gone; "
            "marked it failed.", abandoned.name, abandoned.pipeline_name, abandoned.pid,
        )
    pipeline = client.save_pipeline(pipeline_name, {"dag": _dag_spec(graph)})

    bound: dict[int, tuple[Model, ModelVersionRecord]] = {}
    created: list[tuple[Model, ModelVersionRecord]] = []

    def resolve(request: Model) -> tuple[Model, ModelVersionRecord]:
        if id(request) not in bound:
            handle = request._resolve_for_run(client)
            record = handle._ensure_bound()
            bound[id(request)] = (handle, record)
            if handle.was_created_in_this_run:
                created.append((handle, record))
        return bound[id(request)]

    def discard_created() -> None:
        # Before the run exists (it failed to start), the versions it made are deleted here;
        # once it exists, the store deletes them when the run fails, however it fails.
        for handle, record in created:
            if handle.delete_new_version_on_failure:
                client.delete_model_version(record.model_id, record.id, force=True)

    pipeline_handle, pipeline_version = resolve(model) if model is not None else (None, None)
    models: dict[str, Any] = {}
    versions: dict[str, ModelVersionRecord] = {}
    externals: dict[tuple[str, str], str] = {}
    try:
        for node_id, node in graph.nodes.items():
            request = node.step.model or model
            if request is not None:
                handle, record = resolve(request)
                models[node_id], versions[node_id] = handle, record
            for input_name, binding in node.bindings.items():
                if isinstance(binding, External):
                    externals[(node_id, input_name)] = _resolve_external(
                        client, binding.artifact, pipeline_name, node_id, input_name, pipeline_handle
                    )
        run = client.create_run(
            pipeline_id=pipeline.id,
            name=_run_name(pipeline_name),
            parameters=parameters,
            config={
                "enable_cache": enable_cache,
                "model": _model_spec(model),
                "dag": _dag_spec(graph),
            },
            extra=extra,
            orchestrator=runner.name,
            model_version_id=pipeline_version.id if pipeline_version else None,
            linked_versions=list({record.id: None for record in versions.values()}),
            discard_on_failure=[
                record.id for handle, record in created if handle.delete_new_version_on_failure
            ],
            host=current_host(),
            pid=os.getpid(),
            heartbeat_seconds=client.settings.heartbeat_seconds,
        )
    except BaseException:
        discard_created()
        raise

    settings = client.settings
    progress.run_started(
        run,
        len(graph.nodes),
        where=None if settings.store_is_local_default else settings.store_url,
    )
    for handle, record in bound.values():
        progress.model_version(record, handle.was_created_in_this_run)
    plan = RunPlan(run, graph, enable_cache, models, versions, externals)
    try:
        with _heartbeat(client, run.id):
            failure = runner.execute(plan, client)
    except BaseException as exc:
        client.finish_run(run.id, ExecutionStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    if failure is None:
        finished = client.finish_run(run.id, ExecutionStatus.COMPLETED)
        progress.stage_changes(client, run.created, [record for _, record in bound.values()])
        progress.run_ended(client, finished)
        return finished
    finished = client.finish_run(run.id, ExecutionStatus.FAILED, error=failure.traceback)
    progress.stage_changes(client, run.created, [record for _, record in bound.values()])
    _say_discarded(created)
    progress.run_ended(client, finished, failure.node_id)
    raise StepFailedError(
        f"Pipeline '{pipeline_name}' run '{run.name}' failed in step '{failure.node_id}': "
        f"{type(failure.error).__name__}: {failure.error}",
        hint=f"See the traceback above, or `modelplane run logs {run.name} --step {failure.node_id}`.",
    ) from failure.error
