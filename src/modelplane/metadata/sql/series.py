"""The summaries of a model version's metric series: what ``list_metric_series`` shows, what
gates read (``loss.min``) and what version comparison lines up."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.metadata.records import MetricSeries
from modelplane.metadata.sql.tables import metric_points

__all__ = ["SERIES_PARTS", "series_of", "series_values"]

# What a gate can ask of a series: ``val_loss.min <= current``.
SERIES_PARTS = ("last", "min", "max")


def series_of(conn: Connection, model_version_id: str) -> list[MetricSeries]:
    """A summary of every series of a version, by key (also what gates read: ``loss.min``)."""
    points = metric_points.c
    of_version = points.model_version_id == model_version_id
    summary = conn.execute(
        sa.select(points.key, sa.func.count(), sa.func.min(points.value), sa.func.max(points.value))
        .where(of_version)
        .group_by(points.key)
        .order_by(points.key)
    ).all()
    if not summary:
        return []
    ranked = (
        sa.select(
            points.key,
            points.step,
            points.value,
            sa.func.row_number()
            .over(partition_by=points.key, order_by=(points.step.desc(), points.id.desc()))
            .label("rank"),
        )
        .where(of_version)
        .subquery()
    )
    last = {
        key: (step, value)
        for key, step, value in conn.execute(
            sa.select(ranked.c.key, ranked.c.step, ranked.c.value).where(ranked.c.rank == 1)
        )
    }
    return [
        MetricSeries(key=key, count=count, last=last[key][1], last_step=last[key][0], min=low, max=high)
        for key, count, low, high in summary
    ]


def series_values(conn: Connection, model_version_id: str) -> dict[str, float]:
    """``{"loss.last": …, "loss.min": …, "loss.max": …}`` for every series of a version."""
    values: dict[str, float] = {}
    for series in series_of(conn, model_version_id):
        for part in SERIES_PARTS:
            values[f"{series.key}.{part}"] = getattr(series, part)
    return values
