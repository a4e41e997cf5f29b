"""Artifact versions and metadata: one store call per route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from modelplane.metadata.records import ArtifactRecord, ArtifactVersionRecord, Page
from modelplane.server.api import ReadDep, StoreDep, no_content, parse_int, record_response

__all__ = ["router"]

router = APIRouter(tags=["artifacts"])


class ArtifactVersionBody(BaseModel):
    id: Any = Field(description="str")
    name: Any = Field(description="str")
    type: Any = Field(description="ArtifactType")
    materializer: Any = Field(description="str")
    data_type: Any = Field(description="str")
    uri: Any = Field(description="str")
    content_hash: Any = Field(description="str")
    size: Any = Field(description="int")
    producer_step_run_id: Any = Field(None, description="str | None")
    metadata: Any = Field(None, description="dict[str, Any] | None")
    tags: Any = Field(default_factory=list, description="list[str]")


class MetadataBody(BaseModel):
    metadata: Any = Field(description="dict[str, Any]")


@router.post(
    "/artifact-versions",
    response_model=ArtifactVersionRecord,
    summary="Record artifact bytes already written to the artifact store",
)
def create_artifact_version(body: ArtifactVersionBody, store: StoreDep) -> Response:
    return record_response(store.create_artifact_version(**body.model_dump()))


@router.get("/artifact-versions", response_model=Page[ArtifactVersionRecord])
async def list_artifact_versions(
    store: StoreDep, read: ReadDep, name: str | None = None, limit: int = 50, offset: int = 0
) -> Response:
    page = await read(store.list_artifact_versions, name=name, limit=limit, offset=offset)
    return record_response(page)


@router.get("/artifact-versions/{artifact_version_id:name}", response_model=ArtifactVersionRecord)
async def get_artifact_version(
    artifact_version_id: str, store: StoreDep, read: ReadDep
) -> Response:
    return record_response(await read(store.get_artifact_version, artifact_version_id))


@router.delete(
    "/artifact-versions/{artifact_version_id:name}",
    response_model=ArtifactVersionRecord,
    summary="Delete the record (the caller deletes the bytes)",
)
def delete_artifact_version(artifact_version_id: str, store: StoreDep) -> Response:
    return record_response(store.delete_artifact_version(artifact_version_id))


@router.get("/artifacts", response_model=Page[ArtifactRecord])
async def list_artifacts(
    store: StoreDep, read: ReadDep, name: str | None = None, limit: int = 50, offset: int = 0
) -> Response:
    page = await read(store.list_artifacts, name=name, limit=limit, offset=offset)
    return record_response(page)


@router.get(
    "/artifacts/{name:name}/versions/{version:name}",
    response_model=ArtifactVersionRecord,
    summary="Version N of an artifact, or its highest with 'latest'",
)
async def find_artifact_version(
    name: str, version: str, store: StoreDep, read: ReadDep
) -> Response:
    number = None if version == "latest" else parse_int(version, "Artifact version")
    return record_response(await read(store.find_artifact_version, name, number))


@router.post(
    "/metadata/{target}/{target_id:name}",
    status_code=204,
    summary="Merge metadata into a model version, artifact version, step run or run",
)
def add_metadata(
    target: str,
    target_id: str,
    body: MetadataBody,
    store: StoreDep,
) -> Response:
    store.add_metadata(target, target_id, body.metadata)
    return no_content()
