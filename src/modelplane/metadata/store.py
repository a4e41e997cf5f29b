"""The ``MetadataStore`` contract: every call the SDK, CLI and server make on stored metadata.

Each method is declared once, here, with ``@operation`` (``metadata/operations.py``): its HTTP verb
and path and the role it needs. The HTTP store's methods, the server's routes and their role checks
and ``Client``'s forwarding all come from these declarations. ``sql.store.SqlMetadataStore``
(SQLite, PostgreSQL, MySQL) implements them, with the business rules inside its transactions; one
contract suite (``tests/store/``) holds every backend, HTTP included, to the same promises.

Conventions:
- ``model`` arguments take a model name or id; ``version`` arguments take a version spec as in
  DESIGN §3 rule 3 (an int or digit string → number, ``staging``/``production``/``latest`` or a
  ``ModelStages`` member → that holder, other text → a version name), or a model version id.
- Unknown things raise ``NotFoundError``, taken names ``AlreadyExistsError``, broken rules
  ``InvalidInputError``; a call that raises changes nothing (one exception: a promotion the gates
  refuse is recorded in the stage history, see ``set_stage``).
- Every state change is one call: one transaction on SQL, one request over HTTP.
- Times are the store's clock (the database's, or the server's), never the caller's.
- Listings return a ``Page``: newest first unless a ``sort`` says otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, Sequence

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages, TokenRole
from modelplane.metadata.operations import Operation, declared_operations, operation
from modelplane.metadata.reads import MAX_PAGE
from modelplane.metadata.record_base import Bounds
from modelplane.metadata.store_deployments import DeploymentOperations
from modelplane.metadata.store_metrics import MetricOperations
from modelplane.metadata.store_models import ModelOperations
from modelplane.metadata.store_projects import ProjectOperations
from modelplane.metadata.store_users import UserOperations
from modelplane.metadata.store_types import (
    MAX_OFFSET,
    MODEL_CARD_FIELDS,
    STEP_CHANGES_KEY,
    MetadataTarget,
    PageLimit,
    PageOffset,
    VersionRef,
)
from modelplane.metadata.records import (
    ArtifactLineage,
    ArtifactRecord,
    ArtifactVersionRecord,
    CompletedStep,
    NewArtifactLink,
    NewArtifactVersion,
    NewToken,
    Page,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
    StoreInfo,
    TokenRecord,
    WebhookDeliveryRecord,
    WebhookRecord,
)

__all__ = [
    "MAX_OFFSET",
    "MAX_PAGE",
    "MODEL_CARD_FIELDS",
    "STEP_CHANGES_KEY",
    "MetadataStore",
    "MetadataTarget",
    "PageLimit",
    "PageOffset",
    "VersionRef",
    "store_operations",
]

class MetadataStore(
    ModelOperations, MetricOperations, DeploymentOperations, UserOperations, ProjectOperations,
    Protocol,
):
    url: str
    project: str  # the project it reads and writes (``metadata/store_projects.py``)

    # -- the store itself ---------------------------------------------------------------------
    @operation('GET', '/info')
    def info(self) -> StoreInfo: ...

    def close(self) -> None: ...

    # -- pipelines and runs -------------------------------------------------------------------
    @operation('POST', '/pipelines')
    def save_pipeline(self, name: str, spec: dict[str, Any]) -> PipelineRecord:
        """Create the pipeline, or replace the spec of an existing one of that name."""

    @operation('GET', '/pipelines/{pipeline}')
    def get_pipeline(self, pipeline: str) -> PipelineRecord: ...

    @operation('GET', '/pipelines')
    def list_pipelines(
        self, *, name: str | None = None, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> Page[PipelineRecord]: ...

    @operation('DELETE', '/pipelines/{pipeline}')
    def delete_pipeline(self, pipeline: str) -> None:
        """Delete the pipeline and its runs (artifacts and model versions stay)."""

    @operation('POST', '/runs')
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
        linked_versions: Sequence[str] = (),
        discard_on_failure: Sequence[str] = (),
        host: str | None = None,
        pid: int | None = None,
        heartbeat_seconds: float | None = None,
    ) -> RunRecord:
        """A new run in status ``running``, linked to ``model_version_id`` and ``linked_versions``.

        ``discard_on_failure``: ids of model versions the run created that are deleted when it
        fails, however it fails (``finish_run``, ``reap_abandoned_runs``). ``host`` and ``pid``
        name the process driving the run; it beats every ``heartbeat_seconds`` (``heartbeat_run``).
        """

    @operation('GET', '/runs/{run}')
    def get_run(self, run: str) -> RunRecord:
        """By id or by run name."""

    @operation('GET', '/runs')
    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | None = None,
        model: str | None = None,
        host: str | None = None,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> Page[RunRecord]: ...

    @operation('POST', '/runs/{run_id}/finish')
    def finish_run(self, run_id: str, status: ExecutionStatus, error: str | None = None) -> RunRecord:
        """End a run. ``failed`` also fails its running step runs and deletes the versions named
        in its ``discard_on_failure``, in the same transaction."""

    @operation('POST', '/runs/{run_id}/heartbeat')
    def heartbeat_run(self, run_id: str) -> None:
        """Record, at the store's time, that the process driving a ``running`` run is alive (a
        no-op once it finished)."""

    @operation('POST', '/runs/reap')
    def reap_abandoned_runs(
        self, *, gone: Sequence[str] = (), reaper: str | None = None
    ) -> list[RunRecord]:
        """Fail the runs still ``running`` that nothing drives any more, as ``finish_run`` would.

        Two kinds: those in ``gone`` (ids of runs whose process the caller saw end on its own host)
        and those whose last heartbeat is older than ``SILENT_BEATS`` of their heartbeat periods by
        the store's clock. ``reaper`` names who noticed, for the error text. Returns the runs it
        failed; reading runs never does this.
        """

    @operation('DELETE', '/runs/{run}')
    def delete_run(self, run: str) -> None:
        """Delete the run and its step runs; artifact versions it produced stay."""

    # -- step runs ----------------------------------------------------------------------------
    @operation('POST', '/step-runs')
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
        links: Sequence[NewArtifactLink] = (),
        replay_to: str | None = None,
    ) -> StepRunRecord:
        """A step run. A cache hit is created directly as ``cached`` with its reused outputs and
        their ``links`` to the run's model version, in one transaction.

        ``replay_to`` (a cache hit's model version id): the same transaction merges into that
        version the metadata the ``cached_from`` step run logged to its own model version, and
        copies that step run's record of it (metadata key ``model_version_changes``, with the
        stage moves it asked for) onto the new step run, so the hit leaves the version as the
        original left its own. The caller asks for the recorded stage moves again (``set_stage``).
        """

    @operation('POST', '/step-runs/{step_run_id}/complete')
    def complete_step_run(
        self,
        step_run_id: str,
        *,
        artifacts: Sequence[NewArtifactVersion] = (),
        links: Sequence[NewArtifactLink] = (),
        logs: str | None = None,
    ) -> CompletedStep:
        """Record a step's outputs (bytes already in place), link them to model versions and mark
        the step run completed: one transaction, so a step's results appear all at once or not at
        all. Returns the step run and the new artifact versions by output name."""

    @operation('POST', '/step-runs/{step_run_id}/finish')
    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        outputs: dict[str, str] | None = None,
        logs: str | None = None,
        error: str | None = None,
    ) -> StepRunRecord: ...

    @operation('POST', '/step-runs/{step_run_id}/logs')
    def append_step_logs(self, step_run_id: str, text: str) -> None:
        """Add ``text`` to the logs of a ``running`` step run, so they can be read (and followed)
        while it runs; a no-op once the step run has ended (its final logs are already stored)."""

    @operation('GET', '/step-runs/{step_run_id}')
    def get_step_run(self, step_run_id: str) -> StepRunRecord: ...

    @operation('GET', '/runs/{run_id}/steps')
    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The run's step runs in creation order."""

    @operation('GET', '/step-runs/{step_run_id}/logs')
    def get_step_logs(self, step_run_id: str) -> str: ...

    @operation('GET', '/cached-step-runs/{cache_key}')
    def find_cached_step_run(self, cache_key: str) -> StepRunRecord | None:
        """The newest completed step run with this key whose output artifact versions all still exist."""

    # -- artifacts ----------------------------------------------------------------------------
    @operation('POST', '/artifact-versions')
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

    @operation('GET', '/artifact-versions/{artifact_version_id}')
    def get_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord: ...

    @operation('GET', '/artifacts/{name}/version')
    def find_artifact_version(self, name: str, version: int | None = None) -> ArtifactVersionRecord:
        """Version ``version`` of the artifact called ``name``; the highest one when ``None``."""

    @operation('GET', '/artifacts')
    def list_artifacts(
        self, *, name: str | None = None, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> Page[ArtifactRecord]: ...

    @operation('GET', '/artifact-versions')
    def list_artifact_versions(
        self, *, name: str | None = None, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> Page[ArtifactVersionRecord]: ...

    @operation('DELETE', '/artifact-versions/{artifact_version_id}')
    def delete_artifact_version(self, artifact_version_id: str) -> ArtifactVersionRecord:
        """Remove the record (and its model links); returns it so the caller can delete the bytes."""

    @operation('GET', '/artifact-versions/{artifact_version_id}/lineage')
    def get_artifact_lineage(self, artifact_version_id: str) -> ArtifactLineage:
        """The step runs that wrote and read the version (oldest first) and the model versions it
        is linked to."""

    @operation('POST', '/artifact-versions/{artifact_version_id}/move', role=TokenRole.ADMIN)
    def move_artifact_version(
        self, artifact_version_id: str, uri: str, *, from_uri: str
    ) -> ArtifactVersionRecord:
        """Record that the version's bytes now live at ``uri`` (``modelplane artifact migrate``
        copies them first). Refused, changing nothing, unless the recorded uri is still
        ``from_uri``: two migrations never both move one version."""

    @operation('POST', '/metadata/{target}/{target_id}')
    def add_metadata(
        self,
        target: MetadataTarget,
        target_id: str,
        metadata: dict[str, Any],
        *,
        step_run_id: str | None = None,
    ) -> None:
        """Merge JSON ``metadata`` into the target's metadata, deeply: nested dicts key by key
        (``{"eval": {"auc": …}}`` keeps an earlier ``eval.f1``), any other value replaced.

        ``step_run_id`` (only with ``model_version``): the step run logging to its model version;
        the same transaction records the metadata in that step run's ``model_version_changes``,
        so a cache hit of the step can log it again (``create_step_run(replay_to=…)``)."""

    # -- promotion events ---------------------------------------------------------------------
    @operation('POST', '/webhooks', role=TokenRole.ADMIN)
    def create_webhook(
        self,
        url: str,
        *,
        model: str | None = None,
        stages: Sequence[ModelStages | str] = (),
        secret: str | None = None,
    ) -> WebhookRecord:
        """Announce every later stage change (of ``model``, into ``stages``) to ``url``."""

    @operation('GET', '/webhooks', role=TokenRole.ADMIN)
    def list_webhooks(self) -> list[WebhookRecord]: ...

    @operation('DELETE', '/webhooks/{webhook_id}', role=TokenRole.ADMIN)
    def delete_webhook(self, webhook_id: str) -> None:
        """Delete the webhook and its delivery log."""

    @operation('GET', '/webhook-deliveries', role=TokenRole.ADMIN)
    def list_webhook_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        status: str | None = None,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> Page[WebhookDeliveryRecord]:
        """Newest first; ``status`` is pending, delivered or failed."""

    @operation('POST', '/webhook-deliveries/claim', role=TokenRole.ADMIN)
    def claim_webhook_deliveries(
        self,
        *,
        limit: PageLimit = 20,
        lease_seconds: Annotated[float, Bounds(gt=0, le=86_400)] = 60.0,
    ) -> list[WebhookDeliveryRecord]:
        """Pending deliveries that are due, oldest first, each with its webhook's secret; their
        next attempt moves ``lease_seconds`` ahead, so another dispatcher does not take them."""

    @operation('POST', '/webhook-deliveries/{delivery_id}/finish', role=TokenRole.ADMIN)
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
    @operation('POST', '/webhook-deliveries/{delivery_id}/redeliver', role=TokenRole.ADMIN)
    def redeliver_webhook_delivery(self, delivery_id: str) -> WebhookDeliveryRecord:
        """Send a delivered or failed delivery again (the dispatcher picks it up at once, attempts
        counting on); a pending one is left as it is."""

    @operation('POST', '/tokens', role=TokenRole.ADMIN, replayable=False)
    def create_token(
        self,
        owner: str,
        *,
        role: TokenRole | str = TokenRole.EDITOR,
        expires_in: Annotated[float, Bounds(gt=0, le=2_592_000)] | None = None,
        all_projects: bool = False,
    ) -> NewToken:
        """A new token of the user ``owner`` with ``role`` (viewer, editor, admin), bound to this
        store's project; the secret is returned once and stored only as a hash. A new name
        becomes a user with that role in the project; an existing user's token may not exceed
        their role there, and a disabled user gets none. With ``expires_in`` (seconds, up to 30
        days) it stops working on its own then (a sign-in session); without, it lasts until
        revoked. ``all_projects`` (in ``default`` only) makes a token that acts in every project
        its user is a member of, with at most ``role`` in each."""

    @operation('GET', '/tokens', role=TokenRole.ADMIN)
    def list_tokens(self) -> list[TokenRecord]:
        """The tokens bound to this project (in ``default``, also those for every project)."""

    @operation('DELETE', '/tokens/{token_id}', role=TokenRole.ADMIN)
    def revoke_token(self, token_id: str) -> TokenRecord:
        """Revoke a token that ``list_tokens`` lists here."""

    @operation('POST', '/tokens/authenticate', role=TokenRole.ADMIN, scope="server")
    def authenticate(self, secret: str) -> TokenRecord:
        """The live token with this secret, or ``AuthError`` (also when its user is disabled);
        its ``roles`` say what it may do in each project, and ``role`` is the lower of the
        token's own and its user's in ``default``."""


def store_operations() -> tuple[Operation, ...]:
    """Every declared store operation, in the order of this protocol."""
    return _OPERATIONS


_OPERATIONS = declared_operations(MetadataStore)
