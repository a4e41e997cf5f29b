"""Metric series in the SQL store: many points per transaction, summaries and histories per key."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.metadata import log_writes
from modelplane.metadata.gate_reads import series_of
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import MetricPoint, MetricSeries, NewMetricPoint, Page
from modelplane.metadata.sql.resolve import find_model, find_version
from modelplane.metadata.sql.run_statements import SqlTransaction, in_transaction
from modelplane.metadata.sql.tables import metric_points
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.metadata.store_metrics import MAX_SERIES_PAGE

__all__ = ["MetricsMixin"]

_POINT_COLUMNS = (
    metric_points.c.key,
    metric_points.c.value,
    metric_points.c.step,
    metric_points.c.model_version_id,
    metric_points.c.run_id,
    metric_points.c.step_run_id,
    metric_points.c.created,
)


class MetricsMixin(StoreCore):
    def log_metrics(self, points: Sequence[NewMetricPoint]) -> int:
        return self.write(in_transaction(log_writes.log_metrics(points)))  # type: ignore[no-any-return]

    def list_metric_series(self, model: str, version: VersionRef) -> list[MetricSeries]:
        def work(conn: Connection) -> list[MetricSeries]:
            found = find_version(conn, find_model(conn, model), version)
            return [MetricSeries.model_validate(row) for row in series_of(SqlTransaction(conn), found.id)]

        return self.read(work)

    def get_metric_history(
        self,
        model: str,
        version: VersionRef,
        key: str,
        *,
        limit: int = 1000,
        offset: int = 0,
    ) -> Page[MetricPoint]:
        check_page(limit, offset, most=MAX_SERIES_PAGE)

        def work(conn: Connection) -> Page[MetricPoint]:
            version_id = find_version(conn, find_model(conn, model), version).id
            points = metric_points.c
            where = sa.and_(points.model_version_id == version_id, points.key == key)
            total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
            rows = conn.execute(
                sa.select(*_POINT_COLUMNS)
                .where(where)
                .order_by(points.step, points.id)
                .limit(limit)
                .offset(offset)
            )
            items = [MetricPoint.model_validate(dict(row._mapping)) for row in rows]
            return Page(items=items, total=int(total), limit=limit, offset=offset)

        return self.read(work)
