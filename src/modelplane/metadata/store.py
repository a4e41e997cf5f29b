"""The ``MetadataStore`` contract: every call the SDK, CLI and server make on stored metadata.

Two implementations: ``sql.store.SqlMetadataStore`` (SQLite, PostgreSQL, MySQL) holds the business
rules inside its transactions; ``http.HttpMetadataStore`` forwards each call to a modelplane server,
which runs it on a SQL store. One contract suite (``tests/store/``) runs against all of them.

Conventions:
- ``model`` arguments take a model name or id; ``version`` arguments take a version spec as in
  DESIGN §3 rule 3 (an int or digit string → number, ``staging``/``production``/``latest`` or a
  ``ModelStages`` member → that holder, other text → a version name), or a model version id.
- Unknown things raise ``NotFoundError``, taken names ``AlreadyExistsError``, broken rules
  ``InvalidInputError``; a call that raises changes nothing.
- Listings return a ``Page``: newest first unless a ``sort`` says otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Literal, Protocol, Sequence, TypeVar

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages, TokenRole
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
    WebhookDeliveryRecord,
    WebhookRecord,
)

__all__ = ["MODEL_CARD_FIELDS", "MetadataStore", "MetadataTarget", "VersionRef"]

T = TypeVar("T")
VersionRef = int | str | ModelStages
MetadataTarget = Literal["model_version", "artifact_version", "step_run", "run"]
# The descriptive fields of a model (its "card"), in display order.
MODEL_CARD_FIELDS = (
    "license",
    "description",
    "audience",
    "use_cases",
    "limitations",
    "trade_offs",
    "ethics",
)


class MetadataStore(Protocol):
    url: str

    # -- the store itself ---------------------------------------------------------------------
    def info(self) -> StoreInfo: ...

    def close(self) -> None: ...

    def atomically(self, work: Callable[[MetadataStore], T]) -> T:
        """Run ``work(store)``, whose calls share one transaction where the backend has them (SQL).

        ``work`` may run more than once (after a lost race), so it must only make store calls. The
        HTTP store runs the calls one by one; its server makes each of them atomic on its own.
        """

    # -- pipelines and runs -------------------------------------------------------------------
    def save_pipeline(self, name: str, spec: dict[str, Any]) -> PipelineRecord:
        """Create the pipeline, or replace the spec of an existing one of that name."""

    def get_pipeline(self, pipeline: str) -> PipelineRecord: ...

    def list_pipelines(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[PipelineRecord]: ...

    def delete_pipeline(self, pipeline: str) -> None:
        """Delete the pipeline and its runs (artifacts and model versions stay)."""

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
        """A new run in status ``running``; also links it to ``model_version_id`` when given.

        ``host`` and ``pid`` name the process driving the run, so a run it abandons can be found.
        """

    def get_run(self, run: str) -> RunRecord:
        """By id or by run name."""

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | None = None,
        model: str | None = None,
        host: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunRecord]: ...

    def finish_run(self, run_id: str, status: ExecutionStatus, error: str | None = None) -> RunRecord: ...

    def heartbeat_run(self, run_id: str) -> None:
        """Record that the process driving a ``running`` run is alive (a no-op once it finished)."""

    def abandon_run(
        self, run_id: str, error: str, *, silent_since: datetime | None = None
    ) -> bool:
        """Mark a run that is still ``running`` failed with ``error``, and its running step runs too,
        in one transaction. Returns whether it changed anything: a run that has finished meanwhile,
        or (with ``silent_since``) whose heartbeat is newer than that, is left as it is."""

    def delete_run(self, run: str) -> None:
        """Delete the run and its step runs; artifact versions it produced stay."""

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
        """A step run. A cache hit is created directly as ``cached`` with its reused outputs."""

    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        outputs: dict[str, str] | None = None,
        logs: str | None = None,
        error: str | None = None,
    ) -> StepRunRecord: ...

    def get_step_run(self, step_run_id: str) -> StepRunRecord: ...

    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The run's step runs in creation order."""

    def get_step_logs(self, step_run_id: str) -> str: ...

    def find_cached_step_run(self, cache_key: str) -> StepRunRecord | None:
        """The newest completed step run with this key whose output artifact versions all still exist."""

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
        """Record bytes already in place at ``uri``; the version number is assigned here."""

    def get_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord: ...

    def find_artifact_version(self, name: str, version: int | None = None) -> ArtifactVersionRecord:
        """Version ``version`` of the artifact called ``name``; the highest one when ``None``."""

    def list_artifacts(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactRecord]: ...

    def list_artifact_versions(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactVersionRecord]: ...

    def delete_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        """Remove the record (and its model links); returns it so the caller can delete the bytes."""

    def add_metadata(self, target: MetadataTarget, target_id: str, metadata: dict[str, Any]) -> None:
        """Merge JSON ``metadata`` into the target's metadata, key by key."""

    # -- models -------------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        """``gates``: per target stage, the rules a version must meet to enter it (modelplane.gates)."""

    def get_model(self, model: str) -> ModelRecord: ...

    def list_models(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        sort: str = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelRecord]:
        """``name`` matches a substring; ``sort`` is ``name``, ``created`` or ``-created``."""

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
        """Card fields given as ``None`` are left as they are; ``gates``, when given, replace the
        model's gates (``{}`` removes them all)."""

    def delete_model(self, model: str) -> None:
        """Delete the model, its versions, their links and stage history; runs and artifacts stay."""

    def create_model_version(
        self,
        model: str,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
    ) -> ModelVersionRecord:
        """A new version numbered max-ever + 1 inside the write transaction (numbers never reused)."""

    def ensure_model_version(
        self,
        model: str,
        version: VersionRef | None,
        *,
        model_card: dict[str, Any] | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
    ) -> tuple[ModelVersionRecord, bool]:
        """Resolve a run's version spec once: ``None`` creates a version (and the model if needed),
        a name is get-or-create, a number/stage/``latest`` must exist. Returns (version, created)."""

    def get_model_version(self, model: str, version: VersionRef) -> ModelVersionRecord: ...

    def get_model_version_by_id(self, model_version_id: str) -> ModelVersionRecord: ...

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
    ) -> Page[ModelVersionRecord]: ...

    def update_model_version(
        self,
        model: str,
        version: VersionRef,
        *,
        name: str | None = None,
        description: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> ModelVersionRecord: ...

    def delete_model_version(self, model: str, version: VersionRef, *, force: bool = False) -> None:
        """Refuses a version holding staging or production unless ``force``."""

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
        """Move a version to ``stage`` in one transaction (DESIGN §3 rule 2). ``expected_current``
        is compare-and-set: the number that must hold the stage now, 0 for "nobody"."""

    def list_stage_changes(
        self,
        model: str,
        *,
        version: VersionRef | None = None,
        stage: ModelStages | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[StageChangeRecord]: ...

    def get_stage_holder_at(
        self, model: str, stage: ModelStages | str, at: datetime
    ) -> ModelVersionRecord | None: ...

    def rollback_stage(
        self, model: str, stage: ModelStages | str, *, actor: str | None = None, reason: str | None = None
    ) -> ModelVersionRecord:
        """Give ``stage`` back to the version that held it before the current holder."""

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
        """``overwrite=True`` replaces the version's links called ``name``; otherwise adds one."""

    def list_artifact_links(
        self,
        model_version_id: str,
        *,
        kind: ArtifactType | None = None,
        name: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[ArtifactLinkRecord]:
        """Newest first."""

    def link_run(self, model_version_id: str, run_id: str) -> None: ...

    def list_model_version_runs(
        self, model_version_id: str, *, limit: int = 50, offset: int = 0
    ) -> Page[RunRecord]: ...

    # -- promotion events ---------------------------------------------------------------------
    def create_webhook(
        self,
        url: str,
        *,
        model: str | None = None,
        stages: Sequence[ModelStages | str] = (),
        secret: str | None = None,
    ) -> WebhookRecord:
        """Announce every later stage change (of ``model``, into ``stages``) to ``url``."""

    def list_webhooks(self) -> list[WebhookRecord]: ...

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete the webhook and its delivery log."""

    def list_webhook_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[WebhookDeliveryRecord]:
        """Newest first; ``status`` is pending, delivered or failed."""

    def claim_webhook_deliveries(
        self, *, limit: int = 20, lease_seconds: float = 60.0
    ) -> list[WebhookDeliveryRecord]:
        """Pending deliveries that are due, oldest first, each with its webhook's secret; their
        next attempt moves ``lease_seconds`` ahead, so another dispatcher does not take them."""

    def finish_webhook_delivery(
        self,
        delivery_id: str,
        *,
        delivered: bool,
        status_code: int | None = None,
        error: str | None = None,
        retry_in: float | None = None,
    ) -> WebhookDeliveryRecord:
        """Record an attempt: delivered, or failed and retried in ``retry_in`` seconds (``None``:
        given up, status ``failed``)."""

    # -- API tokens (used by the server) ------------------------------------------------------
    def create_token(
        self, owner: str, *, role: TokenRole | str = TokenRole.EDITOR
    ) -> tuple[TokenRecord, str]:
        """A new token with ``role`` (viewer, editor, admin); the secret is returned once and
        stored only as a hash."""

    def list_tokens(self) -> list[TokenRecord]: ...

    def revoke_token(self, token_id: str) -> TokenRecord: ...

    def authenticate(self, secret: str) -> TokenRecord:
        """The live token with this secret, or ``AuthError``."""
