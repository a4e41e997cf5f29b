"""Pipelines, runs and step runs: one store call per route."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from modelplane.enums import ExecutionStatus
from modelplane.metadata.records import Page, PipelineRecord, RunRecord, StepRunRecord
from modelplane.server.api import ReadDep, StoreDep, json_response, no_content, record_response

__all__ = ["router"]

router = APIRouter(tags=["pipelines and runs"])


class PipelineBody(BaseModel):
    name: Any = Field(description="str")
    spec: Any = Field(default_factory=dict, description="dict[str, Any]")


class RunBody(BaseModel):
    pipeline_id: Any = Field(description="str")
    name: Any = Field(None, description="str | None")
    parameters: Any = Field(None, description="dict[str, Any] | None")
    config: Any = Field(None, description="dict[str, Any] | None")
    extra: Any = Field(None, description="dict[str, Any] | None")
    orchestrator: Any = Field("local", description="str")
    model_version_id: Any = Field(None, description="str | None")
    host: Any = Field(None, description="str | None")
    pid: Any = Field(None, description="int | None")


class AbandonRunBody(BaseModel):
    error: Any = Field(description="str")
    silent_since: datetime | None = Field(None, description="datetime | None (ISO 8601)")


class AbandonedBody(BaseModel):
    changed: bool


class FinishRunBody(BaseModel):
    status: Any = Field(description="ExecutionStatus")
    error: Any = Field(None, description="str | None")


class StepRunBody(BaseModel):
    run_id: Any = Field(description="str")
    name: Any = Field(description="str")
    step_name: Any = Field(description="str")
    status: Any = Field(ExecutionStatus.RUNNING, description="ExecutionStatus")
    cache_key: Any = Field(None, description="str | None")
    source_hash: Any = Field(None, description="str | None")
    parameters: Any = Field(None, description="dict[str, Any] | None")
    inputs: Any = Field(None, description="dict[str, str] | None")
    upstream: Any = Field(default_factory=list, description="list[str]")
    outputs: Any = Field(None, description="dict[str, str] | None")
    cached_from: Any = Field(None, description="str | None")


class FinishStepRunBody(BaseModel):
    status: Any = Field(description="ExecutionStatus")
    outputs: Any = Field(None, description="dict[str, str] | None")
    logs: Any = Field(None, description="str | None")
    error: Any = Field(None, description="str | None")


# -- pipelines ------------------------------------------------------------------------------------
@router.post("/pipelines", response_model=PipelineRecord, summary="Create or update a pipeline")
def save_pipeline(body: PipelineBody, store: StoreDep) -> Response:
    return record_response(store.save_pipeline(body.name, body.spec))


@router.get("/pipelines", response_model=Page[PipelineRecord])
async def list_pipelines(
    store: StoreDep, read: ReadDep, name: str | None = None, limit: int = 50, offset: int = 0
) -> Response:
    page = await read(store.list_pipelines, name=name, limit=limit, offset=offset)
    return record_response(page)


@router.get("/pipelines/{pipeline:name}", response_model=PipelineRecord)
async def get_pipeline(pipeline: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.get_pipeline, pipeline))


@router.delete("/pipelines/{pipeline:name}", status_code=204)
def delete_pipeline(pipeline: str, store: StoreDep) -> Response:
    store.delete_pipeline(pipeline)
    return no_content()


# -- runs -----------------------------------------------------------------------------------------
@router.post("/runs", response_model=RunRecord, summary="Start a run")
def create_run(body: RunBody, store: StoreDep) -> Response:
    return record_response(store.create_run(**body.model_dump()))


@router.get("/runs", response_model=Page[RunRecord])
async def list_runs(
    store: StoreDep,
    read: ReadDep,
    pipeline: str | None = None,
    status: str | None = None,
    model: str | None = None,
    host: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Response:
    page = await read(
        store.list_runs,
        pipeline=pipeline,
        status=status,
        model=model,
        host=host,
        limit=limit,
        offset=offset,
    )
    return record_response(page)


@router.get("/runs/{run:name}", response_model=RunRecord, summary="Get a run by id or name")
async def get_run(run: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.get_run, run))


@router.post("/runs/{run_id:name}/finish", response_model=RunRecord)
def finish_run(run_id: str, body: FinishRunBody, store: StoreDep) -> Response:
    return record_response(store.finish_run(run_id, body.status, body.error))


@router.post(
    "/runs/{run_id:name}/abandon",
    response_model=AbandonedBody,
    summary="Mark a run whose process died failed (if it is still running)",
)
def abandon_run(run_id: str, body: AbandonRunBody, store: StoreDep) -> Response:
    changed = store.abandon_run(run_id, body.error, silent_since=body.silent_since)
    return json_response({"changed": changed})


@router.post(
    "/runs/{run_id:name}/heartbeat",
    status_code=204,
    summary="The process driving a running run is alive",
)
def heartbeat_run(run_id: str, store: StoreDep) -> Response:
    store.heartbeat_run(run_id)
    return no_content()


@router.delete("/runs/{run:name}", status_code=204)
def delete_run(run: str, store: StoreDep) -> Response:
    store.delete_run(run)
    return no_content()


@router.get("/runs/{run_id:name}/steps", response_model=list[StepRunRecord])
async def list_step_runs(run_id: str, store: StoreDep, read: ReadDep) -> Response:
    return json_response(await read(store.list_step_runs, run_id))


# -- step runs ------------------------------------------------------------------------------------
@router.post(
    "/step-runs", response_model=StepRunRecord, summary="Start (or record a cached) step run"
)
def create_step_run(body: StepRunBody, store: StoreDep) -> Response:
    return record_response(store.create_step_run(**body.model_dump()))


@router.get("/step-runs/{step_run_id:name}", response_model=StepRunRecord)
async def get_step_run(step_run_id: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.get_step_run, step_run_id))


@router.post("/step-runs/{step_run_id:name}/finish", response_model=StepRunRecord)
def finish_step_run(step_run_id: str, body: FinishStepRunBody, store: StoreDep) -> Response:
    return record_response(store.finish_step_run(step_run_id, **body.model_dump()))


@router.get("/step-runs/{step_run_id:name}/logs", summary="A step run's captured output")
async def get_step_logs(step_run_id: str, store: StoreDep, read: ReadDep) -> Response:
    return json_response({"logs": await read(store.get_step_logs, step_run_id)})


@router.get(
    "/cached-step-runs/{cache_key:name}",
    response_model=StepRunRecord | None,
    summary="The step run a cache key hits, or null",
)
async def find_cached_step_run(cache_key: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.find_cached_step_run, cache_key))
