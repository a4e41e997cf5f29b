"""The whole SQL schema on one ``MetaData``: every table, key and index the SQL store uses.

Changing anything here needs a new migration in ``migrations/versions/`` (one chain for
every dialect).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

__all__ = [
    "ALL_TABLES",
    "UtcDateTime",
    "api_tokens",
    "artifact_versions",
    "artifacts",
    "deployments",
    "idempotency_keys",
    "metadata",
    "metric_points",
    "model_version_artifacts",
    "model_version_runs",
    "model_versions",
    "models",
    "pipeline_runs",
    "pipelines",
    "project_members",
    "projects",
    "stage_changes",
    "step_run_artifacts",
    "step_runs",
    "users",
    "webhook_deliveries",
    "webhooks",
]

# Explicit constraint names, so a migration written against one dialect matches the others and
# Alembic comparisons do not see spurious differences.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Naive UTC in the database, timezone-aware UTC in Python.

    Not every dialect stores an offset (SQLite, MySQL), so the store writes UTC only. MySQL's
    ``DATETIME`` drops microseconds unless asked for ``fsp=6``, which ordering by time needs.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _id(name: str = "id", **kwargs: Any) -> sa.Column[str]:
    # uuid4().hex made in Python: the same on every dialect, and known before the INSERT.
    return sa.Column(name, sa.String(32), **kwargs)


def _fk(name: str, target: str, ondelete: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        name, sa.String(32), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def _name(name: str = "name", nullable: bool = False) -> sa.Column[str]:
    # Bounded because MySQL cannot index unbounded text; versioning.MAX_NAME_LENGTH is 255 too.
    return sa.Column(name, sa.String(255), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def _json(name: str, key: str | None = None) -> sa.Column[Any]:
    # Never NULL: the store always writes {} or []. ``key`` avoids a Python attribute called
    # ``metadata`` on ``table.c``, while the column keeps the plain name in SQL.
    return sa.Column(name, sa.JSON(), nullable=False, key=key or name)


_LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")  # logs can pass 64 KB
_MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")  # tracebacks
# MySQL's default collation compares case-insensitively; names must be unique exactly as on
# SQLite and PostgreSQL, so every table uses the binary collation.
_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

# -- pipelines and runs ---------------------------------------------------------------------------

pipelines = sa.Table(
    "pipelines",
    metadata,
    _id(primary_key=True),
    _name(),
    _json("spec"),
    _time("created"),
    _time("updated"),
    sa.UniqueConstraint("name"),
    **_TABLE_OPTIONS,
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    _id(primary_key=True),
    _name(),
    _fk("pipeline_id", "pipelines.id", "CASCADE"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("orchestrator", sa.String(64), nullable=False),
    _json("parameters"),
    _json("config"),
    _json("extra"),
    # The version resolved once at start (DESIGN §3 rule 3); the run outlives the version.
    _fk("model_version_id", "model_versions.id", "SET NULL", nullable=True),
    _time("created"),
    _time("ended", nullable=True),
    sa.Column("error", _MEDIUM_TEXT, nullable=True),
    # The process driving the run (0002): a run still `running` whose process on this host is
    # gone was abandoned (killed, crashed) and is marked failed by the next look at it.
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("pid", sa.Integer(), nullable=True),
    # Last sign of life from that process (0006): a run silent for long was abandoned, whichever
    # host looks.
    _time("heartbeat", nullable=True),
    # Run-lifecycle inputs (0007), columns rather than keys of ``config``: how often the process
    # promised to beat (silence is judged against it), and the model versions the run created that
    # go when it fails (``delete_new_version_on_failure``), however it fails.
    sa.Column("heartbeat_seconds", sa.Float(), nullable=True),
    sa.Column("discard_on_failure", sa.JSON(), nullable=True),
    sa.UniqueConstraint("name"),
    sa.Index(None, "pipeline_id", "created"),
    sa.Index(None, "created"),
    sa.Index(None, "model_version_id"),
    sa.Index(None, "status"),
    **_TABLE_OPTIONS,
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    _id(primary_key=True),
    _fk("run_id", "pipeline_runs.id", "CASCADE"),
    _name(),  # invocation id, unique within the run
    _name("step_name"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cache_key", sa.String(128), nullable=True),
    sa.Column("source_hash", sa.String(128), nullable=True),
    _json("parameters"),
    _json("upstream"),
    # No foreign key: the step run a cache hit copied may be deleted later; the id stays as a note.
    sa.Column("cached_from", sa.String(32), nullable=True),
    _json("metadata", key="meta"),
    sa.Column("logs", _LONG_TEXT, nullable=True),
    sa.Column("error", _MEDIUM_TEXT, nullable=True),
    _time("created"),
    _time("ended", nullable=True),
    sa.UniqueConstraint("run_id", "name"),
    # find_cached_step_run: newest finished step run with a key.
    sa.Index(None, "cache_key", "created"),
    **_TABLE_OPTIONS,
)

step_run_artifacts = sa.Table(
    "step_run_artifacts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    _fk("step_run_id", "step_runs.id", "CASCADE"),
    sa.Column("direction", sa.String(8), nullable=False),  # input | output
    _name(),
    # SET NULL rather than CASCADE: a deleted output must stay visible as missing, so the cache
    # can tell that a step run's outputs are no longer all there.
    _fk("artifact_version_id", "artifact_versions.id", "SET NULL", nullable=True),
    sa.UniqueConstraint("step_run_id", "direction", "name"),
    sa.Index(None, "artifact_version_id"),
    **_TABLE_OPTIONS,
)

# -- artifacts ------------------------------------------------------------------------------------

artifacts = sa.Table(
    "artifacts",
    metadata,
    _id(primary_key=True),
    _name(),
    # Highest version number ever given; bumped in the write transaction, so numbers are never
    # reused and concurrent writers serialize on this row instead of racing on max()+1.
    sa.Column("last_version", sa.Integer(), nullable=False, server_default="0"),
    _time("created"),
    sa.UniqueConstraint("name"),
    **_TABLE_OPTIONS,
)

artifact_versions = sa.Table(
    "artifact_versions",
    metadata,
    _id(primary_key=True),
    _fk("artifact_id", "artifacts.id", "CASCADE"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("materializer", sa.Text(), nullable=False),
    sa.Column("data_type", sa.Text(), nullable=False),
    sa.Column("uri", sa.Text(), nullable=False),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    # The run that made the bytes may be deleted; the bytes and their record stay.
    _fk("producer_step_run_id", "step_runs.id", "SET NULL", nullable=True),
    _json("metadata", key="meta"),
    _json("tags"),
    _time("created"),
    sa.UniqueConstraint("artifact_id", "version"),
    sa.Index(None, "producer_step_run_id"),
    sa.Index(None, "created"),
    **_TABLE_OPTIONS,
)

# -- models ---------------------------------------------------------------------------------------

models = sa.Table(
    "models",
    metadata,
    _id(primary_key=True),
    _name(),
    *(
        sa.Column(field, sa.Text(), nullable=True)
        for field in (
            "license",
            "description",
            "audience",
            "use_cases",
            "limitations",
            "trade_offs",
            "ethics",
        )
    ),
    _json("tags"),
    # Promotion gates per target stage (0003; NULL = none): {"production": ["accuracy >= current"]}.
    sa.Column("gates", sa.JSON(), nullable=True),
    # Highest version number ever given (see artifacts.last_version): deleting the newest version
    # must not hand its number to the next one.
    sa.Column("last_version_number", sa.Integer(), nullable=False, server_default="0"),
    _time("created"),
    _time("updated"),
    sa.UniqueConstraint("name"),
    **_TABLE_OPTIONS,
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    _id(primary_key=True),
    _fk("model_id", "models.id", "CASCADE"),
    sa.Column("number", sa.Integer(), nullable=False),
    _name(),
    sa.Column("description", sa.Text(), nullable=True),
    _json("tags"),
    # none | staging | production | archived; ``latest`` is virtual and never stored.
    sa.Column("stage", sa.String(16), nullable=False),
    _json("metadata", key="meta"),
    _time("created"),
    _time("updated"),
    # Who made the version (0007): a token's owner through a server, the login name locally.
    sa.Column("created_by", sa.String(255), nullable=True),
    # The unique key is what makes concurrent creators fail and retry instead of sharing a number.
    sa.UniqueConstraint("model_id", "number"),
    sa.UniqueConstraint("model_id", "name"),
    # "the version in stage production" is the hottest lookup (every prediction run makes it).
    sa.Index(None, "model_id", "stage"),
    **_TABLE_OPTIONS,
)

model_version_artifacts = sa.Table(
    "model_version_artifacts",
    metadata,
    _id(primary_key=True),
    _fk("model_version_id", "model_versions.id", "CASCADE"),
    _fk("artifact_version_id", "artifact_versions.id", "CASCADE"),
    _name(),  # the link name; ArtifactConfig(overwrite=True) replaces links of one name
    sa.Column("kind", sa.String(32), nullable=False),
    _time("created"),
    sa.Index(None, "model_version_id", "name"),
    sa.Index(None, "artifact_version_id"),
    **_TABLE_OPTIONS,
)

model_version_runs = sa.Table(
    "model_version_runs",
    metadata,
    _fk("model_version_id", "model_versions.id", "CASCADE"),
    _fk("run_id", "pipeline_runs.id", "CASCADE"),
    _time("created"),
    sa.PrimaryKeyConstraint("model_version_id", "run_id"),
    sa.Index(None, "run_id"),
    **_TABLE_OPTIONS,
)

stage_changes = sa.Table(
    "stage_changes",
    metadata,
    # An integer id gives the order of changes made in the same microsecond (force archives the
    # old holder and promotes the new one in one transaction). SQLite autoincrements only INTEGER.
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    _fk("model_id", "models.id", "CASCADE"),
    # Append-only history outlives the version: the number and name are copied for that reason.
    _fk("model_version_id", "model_versions.id", "SET NULL", nullable=True),
    sa.Column("version_number", sa.Integer(), nullable=False),
    _name("version_name"),
    sa.Column("from_stage", sa.String(16), nullable=False),
    sa.Column("to_stage", sa.String(16), nullable=False),
    _name("actor", nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    _time("created"),
    # move | rollback (0007): a rollback gives back an earlier tenure, so the next rollback walks
    # further back instead of returning to the version just backed out of.
    sa.Column("kind", sa.String(16), nullable=False, server_default="move"),
    sa.Index(None, "model_id", "id"),
    sa.Index(None, "model_version_id"),
    **_TABLE_OPTIONS,
)

# -- metric series -------------------------------------------------------------------------------

metric_points = sa.Table(
    "metric_points",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    # A version's series goes with the version; the run and step that logged a point may go first.
    _fk("model_version_id", "model_versions.id", "CASCADE", nullable=True),
    _fk("run_id", "pipeline_runs.id", "SET NULL", nullable=True),
    _fk("step_run_id", "step_runs.id", "SET NULL", nullable=True),
    _name("key"),
    sa.Column("step", sa.BigInteger(), nullable=False),
    sa.Column("value", sa.Double(), nullable=False),  # DOUBLE on MySQL: FLOAT would be 32-bit
    _time("created"),
    sa.Index(None, "model_version_id", "key", "step"),
    sa.Index(None, "run_id", "key", "step"),
    sa.Index(None, "step_run_id"),
    **_TABLE_OPTIONS,
)

# -- users and their API tokens -------------------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    _id(primary_key=True),
    # The name their tokens carry as ``owner`` and stage changes record as the actor (0013).
    _name(),
    # viewer | editor | admin: their role in the project ``default``, which is also their role on
    # the server (an admin there is a server admin); NULL (0014): none, a member of other
    # projects only (``project_members``).
    sa.Column("role", sa.String(16), nullable=True),
    # admin (set by an admin) | sso (from the identity provider at the latest sign-in, so it
    # lapses when the provider stops granting it).
    sa.Column("role_from", sa.String(16), nullable=False),
    # Their single sign-on identity once they signed in: one name, one (issuer, sub).
    sa.Column("issuer", sa.String(1000), nullable=True),
    _name("subject", nullable=True),
    _time("created"),
    _time("last_sign_in", nullable=True),
    # Disabling revokes every token at once; this keeps new ones from being made or signed in.
    _time("disabled", nullable=True),
    sa.UniqueConstraint("name"),
    **_TABLE_OPTIONS,
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(primary_key=True),
    _name("owner"),  # the user's name, kept beside user_id: names never change
    # Every token belongs to a user (0013: the owners of older tokens became users).
    _fk("user_id", "users.id", "CASCADE"),
    # sha256 of the secret: a stolen database does not hand out working tokens.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    # viewer | editor | admin (0005); tokens made before roles existed could do anything: admin.
    sa.Column("role", sa.String(16), nullable=False, server_default="admin"),
    _time("created"),
    _time("revoked", nullable=True),
    _time("last_used", nullable=True),
    # A token that ends on its own (0010): the dashboard's sign-in sessions.
    _time("expires", nullable=True),
    # The one project the token acts in (0014); NULL: every project its user is a member of
    # (sign-in sessions, and the tokens made before projects existed).
    _name("project", nullable=True),
    sa.UniqueConstraint("secret_hash"),
    sa.Index(None, "user_id"),
    **_TABLE_OPTIONS,
)

# -- projects: each one's pipelines, runs, artifacts, models and webhooks live in tables of
# their own (``metadata/sql/projects.py``); these two, in the database of ``default``, say which
# projects exist and who may do what in each. ``default`` itself has no rows in
# ``project_members``: a user's role there is ``users.role``.

projects = sa.Table(
    "projects",
    metadata,
    _id(primary_key=True),
    _name(),
    sa.Column("description", sa.Text(), nullable=True),
    _time("created"),
    sa.UniqueConstraint("name"),
    **_TABLE_OPTIONS,
)

project_members = sa.Table(
    "project_members",
    metadata,
    _fk("project_id", "projects.id", "CASCADE"),
    _fk("user_id", "users.id", "CASCADE"),
    sa.Column("role", sa.String(16), nullable=False),  # viewer | editor | admin
    # admin (given by an admin) | sso (the identity provider's claim at the latest sign-in, so
    # it goes when the provider stops granting it).
    sa.Column("role_from", sa.String(16), nullable=False),
    _time("created"),
    sa.PrimaryKeyConstraint("project_id", "user_id"),
    sa.Index(None, "user_id"),
    **_TABLE_OPTIONS,
)

# -- promotion events: webhooks and their delivery log (an outbox) -------------------------------

webhooks = sa.Table(
    "webhooks",
    metadata,
    _id(primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    # Only changes of this model (NULL: every model); no foreign key, so a webhook can name a
    # model before it is registered and outlive a deleted one.
    _name("model", nullable=True),
    _json("stages"),  # only changes into these stages; [] means every stage
    # Shared with the receiver to sign each body (HMAC-SHA256); never listed back.
    sa.Column("secret", sa.String(255), nullable=True),
    _time("created"),
    **_TABLE_OPTIONS,
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _id(primary_key=True),
    _fk("webhook_id", "webhooks.id", "CASCADE"),
    # Written in the transaction of the stage change it reports: no change goes unannounced.
    sa.Column("stage_change_id", sa.BigInteger(), nullable=True),
    sa.Column("event", sa.String(64), nullable=False),
    _json("payload"),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer(), nullable=False),
    # When a dispatcher may (re)try it: a claim pushes it forward, so two never send it together.
    _time("next_attempt"),
    sa.Column("last_status_code", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    _time("created"),
    _time("delivered", nullable=True),
    sa.Index(None, "status", "next_attempt"),
    sa.Index(None, "webhook_id", "created"),
    **_TABLE_OPTIONS,
)

# -- deployments: inference services following a stage (``modelplane serve``) --------------------

deployments = sa.Table(
    "deployments",
    metadata,
    _id(primary_key=True),
    _fk("model_id", "models.id", "CASCADE"),
    sa.Column("stage", sa.String(16), nullable=True),  # the stage followed (NULL: pinned)
    sa.Column("pinned_version", sa.Integer(), nullable=True),
    _name("artifact", nullable=True),  # the model artifact link loaded
    sa.Column("endpoint", sa.String(2000), nullable=False),
    _name("host"),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # starting | serving | stopped | gone
    # The version served now; a deleted version leaves the number.
    _fk("model_version_id", "model_versions.id", "SET NULL", nullable=True),
    sa.Column("version", sa.Integer(), nullable=True),
    _time("serving_since", nullable=True),
    sa.Column("canary_stage", sa.String(16), nullable=True),
    sa.Column("canary_percent", sa.Float(), nullable=True),
    _fk("canary_version_id", "model_versions.id", "SET NULL", nullable=True),
    sa.Column("canary_version", sa.Integer(), nullable=True),
    sa.Column("canary_state", sa.String(16), nullable=True),  # active | cut_off
    sa.Column("max_error_rate", sa.Float(), nullable=True),
    _json("traffic"),  # per version number: requests, errors, latency
    _json("events"),  # the newest 100 events, oldest first
    sa.Column("message", sa.Text(), nullable=True),
    sa.Column("report_seconds", sa.Float(), nullable=False),
    _time("created"),
    _time("last_seen"),
    _time("ended", nullable=True),
    sa.Index(None, "model_id", "created"),
    sa.Index(None, "model_version_id"),
    sa.Index(None, "canary_version_id"),
    **_TABLE_OPTIONS,
)

# -- writes the server ran for a client's Idempotency-Key, with their answers --------------------

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    # The client's key, per token owner: written in the transaction of the write it names.
    sa.Column("request_key", sa.String(128), nullable=False),
    _name("owner"),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the operation and arguments
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("body", _LONG_TEXT, nullable=False),  # the JSON answered ("" for 204)
    _time("created"),
    sa.PrimaryKeyConstraint("owner", "request_key"),
    sa.Index(None, "created"),
    **_TABLE_OPTIONS,
)

# Children before parents: the order in which rows can be deleted.
ALL_TABLES = (
    idempotency_keys,
    deployments,
    metric_points,
    webhook_deliveries,
    webhooks,
    api_tokens,
    project_members,
    projects,
    users,
    stage_changes,
    model_version_runs,
    model_version_artifacts,
    step_run_artifacts,
    artifact_versions,
    artifacts,
    step_runs,
    pipeline_runs,
    model_versions,
    models,
    pipelines,
)
