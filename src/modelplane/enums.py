"""Enumerations shared by every layer."""

from __future__ import annotations

import enum

__all__ = ["ArtifactType", "ExecutionStatus", "ModelStages", "SINGLE_HOLDER_STAGES", "TokenRole"]


class _StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class ModelStages(_StrEnum):
    """Lifecycle stages of a model version. ``latest`` is virtual: the highest number, never stored."""

    NONE = "none"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"
    LATEST = "latest"


# The stages at most one version of a model holds at a time (DESIGN §3 rule 2): moving a version into
# one archives the holder only with ``force``, and only these (and ``latest``) name a single version.
# The dashboard reads them from ``GET /api/v1/info`` (``StoreInfo.single_holder_stages``).
SINGLE_HOLDER_STAGES = (ModelStages.STAGING, ModelStages.PRODUCTION)


class ExecutionStatus(_StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CACHED = "cached"

    @property
    def is_finished(self) -> bool:
        return self is not ExecutionStatus.RUNNING


class ArtifactType(_StrEnum):
    """What an artifact is; also the kind of its link to a model version."""

    DATA = "data"
    MODEL = "model"
    DEPLOYMENT = "deployment"


class TokenRole(_StrEnum):
    """What a server API token may do: read; also change models, runs and artifacts; also manage
    tokens and webhooks."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ("viewer", "editor", "admin").index(self.value)
