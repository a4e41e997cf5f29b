"""The metric half of the ``MetadataStore`` contract: series of numbers logged with ``log_metrics``.

Declared as in ``store.py`` (which holds the conventions every operation follows);
``MetadataStore`` inherits these operations.
"""

from __future__ import annotations

from typing import Annotated, Protocol, Sequence

from modelplane.metadata.operations import operation
from modelplane.metadata.record_base import Bounds
from modelplane.metadata.records import MetricPoint, MetricSeries, NewMetricPoint, Page
from modelplane.metadata.store_types import PageOffset, VersionRef

__all__ = ["MAX_POINTS_PER_CALL", "MAX_SERIES_PAGE", "MetricOperations", "SeriesLimit"]

# A client sends a long series in batches of at most this many points (one transaction each).
MAX_POINTS_PER_CALL = 5000
MAX_SERIES_PAGE = 10_000
SeriesLimit = Annotated[int, Bounds(ge=1, le=MAX_SERIES_PAGE)]


class MetricOperations(Protocol):
    @operation('POST', '/metric-points')
    def log_metrics(self, points: Sequence[NewMetricPoint]) -> int:
        """Record ``points`` (at most ``MAX_POINTS_PER_CALL``) in one transaction; returns how
        many. Keys are non-empty text of up to 255 characters, values finite numbers, steps
        integers ≥ 0; each point names an existing model version, run or step run. Any bad point
        refuses the whole call, naming it."""

    @operation('GET', '/models/{model}/versions/{version}/metrics')
    def list_metric_series(self, model: str, version: VersionRef) -> list[MetricSeries]:
        """A summary of every series logged to the version, by key."""

    @operation('GET', '/models/{model}/versions/{version}/metric-history')
    def get_metric_history(
        self,
        model: str,
        version: VersionRef,
        key: str,
        *,
        limit: SeriesLimit = 1000,
        offset: PageOffset = 0,
    ) -> Page[MetricPoint]:
        """The points of the version's series ``key``, by step (points of one step in the order
        they were logged); pages of up to ``MAX_SERIES_PAGE`` points."""
