"""The records of model deployments: inference services that serve a version and report back.

A service (``modelplane serve``) registers itself with ``NewDeployment``, sends a
``DeploymentReport`` every few seconds (the version it serves, its canary, its traffic, what
happened since the last report) and reads back a ``DeploymentRecord``. Kept apart from
``records.py`` only to keep modules small; both are plain frozen values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from modelplane.enums import ModelStages
from modelplane.metadata.record_base import Bounds, Record, field

__all__ = [
    "DEPLOYMENT_EVENT_KINDS",
    "DeploymentEvent",
    "DeploymentRecord",
    "DeploymentReport",
    "NewDeployment",
    "VersionTraffic",
]

# What a service records about itself: it started serving, swapped in a version, refused to swap
# one in (it failed to load or to answer), cut its canary off, or stopped.
DEPLOYMENT_EVENT_KINDS = ("started", "swapped", "swap_refused", "canary_cut_off", "stopped")
DeploymentStatus = Literal["starting", "serving", "stopped", "gone"]
CanaryState = Literal["active", "cut_off"]


class VersionTraffic(Record):
    """What one version answered since the service started: requests, errors among them, and
    latency (the sum and count give the mean; ``p50_ms``/``p99_ms`` are the service's estimates)."""

    requests: Annotated[int, Bounds(ge=0)] = 0
    errors: Annotated[int, Bounds(ge=0)] = 0
    latency_ms_sum: Annotated[float, Bounds(ge=0)] = 0.0
    p50_ms: Annotated[float, Bounds(ge=0)] | None = None
    p99_ms: Annotated[float, Bounds(ge=0)] | None = None


class DeploymentEvent(Record):
    """Something a service did. ``at`` is the store's time when it was recorded."""

    kind: Literal["started", "swapped", "swap_refused", "canary_cut_off", "stopped"]
    message: Annotated[str, Bounds(max_length=4000)] = ""
    version: int | None = None
    at: datetime | None = None


class NewDeployment(Record):
    """A service announcing itself: the model it serves and how it picks the version (the holder
    of ``stage``, or the pinned ``version``), where it answers, and its canary settings."""

    model: str
    stage: ModelStages | None = None
    version: Annotated[int, Bounds(ge=1)] | None = None
    artifact: Annotated[str, Bounds(max_length=255)] | None = None  # the model artifact link it loads
    endpoint: Annotated[str, Bounds(max_length=2000)]
    host: Annotated[str, Bounds(max_length=255)]
    pid: Annotated[int, Bounds(ge=0)]
    canary_stage: ModelStages | None = None
    canary_percent: Annotated[float, Bounds(gt=0, lt=100)] | None = None
    max_error_rate: Annotated[float, Bounds(ge=0, le=1)] | None = None
    report_seconds: Annotated[float, Bounds(gt=0, le=3600)] = 5.0


class DeploymentReport(Record):
    """A service's periodic report: what it serves now and what it answered (totals since it
    started, per version number), plus the events since its last report."""

    status: Literal["starting", "serving", "stopped"] = "serving"
    version: Annotated[int, Bounds(ge=1)] | None = None
    canary_version: Annotated[int, Bounds(ge=1)] | None = None
    canary_state: CanaryState | None = None
    traffic: Annotated[dict[str, VersionTraffic], Bounds(max_length=1000)] = field(default_factory=dict)
    events: Annotated[list[DeploymentEvent], Bounds(max_length=100)] = field(default_factory=list)
    message: Annotated[str, Bounds(max_length=4000)] | None = None


class DeploymentRecord(Record):
    """A service as the store knows it. ``status`` is ``gone`` once it stopped reporting for
    three of its report periods (by the store's clock), whether or not anything reaped it yet."""

    id: str
    model_id: str
    model_name: str
    stage: ModelStages | None = None
    pinned_version: int | None = None
    artifact: str | None = None
    endpoint: str
    host: str
    pid: int
    status: DeploymentStatus
    version: int | None = None
    model_version_id: str | None = None
    serving_since: datetime | None = None
    canary_stage: ModelStages | None = None
    canary_percent: float | None = None
    canary_version: int | None = None
    canary_state: CanaryState | None = None
    max_error_rate: float | None = None
    traffic: dict[str, VersionTraffic] = field(default_factory=dict)
    events: list[DeploymentEvent] = field(default_factory=list)
    message: str | None = None
    report_seconds: float = 5.0
    created: datetime
    last_seen: datetime
    ended: datetime | None = None
