"""Models, their versions and stages: one store call per route. Stage changes are recorded with the
calling token's owner as the actor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from modelplane.metadata.records import ModelRecord, ModelVersionRecord, Page, StageChangeRecord
from modelplane.server.api import (
    OwnerDep,
    ReadDep,
    StoreDep,
    json_response,
    no_content,
    record_response,
)

__all__ = ["router"]

router = APIRouter(tags=["models"])


class ModelBody(BaseModel):
    name: Any = Field(description="str")
    tags: Any = Field(default_factory=list, description="list[str]")
    gates: Any = Field(None, description="dict[str, list[str]] | None")
    card: Any = Field(default_factory=dict, description="dict[str, str | None]")


class ModelUpdateBody(BaseModel):
    new_name: Any = Field(None, description="str | None")
    add_tags: Any = Field(default_factory=list, description="list[str]")
    remove_tags: Any = Field(default_factory=list, description="list[str]")
    gates: Any = Field(None, description="dict[str, list[str]] | None")
    card: Any = Field(default_factory=dict, description="dict[str, str | None]")


class VersionBody(BaseModel):
    name: Any = Field(None, description="str | None")
    description: Any = Field(None, description="str | None")
    tags: Any = Field(default_factory=list, description="list[str]")
    metadata: Any = Field(None, description="dict[str, Any] | None")


class EnsureVersionBody(BaseModel):
    version: Any = Field(None, description="int | str | None")
    model_card: Any = Field(None, description="dict[str, Any] | None")
    description: Any = Field(None, description="str | None")
    tags: Any = Field(default_factory=list, description="list[str]")


class VersionUpdateBody(BaseModel):
    name: Any = Field(None, description="str | None")
    description: Any = Field(None, description="str | None")
    add_tags: Any = Field(default_factory=list, description="list[str]")
    remove_tags: Any = Field(default_factory=list, description="list[str]")


class StageBody(BaseModel):
    stage: Any = Field(description="str")
    force: Any = Field(False, description="bool")
    expected_current: Any = Field(None, description="int | None")
    reason: Any = Field(None, description="str | None")


class RollbackBody(BaseModel):
    reason: Any = Field(None, description="str | None")


# -- models ---------------------------------------------------------------------------------------
@router.post("/models", response_model=ModelRecord, summary="Create a model with its card")
def create_model(body: ModelBody, store: StoreDep) -> Response:
    return record_response(
        store.create_model(body.name, tags=body.tags, gates=body.gates, **body.card)
    )


@router.get("/models", response_model=Page[ModelRecord])
async def list_models(
    store: StoreDep,
    read: ReadDep,
    name: str | None = None,
    tag: str | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> Response:
    return record_response(
        await read(store.list_models, name=name, tag=tag, sort=sort, limit=limit, offset=offset)
    )


@router.get("/models/{model:name}", response_model=ModelRecord)
async def get_model(model: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.get_model, model))


@router.patch("/models/{model:name}", response_model=ModelRecord)
def update_model(model: str, body: ModelUpdateBody, store: StoreDep) -> Response:
    updated = store.update_model(
        model,
        new_name=body.new_name,
        add_tags=body.add_tags,
        remove_tags=body.remove_tags,
        gates=body.gates,
        **body.card,
    )
    return record_response(updated)


@router.delete("/models/{model:name}", status_code=204)
def delete_model(model: str, store: StoreDep) -> Response:
    store.delete_model(model)
    return no_content()


# -- versions -------------------------------------------------------------------------------------
@router.post("/models/{model:name}/versions", response_model=ModelVersionRecord)
def create_model_version(model: str, body: VersionBody, store: StoreDep) -> Response:
    return record_response(store.create_model_version(model, **body.model_dump()))


@router.post(
    "/models/{model:name}/ensure-version",
    summary="Resolve a run's version spec once: returns {version, created}",
)
def ensure_model_version(model: str, body: EnsureVersionBody, store: StoreDep) -> Response:
    version, created = store.ensure_model_version(
        model,
        body.version,
        model_card=body.model_card,
        description=body.description,
        tags=body.tags,
    )
    return json_response({"version": version, "created": created})


@router.get("/models/{model:name}/versions", response_model=Page[ModelVersionRecord])
async def list_model_versions(
    model: str,
    store: StoreDep,
    read: ReadDep,
    stage: str | None = None,
    tag: str | None = None,
    name: str | None = None,
    sort: str = "-number",
    limit: int = 50,
    offset: int = 0,
) -> Response:
    page = await read(
        store.list_model_versions,
        model,
        stage=stage,
        tag=tag,
        name=name,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return record_response(page)


@router.get(
    "/models/{model:name}/versions/{version:name}",
    response_model=ModelVersionRecord,
    summary="A version by number, name, stage (staging, production, latest) or id",
)
async def get_model_version(model: str, version: str, store: StoreDep, read: ReadDep) -> Response:
    return record_response(await read(store.get_model_version, model, version))


@router.patch("/models/{model:name}/versions/{version:name}", response_model=ModelVersionRecord)
def update_model_version(
    model: str, version: str, body: VersionUpdateBody, store: StoreDep
) -> Response:
    return record_response(store.update_model_version(model, version, **body.model_dump()))


@router.delete("/models/{model:name}/versions/{version:name}", status_code=204)
def delete_model_version(
    model: str, version: str, store: StoreDep, force: bool = False
) -> Response:
    store.delete_model_version(model, version, force=force)
    return no_content()


@router.put(
    "/models/{model:name}/versions/{version:name}/stage",
    response_model=ModelVersionRecord,
    summary="Move a version to a stage (force archives the holder; expected_current is CAS)",
)
def set_stage(
    model: str, version: str, body: StageBody, store: StoreDep, owner: OwnerDep
) -> Response:
    moved = store.set_stage(
        model,
        version,
        body.stage,
        force=body.force,
        expected_current=body.expected_current,
        actor=owner,
        reason=body.reason,
    )
    return record_response(moved)


@router.get("/models/{model:name}/stage-changes", response_model=Page[StageChangeRecord])
async def list_stage_changes(
    model: str,
    store: StoreDep,
    read: ReadDep,
    version: str | None = None,
    stage: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Response:
    page = await read(
        store.list_stage_changes, model, version=version, stage=stage, limit=limit, offset=offset
    )
    return record_response(page)


@router.get(
    "/models/{model:name}/stages/{stage:name}/holder",
    response_model=ModelVersionRecord | None,
    summary="The version that held a stage at a time, or null",
)
async def get_stage_holder_at(
    model: str, stage: str, at: datetime, store: StoreDep, read: ReadDep
) -> Response:
    return record_response(await read(store.get_stage_holder_at, model, stage, at))


@router.post(
    "/models/{model:name}/stages/{stage:name}/rollback",
    response_model=ModelVersionRecord,
    summary="Give a stage back to its previous holder",
)
def rollback_stage(
    model: str, stage: str, body: RollbackBody, store: StoreDep, owner: OwnerDep
) -> Response:
    return record_response(store.rollback_stage(model, stage, actor=owner, reason=body.reason))
