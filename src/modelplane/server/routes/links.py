"""Model version links to artifact versions and runs, and versions by id: one store call each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from modelplane.metadata.records import ArtifactLinkRecord, ModelVersionRecord, Page, RunRecord
from modelplane.server.api import ReadDep, StoreDep, no_content, record_response

__all__ = ["router"]

router = APIRouter(tags=["links"])


class ArtifactLinkBody(BaseModel):
    artifact_version_id: Any = Field(description="str")
    name: Any = Field(description="str")
    kind: Any = Field(description="ArtifactType")
    overwrite: Any = Field(False, description="bool")


@router.get("/model-versions/{model_version_id:name}", response_model=ModelVersionRecord)
async def get_model_version_by_id(
    model_version_id: str, store: StoreDep, read: ReadDep
) -> Response:
    return record_response(await read(store.get_model_version_by_id, model_version_id))


@router.post(
    "/model-versions/{model_version_id:name}/artifact-links",
    response_model=ArtifactLinkRecord,
    summary="Link an artifact version (overwrite replaces the links of that name)",
)
def link_artifact(model_version_id: str, body: ArtifactLinkBody, store: StoreDep) -> Response:
    link = store.link_artifact(
        model_version_id,
        body.artifact_version_id,
        name=body.name,
        kind=body.kind,
        overwrite=body.overwrite,
    )
    return record_response(link)


@router.get(
    "/model-versions/{model_version_id:name}/artifact-links",
    response_model=Page[ArtifactLinkRecord],
)
async def list_artifact_links(
    model_version_id: str,
    store: StoreDep,
    read: ReadDep,
    kind: str | None = None,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Response:
    page = await read(
        store.list_artifact_links,
        model_version_id,
        kind=kind,
        name=name,
        limit=limit,
        offset=offset,
    )
    return record_response(page)


@router.put("/model-versions/{model_version_id:name}/runs/{run_id:name}", status_code=204)
def link_run(model_version_id: str, run_id: str, store: StoreDep) -> Response:
    store.link_run(model_version_id, run_id)
    return no_content()


@router.get("/model-versions/{model_version_id:name}/runs", response_model=Page[RunRecord])
async def list_model_version_runs(
    model_version_id: str, store: StoreDep, read: ReadDep, limit: int = 50, offset: int = 0
) -> Response:
    page = await read(store.list_model_version_runs, model_version_id, limit=limit, offset=offset)
    return record_response(page)
