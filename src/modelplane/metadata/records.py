"""Frozen records returned by every metadata store (SQL and HTTP alike).

Records are plain values: they carry ids and names, never live connections. Lists of linked things
are fetched with their own store calls, so a record stays small however many links a version has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Iterator, NamedTuple, TypeVar, overload

from modelplane.enums import SINGLE_HOLDER_STAGES, ArtifactType, ExecutionStatus, ModelStages, TokenRole
from modelplane.metadata.record_base import NoneAs, Record, field

__all__ = [
    "ArtifactLineage",
    "ArtifactLinkRecord",
    "ArtifactModelLink",
    "ArtifactRecord",
    "ArtifactUse",
    "ArtifactVersionRecord",
    "ComparedArtifact",
    "ComparedArtifacts",
    "ComparedField",
    "ComparedVersion",
    "CompletedStep",
    "EnsuredVersion",
    "MetricPoint",
    "MetricSeries",
    "ModelRecord",
    "ModelVersionRecord",
    "NewArtifactLink",
    "NewArtifactVersion",
    "NewMetricPoint",
    "NewToken",
    "Page",
    "PipelineRecord",
    "RunRecord",
    "StageChangeRecord",
    "StepRunRecord",
    "StoreInfo",
    "TokenRecord",
    "UserRecord",
    "VersionComparison",
    "VersionLineage",
    "WebhookDeliveryRecord",
    "WebhookRecord",
]

T = TypeVar("T")


class Page(Record, Generic[T]):
    """One page of a listing: ``items`` plus the ``total`` that matched the filters.

    A page is a sequence of its items (``for run in client.list_runs()``, ``len(page)``,
    ``page[0]``), so an empty page is falsy; its JSON and equality are the record's.
    """

    items: list[T]
    total: int
    limit: int
    offset: int

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items[index]

    def __contains__(self, item: object) -> bool:
        return item in self.items

    def __reversed__(self) -> Iterator[T]:
        return reversed(self.items)

    @classmethod
    def model_validate(cls, value: Any) -> Page[Any]:
        raise TypeError(_PAGE_ITEMS)

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Page[Any]:
        raise TypeError(_PAGE_ITEMS)


# ``Page[ModelRecord].model_validate`` is ``Page.model_validate``: the item type is lost on the way.
_PAGE_ITEMS = (
    "A page cannot be validated by its class, which does not know its items' type: "
    "use pydantic.TypeAdapter(Page[ModelRecord]).validate_json(...) (with the items' record type)."
)


class PipelineRecord(Record):
    id: str
    name: str
    spec: dict[str, Any] = field(default_factory=dict)
    created: datetime
    updated: datetime


class RunRecord(Record):
    id: str
    name: str
    pipeline_id: str
    pipeline_name: str
    status: ExecutionStatus
    orchestrator: str = "local"
    parameters: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # The model version this run used, resolved once at start (DESIGN §3 rule 3).
    model_version_id: str | None = None
    created: datetime
    ended: datetime | None = None
    error: str | None = None
    # The process driving the run, when a pipeline call made it: a `running` run whose process on
    # its host has died was abandoned.
    host: str | None = None
    pid: int | None = None
    heartbeat: datetime | None = None  # the process's last sign of life, by the store's clock
    heartbeat_seconds: float | None = None  # how often that process promised to beat
    # Model versions the run created that go when it fails (delete_new_version_on_failure).
    discard_on_failure: Annotated[list[str], NoneAs(list)] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """A small table in a notebook, with where to see the run (its dashboard page when the
        store is a server, else the CLI command); the record's fields and equality are untouched."""
        from html import escape

        from modelplane.config import load_settings

        try:
            where = load_settings().where_to_look(self.name)
        except Exception:  # settings that cannot be read now: the command still works elsewhere
            where = f"modelplane run describe {self.name}"
        link = (
            f'<a href="{escape(where)}" target="_blank" rel="noopener">{escape(where)}</a>'
            if where.startswith(("http://", "https://"))
            else f"<code>{escape(where)}</code>"
        )
        took = f"{(self.ended - self.created).total_seconds():.2f}s" if self.ended else "-"
        rows = [
            ("Run", escape(self.name)),
            ("Pipeline", escape(self.pipeline_name)),
            ("Status", escape(self.status.value)),
            ("Duration", took),
            ("Orchestrator", escape(self.orchestrator)),
            ("See it", link),
        ]
        body = "".join(f'<tr><th style="text-align:left">{k}</th><td style="text-align:left">{v}</td></tr>' for k, v in rows)
        return f"<table>{body}</table>"


class StepRunRecord(Record):
    id: str
    run_id: str
    name: str  # invocation id: unique within the run (``trainer``, ``trainer_2``)
    step_name: str  # the step function's name
    status: ExecutionStatus
    cache_key: str | None = None
    source_hash: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)  # input name → artifact version id
    outputs: dict[str, str] = field(default_factory=dict)  # output name → artifact version id
    upstream: list[str] = field(default_factory=list)  # invocation ids this step waited for
    cached_from: str | None = None  # the step run whose outputs a cache hit reused
    metadata: dict[str, Any] = field(default_factory=dict)
    created: datetime
    ended: datetime | None = None
    error: str | None = None  # the user's traceback when the step failed


class ArtifactRecord(Record):
    id: str
    name: str
    created: datetime
    version_count: int = 0
    latest_version: int | None = None


class ArtifactVersionRecord(Record):
    id: str
    artifact_id: str
    name: str
    version: int
    type: ArtifactType = ArtifactType.DATA
    materializer: str
    data_type: str
    uri: str
    content_hash: str
    size: int
    producer_step_run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    created: datetime


class ModelRecord(Record):
    id: str
    name: str
    license: str | None = None
    description: str | None = None
    audience: str | None = None
    use_cases: str | None = None
    limitations: str | None = None
    trade_offs: str | None = None
    ethics: str | None = None
    tags: list[str] = field(default_factory=list)
    # Rules a version's metadata must meet to enter a stage (modelplane.gates).
    gates: Annotated[dict[str, list[str]], NoneAs(dict)] = field(default_factory=dict)
    created: datetime
    updated: datetime
    latest_version_number: int | None = None
    version_count: int = 0


class ModelVersionRecord(Record):
    id: str
    model_id: str
    model_name: str
    number: int
    name: str
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    stage: ModelStages = ModelStages.NONE
    metadata: dict[str, Any] = field(default_factory=dict)
    created: datetime
    updated: datetime
    created_by: str | None = None  # a token's owner through a server, the login name locally


class ArtifactLinkRecord(Record):
    """A model version ↔ artifact version link; ``name`` is the link name, ``kind`` its type."""

    id: str
    model_version_id: str
    name: str
    kind: ArtifactType
    artifact_version: ArtifactVersionRecord
    created: datetime


class StageChangeRecord(Record):
    id: int
    model_id: str
    model_name: str
    model_version_id: str | None  # None once the version was deleted
    version_number: int
    version_name: str
    from_stage: ModelStages
    to_stage: ModelStages
    actor: str | None = None
    reason: str | None = None
    created: datetime
    # move | rollback | refused (a move the gates refused: the version stayed where it was)
    kind: str = "move"


class TokenRecord(Record):
    id: str
    owner: str
    role: TokenRole = TokenRole.ADMIN
    created: datetime
    revoked: datetime | None = None
    last_used: datetime | None = None
    expires: datetime | None = None  # a session's end; None: until revoked
    # The user the token belongs to (None: the environment's admin token, which is not stored).
    # ``role`` as authenticated is the lower of the token's own and its user's.
    user_id: str | None = None
    # The one project it acts in; None: every project its user is a member of.
    project: str | None = None
    # As authenticated: the role it acts with in each project it may use ("*": every project,
    # for a server admin's token). Empty on a listing.
    roles: dict[str, TokenRole] = field(default_factory=dict)

    def role_in(self, project: str) -> TokenRole | None:
        """The role this (authenticated) token acts with in ``project``; None: none there."""
        if self.project is not None and self.project != project:
            return None
        return self.roles.get(project) or self.roles.get("*")


class UserRecord(Record):
    """A person or job that holds tokens. ``role`` caps what each of their tokens may do;
    ``role_from`` says who set it: ``admin`` (an admin, or the first token made for the name) or
    ``sso`` (the identity provider's claim, or the default role, at the latest sign-in). A disabled
    user's tokens and sessions were all revoked when it was disabled."""

    id: str
    name: str
    role: TokenRole | None = None  # in the project ``default``, which is their server role too
    role_from: str = "admin"
    created: datetime
    disabled: datetime | None = None
    last_sign_in: datetime | None = None
    issuer: str | None = None  # the identity provider of their single sign-on, once signed in
    subject: str | None = None  # their ``sub`` there
    live_tokens: int = 0  # tokens and sessions neither revoked nor ended


class WebhookRecord(Record):
    """Where stage changes are announced: ``url``, for ``model`` (None: all) and ``stages``
    (empty: all). The signing secret is never read back, only whether there is one."""

    id: str
    url: str
    model: str | None = None
    stages: list[str] = field(default_factory=list)
    has_secret: bool = False
    created: datetime


class WebhookDeliveryRecord(Record):
    """One announcement of one event to one webhook, and how sending it went."""

    id: str
    webhook_id: str
    url: str
    event: str
    payload: dict[str, Any] = field(default_factory=dict)
    status: str  # pending | delivered | failed
    attempts: int = 0
    next_attempt: datetime
    last_status_code: int | None = None
    last_error: str | None = None
    created: datetime
    delivered: datetime | None = None
    # Only in what claim_webhook_deliveries hands a dispatcher, to sign the body with.
    secret: str | None = None


class StoreInfo(Record):
    url: str
    project: str = "default"  # the project this store reads and writes
    schema_revision: str | None
    counts: dict[str, int] = field(default_factory=dict)
    artifact_uri: str | None = None  # set by a server: where clients read and write artifact bytes
    # The stages one version of a model holds at a time: the dashboard reads them here.
    single_holder_stages: tuple[ModelStages, ...] = SINGLE_HOLDER_STAGES


# -- version comparison (compare_model_versions) -------------------------------------------------
class ComparedField(Record):
    """One compared field: its value in each version, in the order the versions were asked for.

    ``values`` are plain JSON (times as ISO text, stages as their names), ``None`` where a version
    has no such field. ``differs`` is the store's verdict: JSON equality, with ``1`` and ``1.0`` the
    same number and tags compared as sets; the training run by run id (``values`` show its name).
    """

    key: str
    values: list[Any]
    differs: bool


class ComparedArtifact(Record):
    """An artifact version linked to a compared version."""

    id: str
    name: str  # the artifact's name (the link's name may be another)
    version: int
    content_hash: str


class ComparedArtifacts(Record):
    """The artifact versions each compared version links under one link ``kind`` and ``name``.

    Rows are keyed by kind *and* link name: that is how a model version holds its artifacts (the
    reference's ``data_artifacts``/``model_artifacts`` by name, the dashboard's version page), so
    a link that changed kind shows as a difference instead of hiding in one row. ``values`` hold,
    per version, its linked artifact versions oldest link first, or ``None`` when it has no such
    link; ``differs`` compares their content hashes, so a new artifact version with the same
    bytes is no difference.
    """

    kind: ArtifactType
    name: str
    values: list[list[ComparedArtifact] | None]
    differs: bool


class ComparedVersion(Record):
    """A compared version, and the run that trained it: the oldest linked run that used this
    version, else the oldest linked run (``None`` when no run is linked)."""

    version: ModelVersionRecord
    training_run: RunRecord | None = None


class VersionComparison(Record):
    """Two or more versions of one model side by side, as ``compare_model_versions`` computes it
    for every client (the CLI and the dashboard only display it).

    Every row has one value per version, in the order asked. ``overview``: number, name, stage,
    created, created_by, description, tags, training_run (its name). ``metadata``: every key of the
    versions' metadata, nested dicts flattened one level (``eval.f1``). ``parameters``: those of
    each training run, ``pipeline.KEY`` for the run and ``STEP.KEY`` for each of its step runs.
    ``artifacts``: linked artifact versions by link kind and name. Rows are sorted by key (the
    overview in the order above, artifacts by kind, then name).
    """

    model: str
    versions: list[ComparedVersion]
    overview: list[ComparedField]
    metadata: list[ComparedField]
    parameters: list[ComparedField]
    artifacts: list[ComparedArtifacts]
    # The last, min and max of each metric series (``loss.min``), as gates read them.
    metrics: list[ComparedField] = field(default_factory=list)


# -- what some calls take and give besides single records -----------------------------------------
class NewArtifactVersion(Record):
    """An artifact version to record: its bytes are already at ``uri``. ``output`` is the step
    output it holds (the key of ``CompletedStep.outputs``)."""

    id: str
    output: str
    name: str
    type: ArtifactType
    materializer: str
    data_type: str
    uri: str
    content_hash: str
    size: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


class NewArtifactLink(Record):
    """A link to make from a model version to an artifact version (``ArtifactConfig`` rules:
    ``overwrite`` replaces the version's links of that ``name``)."""

    model_version_id: str
    artifact_version_id: str
    name: str
    kind: ArtifactType
    overwrite: bool = False


class ArtifactUse(Record):
    """A step run that wrote (``output``) or read (``input``) an artifact version, under ``name``."""

    direction: str  # input | output
    name: str
    step_run_id: str
    step_name: str
    step_status: ExecutionStatus
    run_id: str
    run_name: str
    pipeline_name: str
    created: datetime


class ArtifactModelLink(Record):
    """A model version the artifact version is linked to, and how."""

    model_name: str
    version_number: int
    model_version_id: str
    name: str
    kind: ArtifactType


class ArtifactLineage(Record):
    """Where an artifact version comes from and where it went: the step run that produced it, every
    step run that read it (or reused it from the cache), and the model versions it is linked to."""

    artifact_version: ArtifactVersionRecord
    uses: list[ArtifactUse]
    model_versions: list[ArtifactModelLink]


class VersionLineage(Record):
    """Everything a model version came from and went into: its linked runs (the newest
    ``MAX_LINEAGE_RUNS`` of ``runs_total``), their step runs with the artifact versions each read
    and wrote, those artifact versions, and which of them are linked to the version (id → kind)."""

    model_version_id: str
    runs: list[RunRecord]
    runs_total: int
    steps: list[StepRunRecord]
    artifacts: list[ArtifactVersionRecord]
    linked: dict[str, ArtifactType]


class NewMetricPoint(Record):
    """One point to record with ``log_metrics``: ``value`` of series ``key`` at ``step``, on a
    model version and/or a run and step run (at least one of them)."""

    key: str
    value: float
    step: int
    model_version_id: str | None = None
    run_id: str | None = None
    step_run_id: str | None = None


class MetricPoint(NewMetricPoint):
    """A recorded point; ``created`` is the store's time when it was written."""

    created: datetime


class MetricSeries(Record):
    """A summary of one series of a model version: how many points, the value at the highest step
    (``last``), the smallest and largest values."""

    key: str
    count: int
    last: float
    last_step: int
    min: float
    max: float


class CompletedStep(NamedTuple):
    step_run: StepRunRecord
    outputs: dict[str, ArtifactVersionRecord]


class EnsuredVersion(NamedTuple):
    version: ModelVersionRecord
    created: bool


class NewToken(NamedTuple):
    token: TokenRecord
    secret: str  # shown once; the store keeps only its hash
