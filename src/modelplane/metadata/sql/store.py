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

from typing import Any

from modelplane.metadata import reads
from modelplane.metadata.records import StoreInfo
from modelplane.metadata.store import store_operations
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
from modelplane.metadata.sql.projects import ProjectsMixin, project_url
from modelplane.metadata.sql.runs import RunsMixin
from modelplane.metadata.sql.stages import StagesMixin
from modelplane.metadata.sql.tokens import TokensMixin
from modelplane.metadata.sql.users import UsersMixin
from modelplane.metadata.sql.transactions import Clock
from modelplane.metadata.sql.webhooks import WebhooksMixin
from modelplane.config import DEFAULT_PROJECT, check_project_name

__all__ = ["CONTROL_OPERATIONS", "SqlMetadataStore"]

# What a store opened on a project other than ``default`` hands to ``default``'s database, where
# the registry of projects, the users and the tokens live: the server-wide operations, those
# naming a project, and the project's tokens.
CONTROL_OPERATIONS = frozenset(
    op.name for op in store_operations() if op.scope != "project"
) | {"create_token", "list_tokens", "revoke_token"}

class SqlMetadataStore(
    LifecycleMixin,
    RunsMixin, ArtifactsMixin, ModelsMixin, StagesMixin, LinksMixin, CompareMixin, TokensMixin,
    WebhooksMixin, MetricsMixin, LineageMixin, DeploymentsMixin, IdempotencyMixin, UsersMixin,
    ProjectsMixin,
):
    """The metadata store on a SQL database.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/store.db`` (in an existing folder),
    ``postgresql+psycopg://user@host/db``, ``mysql+pymysql://user@host/db`` (bare ``postgresql://``,
    ``mysql://`` and ``mariadb://`` get those drivers). Raises ``ConfigError`` for a bad URL or a
    missing driver, ``SchemaVersionError`` for a database written by a newer modelplane, and
    ``StoreError`` when the database cannot be reached. One engine (and connection pool) per store:
    keep the store, and ``close()`` it when done. ``clock`` replaces the store's clock (the
    database's time) in tests.

    ``project`` is the project it reads and writes (``NotFoundError`` when there is none of that
    name); the calls about users, tokens and projects go to ``default``'s database, through
    ``control`` when given (a store opened on ``default`` at the same URL, shared by a server's
    project stores) or a store of its own.
    """

    project: str

    def __init__(
        self,
        url: str,
        *,
        project: str = DEFAULT_PROJECT,
        clock: Clock | None = None,
        control: SqlMetadataStore | None = None,
    ) -> None:
        self.project = check_project_name(project)
        self._own_control: SqlMetadataStore | None = None
        if project == DEFAULT_PROJECT:
            super().__init__(url, clock=clock)
            return
        if control is None:
            control = self._own_control = SqlMetadataStore(url, clock=clock)
        try:
            control.get_project(project)
            super().__init__(project_url(url, project), clock=clock)
        except BaseException:
            if self._own_control is not None:
                self._own_control.close()
            raise
        self.url = url
        view = control.in_project(project)
        for name in CONTROL_OPERATIONS:
            setattr(self, name, getattr(view, name))

    def in_project(self, project: str) -> SqlMetadataStore:
        """This store (on ``default``) as the registry seen from ``project``: the same engine,
        whose token calls act on ``project``'s tokens."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.project = project
        return view

    def close(self) -> None:
        super().close()
        if self._own_control is not None:
            self._own_control.close()

    def info(self) -> StoreInfo:
        counts = self.reading(reads.store_counts)
        return StoreInfo(
            url=display_url(self.url),
            project=self.project,
            schema_revision=current_revision(self._engine),
            counts=counts,
        )

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Engines cannot be pickled; a copy sent to another process (a Ray task) reopens the URL.
        return (_reopen, (self.url, self.project))

    def __repr__(self) -> str:
        if self.project == DEFAULT_PROJECT:
            return f"SqlMetadataStore({display_url(self.url)!r})"
        return f"SqlMetadataStore({display_url(self.url)!r}, project={self.project!r})"


def _reopen(url: str, project: str) -> SqlMetadataStore:
    return SqlMetadataStore(url, project=project)
