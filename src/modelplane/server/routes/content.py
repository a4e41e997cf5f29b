"""Artifact bytes for download and previews, size-capped and confined to the artifact root.

The artifact version is looked up by id; its folder comes from the recorded URI, which the
artifact store checks is right under its root, and file names are checked as plain relative paths.
Only regular files are listed and served: symbolic links inside a folder are skipped (they could
point anywhere on the machine), and a folder whose real path leaves the root is refused.
"""

from __future__ import annotations

import os
from typing import Any, Iterator
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from modelplane.artifacts import visualizations
from modelplane.artifacts.folder import check_file_name
from modelplane.errors import ArtifactError, NotFoundError
from modelplane.metadata.records import ArtifactVersionRecord
from modelplane.server.api import StoreDep, json_response
from modelplane.server.asgi import error_body
from modelplane.server.previews import preview_artifact

__all__ = ["router"]

router = APIRouter(tags=["artifact content"])
_CHUNK = 1 << 20


def _artifact_store(request: Request) -> Any:
    """The artifact store of the request's project: a version is served only from its folder."""
    return request.app.state.stores.artifacts(request.state.project)


def _inside(path: str, root: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


def _located(
    store: Any, request: Request, artifact_version_id: str
) -> tuple[ArtifactVersionRecord, Any]:
    """The version's record and the server's artifact store, its folder checked to be inside."""
    record = store.get_artifact_version(artifact_version_id)
    artifacts = _artifact_store(request)
    _checked(artifacts, record)
    return record, artifacts


def _checked(artifacts: Any, record: ArtifactVersionRecord, path: str | None = None) -> None:
    """On a local store, refuse a folder or file whose real path leaves the root (symlinks)."""
    if not artifacts.is_local:
        return
    target = path or os.path.join(artifacts.root, artifacts.resolve(record.uri))
    if not _inside(target, artifacts.root):
        raise ArtifactError(
            f"Artifact version {record.id} resolves outside the artifact store {artifacts.root}.",
            hint="Remove the symbolic link from the artifact store.",
        )


@router.get(
    "/artifact-versions/{artifact_version_id:name}/files",
    summary="The files of an artifact version and their sizes",
)
def list_files(artifact_version_id: str, request: Request, store: StoreDep) -> Response:
    record, artifacts = _located(store, request, artifact_version_id)
    files = artifacts.folder(record.uri).files()
    listed = [{"name": name, "size": size} for name, size in sorted(files.items())]
    return json_response({"files": listed, "size": record.size})


def _chunks(fileobj: Any) -> Iterator[bytes]:
    with fileobj:
        while chunk := fileobj.read(_CHUNK):
            yield chunk


@router.get(
    "/artifact-versions/{artifact_version_id:name}/files/{file_name:path}",
    summary="Download one file of an artifact version (never unpickled)",
)
def download_file(
    artifact_version_id: str, file_name: str, request: Request, store: StoreDep
) -> Response:
    record, artifacts = _located(store, request, artifact_version_id)
    name = check_file_name(unquote(file_name))
    folder = artifacts.folder(record.uri)
    local = folder.local_path(name)
    if local is not None:
        _checked(artifacts, record, local)  # a link out of the root: refused, not "not found"
    size = folder.files().get(name)  # regular files only: never a link
    if size is None:
        raise NotFoundError(
            f"Artifact version {record.name}:{record.version} has no file {name!r}.",
            hint=f"List its files at /api/v1/artifact-versions/{record.id}/files.",
        )
    limit = request.app.state.max_download_bytes
    if size > limit:
        message = f"The file {name!r} has {size} bytes, over the server's download limit ({limit})."
        hint = "Read it from the artifact store directly (the artifact_uri in /api/v1/info)."
        body = error_body("InvalidInputError", message, hint)
        return Response(body, 413, media_type="application/json")
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(name)}"}
    if local is not None:
        return FileResponse(local, media_type="application/octet-stream", headers=headers)
    return StreamingResponse(
        _chunks(folder.open(name, "rb")), media_type="application/octet-stream", headers=headers
    )


def _quoted(name: str) -> str:
    return quote(name.rpartition("/")[2], safe="")


@router.get(
    "/artifact-versions/{artifact_version_id:name}/preview",
    summary="Shape, type and first items of a safe artifact; metadata only for pickles",
)
def preview(artifact_version_id: str, request: Request, store: StoreDep) -> Response:
    record, artifacts = _located(store, request, artifact_version_id)
    limit = request.app.state.max_preview_bytes
    return json_response(preview_artifact(artifacts, record, max_bytes=limit))


# A visualization is served as what it is, but never able to act: HTML runs no script, loads
# nothing and gets an origin of its own (sandbox); the dashboard frames it sandboxed too.
# (nosniff comes from the SecurityHeaders middleware, on every response.)
_VISUAL_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "Cache-Control": "private, max-age=3600",  # artifact bytes never change
}


@router.get(
    "/artifact-versions/{artifact_version_id:name}/visualizations",
    summary="The visualizations of an artifact version (name, content type, size)",
)
def list_visualizations(artifact_version_id: str, request: Request, store: StoreDep) -> Response:
    record, artifacts = _located(store, request, artifact_version_id)
    return json_response({"items": visualizations.listed(artifacts.folder(record.uri).files())})


@router.get(
    "/artifact-versions/{artifact_version_id:name}/visualizations/{name}",
    summary="One visualization, served with its content type (HTML sandboxed)",
)
def get_visualization(
    artifact_version_id: str, name: str, request: Request, store: StoreDep
) -> Response:
    record, artifacts = _located(store, request, artifact_version_id)
    folder = artifacts.folder(record.uri)
    found = {item["name"]: item for item in visualizations.listed(folder.files())}
    item = found.get(unquote(name))
    if item is None:
        raise NotFoundError(
            f"Artifact version {record.name}:{record.version} has no visualization {name!r}.",
            hint=f"List them at /api/v1/artifact-versions/{record.id}/visualizations.",
        )
    path = f"{visualizations.FOLDER}/{item['name']}"
    local = folder.local_path(path)
    if local is not None:
        _checked(artifacts, record, local)
    with folder.open(path, "rb") as fileobj:
        body = fileobj.read(visualizations.MAX_BYTES + 1)
    return Response(body, media_type=item["content_type"], headers=_VISUAL_HEADERS)
