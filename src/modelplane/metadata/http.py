"""``HttpMetadataStore``: the ``MetadataStore`` protocol over a modelplane server's ``/api/v1``.

Every call is one HTTP request on one keep-alive connection pool; the server runs it on its SQL
store, so business rules live there and errors come back as the same classes. Imports records,
store, versioning, errors and http_transport.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence, TypeVar

from pydantic import TypeAdapter

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages, TokenRole
from modelplane.metadata.http_transport import Transport, encode_segment
from modelplane.metadata.http_webhooks import WebhooksOverHttp
from modelplane.metadata.records import (
    ArtifactLinkRecord,
    ArtifactRecord,
    ArtifactVersionRecord,
    ModelRecord,
    ModelVersionRecord,
    Page,
    PipelineRecord,
    RunRecord,
    StageChangeRecord,
    StepRunRecord,
    StoreInfo,
    TokenRecord,
)
from modelplane.metadata.store import MetadataStore, MetadataTarget, VersionRef
from modelplane.versioning import parse_version_spec

__all__ = ["HttpMetadataStore"]

T = TypeVar("T")

_STEP_RUNS = TypeAdapter(list[StepRunRecord])
_TOKENS = TypeAdapter(list[TokenRecord])
_OPTIONAL_STEP_RUN = TypeAdapter(StepRunRecord | None)
_OPTIONAL_VERSION = TypeAdapter(ModelVersionRecord | None)


def _seg(value: object) -> str:
    return encode_segment(value)


def _version_text(version: object) -> str:
    """A version spec as text, after the checks a SQL store makes on non-text specs."""
    if isinstance(version, ModelStages):
        return version.value
    if isinstance(version, str):
        return version
    parse_version_spec(version)  # raises the store's error for bools, ints < 1, other types
    return str(version)


def _version_json(version: VersionRef | None) -> Any:
    if isinstance(version, ModelStages):
        return version.value
    if version is None or isinstance(version, str):
        return version
    parse_version_spec(version)
    return version


def _seq(values: Any) -> Any:
    """An iterable of tags or names as a list; a lone string is sent as is so that the server's
    store refuses it exactly as a SQL store would."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return values
    return list(values)


def _stage_text(stage: ModelStages | str) -> str:
    return stage.value if isinstance(stage, ModelStages) else str(stage)


class HttpMetadataStore(WebhooksOverHttp):
    """A ``MetadataStore`` that forwards every call to the modelplane server at ``url``."""

    def __init__(
        self, url: str, *, token: str | None = None, timeout: float = 60.0, http_client: Any = None
    ) -> None:
        self.url = url.rstrip("/")
        self._wire = Transport(self.url, token=token, timeout=timeout, http_client=http_client)

    def __repr__(self) -> str:
        return f"HttpMetadataStore({self.url!r})"

    def _get(self, path: str, **params: Any) -> bytes:
        return self._wire.request("GET", path, params=params)

    def _send(self, method: str, path: str, body: Any = None, **params: Any) -> bytes:
        return self._wire.request(method, path, params=params, body=body)

    # -- the store itself ---------------------------------------------------------------------
    def info(self) -> StoreInfo:
        """The server's store description, with ``url`` this store's (the server's) URL."""
        described = StoreInfo.model_validate_json(self._get("/info"))
        return described.model_copy(update={"url": self.url})

    def close(self) -> None:
        self._wire.close()

    def atomically(self, work: Callable[[MetadataStore], T]) -> T:
        # Each call is its own request and transaction on the server.
        return work(self)

    # -- pipelines and runs -------------------------------------------------------------------
    def save_pipeline(self, name: str, spec: dict[str, Any]) -> PipelineRecord:
        raw = self._send("POST", "/pipelines", {"name": name, "spec": spec})
        return PipelineRecord.model_validate_json(raw)

    def get_pipeline(self, pipeline: str) -> PipelineRecord:
        return PipelineRecord.model_validate_json(self._get(f"/pipelines/{_seg(pipeline)}"))

    def list_pipelines(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[PipelineRecord]:
        raw = self._get("/pipelines", name=name, limit=limit, offset=offset)
        return Page[PipelineRecord].model_validate_json(raw)

    def delete_pipeline(self, pipeline: str) -> None:
        self._send("DELETE", f"/pipelines/{_seg(pipeline)}")

    def create_run(
        self,
        *,
        pipeline_id: str,
        name: str | None = None,
        parameters: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        orchestrator: str = "local",
        model_version_id: str | None = None,
        host: str | None = None,
        pid: int | None = None,
    ) -> RunRecord:
        body = {
            "pipeline_id": pipeline_id,
            "name": name,
            "parameters": parameters,
            "config": config,
            "extra": extra,
            "orchestrator": orchestrator,
            "model_version_id": model_version_id,
            "host": host,
            "pid": pid,
        }
        return RunRecord.model_validate_json(self._send("POST", "/runs", body))

    def get_run(self, run: str) -> RunRecord:
        return RunRecord.model_validate_json(self._get(f"/runs/{_seg(run)}"))

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | None = None,
        model: str | None = None,
        host: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunRecord]:
        raw = self._get(
            "/runs",
            pipeline=pipeline,
            status=status,
            model=model,
            host=host,
            limit=limit,
            offset=offset,
        )
        return Page[RunRecord].model_validate_json(raw)

    def finish_run(
        self, run_id: str, status: ExecutionStatus, error: str | None = None
    ) -> RunRecord:
        body = {"status": status, "error": error}
        raw = self._send("POST", f"/runs/{_seg(run_id)}/finish", body)
        return RunRecord.model_validate_json(raw)

    def heartbeat_run(self, run_id: str) -> None:
        self._send("POST", f"/runs/{_seg(run_id)}/heartbeat")

    def abandon_run(
        self, run_id: str, error: str, *, silent_since: datetime | None = None
    ) -> bool:
        since = silent_since.isoformat() if isinstance(silent_since, datetime) else silent_since
        body = {"error": error, "silent_since": since}
        raw = self._send("POST", f"/runs/{_seg(run_id)}/abandon", body)
        return bool(json.loads(raw)["changed"])

    def delete_run(self, run: str) -> None:
        self._send("DELETE", f"/runs/{_seg(run)}")

    # -- step runs ----------------------------------------------------------------------------
    def create_step_run(
        self,
        *,
        run_id: str,
        name: str,
        step_name: str,
        status: ExecutionStatus = ExecutionStatus.RUNNING,
        cache_key: str | None = None,
        source_hash: str | None = None,
        parameters: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        upstream: Sequence[str] = (),
        outputs: dict[str, str] | None = None,
        cached_from: str | None = None,
    ) -> StepRunRecord:
        body = {
            "run_id": run_id,
            "name": name,
            "step_name": step_name,
            "status": status,
            "cache_key": cache_key,
            "source_hash": source_hash,
            "parameters": parameters,
            "inputs": inputs,
            "upstream": _seq(upstream),
            "outputs": outputs,
            "cached_from": cached_from,
        }
        return StepRunRecord.model_validate_json(self._send("POST", "/step-runs", body))

    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        outputs: dict[str, str] | None = None,
        logs: str | None = None,
        error: str | None = None,
    ) -> StepRunRecord:
        body = {"status": status, "outputs": outputs, "logs": logs, "error": error}
        raw = self._send("POST", f"/step-runs/{_seg(step_run_id)}/finish", body)
        return StepRunRecord.model_validate_json(raw)

    def get_step_run(self, step_run_id: str) -> StepRunRecord:
        return StepRunRecord.model_validate_json(self._get(f"/step-runs/{_seg(step_run_id)}"))

    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        return _STEP_RUNS.validate_json(self._get(f"/runs/{_seg(run_id)}/steps"))

    def get_step_logs(self, step_run_id: str) -> str:
        return str(json.loads(self._get(f"/step-runs/{_seg(step_run_id)}/logs"))["logs"])

    def find_cached_step_run(self, cache_key: str) -> StepRunRecord | None:
        return _OPTIONAL_STEP_RUN.validate_json(self._get(f"/cached-step-runs/{_seg(cache_key)}"))

    # -- artifacts ----------------------------------------------------------------------------
    def create_artifact_version(
        self,
        *,
        id: str,
        name: str,
        type: ArtifactType,
        materializer: str,
        data_type: str,
        uri: str,
        content_hash: str,
        size: int,
        producer_step_run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> ArtifactVersionRecord:
        body = {
            "id": id,
            "name": name,
            "type": type,
            "materializer": materializer,
            "data_type": data_type,
            "uri": uri,
            "content_hash": content_hash,
            "size": size,
            "producer_step_run_id": producer_step_run_id,
            "metadata": metadata,
            "tags": _seq(tags),
        }
        raw = self._send("POST", "/artifact-versions", body)
        return ArtifactVersionRecord.model_validate_json(raw)

    def get_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        raw = self._get(f"/artifact-versions/{_seg(artifact_version_id)}")
        return ArtifactVersionRecord.model_validate_json(raw)

    def find_artifact_version(self, name: str, version: int | None = None) -> ArtifactVersionRecord:
        number = "latest" if version is None else str(version)
        raw = self._get(f"/artifacts/{_seg(name)}/versions/{_seg(number)}")
        return ArtifactVersionRecord.model_validate_json(raw)

    def list_artifacts(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactRecord]:
        raw = self._get("/artifacts", name=name, limit=limit, offset=offset)
        return Page[ArtifactRecord].model_validate_json(raw)

    def list_artifact_versions(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactVersionRecord]:
        raw = self._get("/artifact-versions", name=name, limit=limit, offset=offset)
        return Page[ArtifactVersionRecord].model_validate_json(raw)

    def delete_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        raw = self._send("DELETE", f"/artifact-versions/{_seg(artifact_version_id)}")
        return ArtifactVersionRecord.model_validate_json(raw)

    def add_metadata(
        self, target: MetadataTarget, target_id: str, metadata: dict[str, Any]
    ) -> None:
        self._send("POST", f"/metadata/{_seg(target)}/{_seg(target_id)}", {"metadata": metadata})

    # -- models -------------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        body = {"name": name, "tags": _seq(tags), "gates": gates, "card": card}
        return ModelRecord.model_validate_json(self._send("POST", "/models", body))

    def get_model(self, model: str) -> ModelRecord:
        return ModelRecord.model_validate_json(self._get(f"/models/{_seg(model)}"))

    def list_models(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        sort: str = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelRecord]:
        raw = self._get("/models", name=name, tag=tag, sort=sort, limit=limit, offset=offset)
        return Page[ModelRecord].model_validate_json(raw)

    def update_model(
        self,
        model: str,
        *,
        new_name: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        body = {
            "new_name": new_name,
            "add_tags": _seq(add_tags),
            "remove_tags": _seq(remove_tags),
            "gates": gates,
            "card": card,
        }
        return ModelRecord.model_validate_json(self._send("PATCH", f"/models/{_seg(model)}", body))

    def delete_model(self, model: str) -> None:
        self._send("DELETE", f"/models/{_seg(model)}")

    def create_model_version(
        self,
        model: str,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
    ) -> ModelVersionRecord:
        body = {"name": name, "description": description, "tags": _seq(tags), "metadata": metadata}
        raw = self._send("POST", f"/models/{_seg(model)}/versions", body)
        return ModelVersionRecord.model_validate_json(raw)

    def ensure_model_version(
        self,
        model: str,
        version: VersionRef | None,
        *,
        model_card: dict[str, Any] | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
    ) -> tuple[ModelVersionRecord, bool]:
        body = {
            "version": _version_json(version),
            "model_card": model_card,
            "description": description,
            "tags": _seq(tags),
        }
        payload = json.loads(self._send("POST", f"/models/{_seg(model)}/ensure-version", body))
        return ModelVersionRecord.model_validate(payload["version"]), bool(payload["created"])

    def _version_path(self, model: str, version: VersionRef) -> str:
        return f"/models/{_seg(model)}/versions/{_seg(_version_text(version))}"

    def get_model_version(self, model: str, version: VersionRef) -> ModelVersionRecord:
        return ModelVersionRecord.model_validate_json(self._get(self._version_path(model, version)))

    def get_model_version_by_id(self, model_version_id: str) -> ModelVersionRecord:
        raw = self._get(f"/model-versions/{_seg(model_version_id)}")
        return ModelVersionRecord.model_validate_json(raw)

    def list_model_versions(
        self,
        model: str,
        *,
        stage: ModelStages | str | None = None,
        tag: str | None = None,
        name: str | None = None,
        sort: str = "-number",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelVersionRecord]:
        raw = self._get(
            f"/models/{_seg(model)}/versions",
            stage=None if stage is None else _stage_text(stage),
            tag=tag,
            name=name,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        return Page[ModelVersionRecord].model_validate_json(raw)

    def update_model_version(
        self,
        model: str,
        version: VersionRef,
        *,
        name: str | None = None,
        description: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> ModelVersionRecord:
        body = {
            "name": name,
            "description": description,
            "add_tags": _seq(add_tags),
            "remove_tags": _seq(remove_tags),
        }
        raw = self._send("PATCH", self._version_path(model, version), body)
        return ModelVersionRecord.model_validate_json(raw)

    def delete_model_version(self, model: str, version: VersionRef, *, force: bool = False) -> None:
        self._send("DELETE", self._version_path(model, version), force=force)

    def set_stage(
        self,
        model: str,
        version: VersionRef,
        stage: ModelStages | str,
        *,
        force: bool = False,
        expected_current: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersionRecord:
        """The server records the token's owner as the actor; ``actor`` is not sent."""
        body = {
            "stage": _stage_text(stage),
            "force": force,
            "expected_current": expected_current,
            "reason": reason,
        }
        raw = self._send("PUT", self._version_path(model, version) + "/stage", body)
        return ModelVersionRecord.model_validate_json(raw)

    def list_stage_changes(
        self,
        model: str,
        *,
        version: VersionRef | None = None,
        stage: ModelStages | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[StageChangeRecord]:
        raw = self._get(
            f"/models/{_seg(model)}/stage-changes",
            version=None if version is None else _version_text(version),
            stage=None if stage is None else _stage_text(stage),
            limit=limit,
            offset=offset,
        )
        return Page[StageChangeRecord].model_validate_json(raw)

    def get_stage_holder_at(
        self, model: str, stage: ModelStages | str, at: datetime
    ) -> ModelVersionRecord | None:
        path = f"/models/{_seg(model)}/stages/{_seg(_stage_text(stage))}/holder"
        return _OPTIONAL_VERSION.validate_json(self._get(path, at=at))

    def rollback_stage(
        self,
        model: str,
        stage: ModelStages | str,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersionRecord:
        """The server records the token's owner as the actor; ``actor`` is not sent."""
        path = f"/models/{_seg(model)}/stages/{_seg(_stage_text(stage))}/rollback"
        return ModelVersionRecord.model_validate_json(self._send("POST", path, {"reason": reason}))

    # -- links --------------------------------------------------------------------------------
    def link_artifact(
        self,
        model_version_id: str,
        artifact_version_id: str,
        *,
        name: str,
        kind: ArtifactType,
        overwrite: bool = False,
    ) -> ArtifactLinkRecord:
        body = {
            "artifact_version_id": artifact_version_id,
            "name": name,
            "kind": kind,
            "overwrite": overwrite,
        }
        raw = self._send("POST", f"/model-versions/{_seg(model_version_id)}/artifact-links", body)
        return ArtifactLinkRecord.model_validate_json(raw)

    def list_artifact_links(
        self,
        model_version_id: str,
        *,
        kind: ArtifactType | None = None,
        name: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[ArtifactLinkRecord]:
        raw = self._get(
            f"/model-versions/{_seg(model_version_id)}/artifact-links",
            kind=kind,
            name=name,
            limit=limit,
            offset=offset,
        )
        return Page[ArtifactLinkRecord].model_validate_json(raw)

    def link_run(self, model_version_id: str, run_id: str) -> None:
        self._send("PUT", f"/model-versions/{_seg(model_version_id)}/runs/{_seg(run_id)}")

    def list_model_version_runs(
        self, model_version_id: str, *, limit: int = 50, offset: int = 0
    ) -> Page[RunRecord]:
        raw = self._get(
            f"/model-versions/{_seg(model_version_id)}/runs", limit=limit, offset=offset
        )
        return Page[RunRecord].model_validate_json(raw)

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(
        self, owner: str, *, role: TokenRole | str = TokenRole.EDITOR
    ) -> tuple[TokenRecord, str]:
        body = {"owner": owner, "role": role.value if isinstance(role, TokenRole) else role}
        payload = json.loads(self._send("POST", "/tokens", body))
        return TokenRecord.model_validate(payload["token"]), str(payload["secret"])

    def list_tokens(self) -> list[TokenRecord]:
        return _TOKENS.validate_json(self._get("/tokens"))

    def revoke_token(self, token_id: str) -> TokenRecord:
        return TokenRecord.model_validate_json(self._send("DELETE", f"/tokens/{_seg(token_id)}"))

    def whoami(self) -> TokenRecord:
        """The token this store sends (not part of ``MetadataStore``: only a server knows it)."""
        return TokenRecord.model_validate_json(self._get("/me"))

    def authenticate(self, secret: str) -> TokenRecord:
        raw = self._send("POST", "/tokens/authenticate", {"secret": secret})
        return TokenRecord.model_validate_json(raw)
