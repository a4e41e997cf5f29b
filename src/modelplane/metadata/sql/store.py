"""``SqlMetadataStore``: the ``MetadataStore`` contract on SQLite, PostgreSQL and MySQL/MariaDB.

The business rules of DESIGN §3 live in this store's transactions, split by area:
``runs.py`` (pipelines, runs, step runs, cache), ``lifecycle.py`` (finishing, heartbeats,
reaping abandoned runs, a step's results), ``artifacts.py``, ``models.py`` (models, versions,
numbering), ``stages.py`` (stage moves, history), ``links.py``, ``compare.py`` (version
comparison), ``tokens.py``, ``users.py`` (token holders, roles, sign-in), ``webhooks.py``
(promotion events), ``deployments.py`` (inference services). All of them run through
``transactions.StoreCore``; ``idempotency.py`` runs a server's keyed write at most once. Opening a
store migrates an empty or older database.
"""

from __future__ import annotations

from modelplane.metadata import reads
from modelplane.metadata.records import StoreInfo
from modelplane.metadata.sql.artifacts import ArtifactsMixin
from modelplane.metadata.sql.compare import CompareMixin
from modelplane.metadata.sql.deployments import DeploymentsMixin
from modelplane.metadata.sql.engine import current_revision, display_url
from modelplane.metadata.sql.idempotency import IdempotencyMixin
from modelplane.metadata.sql.lifecycle import LifecycleMixin
from modelplane.metadata.sql.lineage import LineageMixin
from modelplane.metadata.sql.links import LinksMixin
from modelplane.metadata.sql.metrics import MetricsMixin
from modelplane.metadata.sql.models import ModelsMixin
from modelplane.metadata.sql.runs import RunsMixin
from modelplane.metadata.sql.stages import StagesMixin
from modelplane.metadata.sql.tokens import TokensMixin
from modelplane.metadata.sql.users import UsersMixin
from modelplane.metadata.sql.webhooks import WebhooksMixin

__all__ = ["SqlMetadataStore"]

class SqlMetadataStore(
    LifecycleMixin,
    RunsMixin, ArtifactsMixin, ModelsMixin, StagesMixin, LinksMixin, CompareMixin, TokensMixin,
    WebhooksMixin, MetricsMixin, LineageMixin, DeploymentsMixin, IdempotencyMixin, UsersMixin,
):
    """The metadata store on a SQL database.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/store.db`` (in an existing folder),
    ``postgresql+psycopg://user@host/db``, ``mysql+pymysql://user@host/db`` (bare ``postgresql://``,
    ``mysql://`` and ``mariadb://`` get those drivers). Raises ``ConfigError`` for a bad URL or a
    missing driver, ``SchemaVersionError`` for a database written by a newer modelplane, and
    ``StoreError`` when the database cannot be reached. One engine (and connection pool) per store:
    keep the store, and ``close()`` it when done. ``clock`` replaces the store's clock (the
    database's time) in tests.
    """

    def info(self) -> StoreInfo:
        counts = self.reading(reads.store_counts)
        return StoreInfo(
            url=display_url(self.url),
            schema_revision=current_revision(self._engine),
            counts=counts,
        )

    def __reduce__(self) -> tuple[type[SqlMetadataStore], tuple[str]]:
        # Engines cannot be pickled; a copy sent to another process (a Ray task) reopens the URL.
        return (type(self), (self.url,))

    def __repr__(self) -> str:
        return f"SqlMetadataStore({display_url(self.url)!r})"
