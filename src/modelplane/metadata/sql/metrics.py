"""Metric series in the SQL store: many points per transaction, summaries and histories per key."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.reads import MAX_INT, check_page
from modelplane.metadata.records import MetricPoint, MetricSeries, NewMetricPoint, Page
from modelplane.metadata.arguments import parse_records
from modelplane.metadata.sql.resolve import find_model, find_version
from modelplane.metadata.sql.rows import utcnow
from modelplane.metadata.sql.tables import metric_points, model_versions, pipeline_runs, step_runs
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.metadata.store_metrics import MAX_POINTS_PER_CALL, MAX_SERIES_PAGE

__all__ = [
    "SERIES_PARTS",
    "MetricsMixin",
    "check_point",
    "replay_metric_points",
    "series_of",
    "series_values",
]

# What a gate can ask of a series: ``val_loss.min <= current``.
SERIES_PARTS = ("last", "min", "max")

_MAX_KEY = 255
_POINT_COLUMNS = (
    metric_points.c.key,
    metric_points.c.value,
    metric_points.c.step,
    metric_points.c.model_version_id,
    metric_points.c.run_id,
    metric_points.c.step_run_id,
    metric_points.c.created,
)
_OWNERS = {
    "model_version_id": (model_versions, "model version"),
    "run_id": (pipeline_runs, "run"),
    "step_run_id": (step_runs, "step run"),
}


def check_point(point: NewMetricPoint, index: int) -> None:
    """Refuse a point no backend can store or serve back, naming it."""
    where = f"metric point {index} ({point.key!r})"
    if not point.key or len(point.key) > _MAX_KEY:
        raise InvalidInputError(
            f"The key of metric point {index} is {'empty' if not point.key else 'too long'}.",
            hint=f"Use a key of 1 to {_MAX_KEY} characters, such as 'loss' or 'val/auc'.",
        )
    if not math.isfinite(point.value):
        raise InvalidInputError(
            f"The value of {where} is {point.value}.",
            hint="Log finite numbers; NaN and infinities cannot be compared or charted.",
        )
    if not 0 <= point.step <= MAX_INT:
        raise InvalidInputError(f"The step of {where} is {point.step}.", hint="Use a step ≥ 0.")
    if point.model_version_id is None and point.run_id is None and point.step_run_id is None:
        raise InvalidInputError(
            f"{where[0].upper()}{where[1:]} belongs to nothing.",
            hint="Give it a model_version_id, a run_id or a step_run_id.",
        )


_INSERT_KEYS = ("key", "value", "step", "model_version_id", "run_id", "step_run_id", "created")


_COMPILED_INSERTS: dict[str, Any] = {}  # dialect name → (compiled INSERT, created's converter)


def _insert_points(conn: Connection, points: list[NewMetricPoint]) -> None:
    """One executemany of the compiled INSERT, straight to the driver: SQLAlchemy's per-row
    parameter processing was half the cost of logging 10,000 points. The only column whose value
    needs converting, ``created``, is the same for every row and is converted once."""
    dialect = conn.dialect
    cached = _COMPILED_INSERTS.get(dialect.name)
    if cached is None:
        compiled = metric_points.insert().compile(dialect=dialect, column_keys=list(_INSERT_KEYS))
        created_type = metric_points.c.created.type.dialect_impl(dialect)
        cached = _COMPILED_INSERTS[dialect.name] = (compiled, created_type.bind_processor(dialect))
    compiled, convert = cached
    now = utcnow()
    created = convert(now) if convert is not None else now
    rows = [(p.key, p.value, p.step, p.model_version_id, p.run_id, p.step_run_id, created) for p in points]
    if compiled.positional:
        order = [_INSERT_KEYS.index(name) for name in compiled.positiontup or ()]
        params: list[Any] = [tuple(row[i] for i in order) for row in rows]
    else:
        names = {bind.key: name for name, bind in compiled.binds.items()}
        params = [{names.get(key, key): value for key, value in zip(_INSERT_KEYS, row)} for row in rows]
    conn.exec_driver_sql(compiled.string, params)


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


def replay_metric_points(
    conn: Connection,
    cached_from: str,
    step_run_id: str,
    run_id: str,
    model_version_id: str | None,
) -> None:
    """A cache hit's copy of the series its original step logged (to its own model version), for
    this run's version: a re-run leaves the new version with the curves the first run drew."""
    if model_version_id is None:
        return
    points = metric_points.c
    rows = conn.execute(
        sa.select(points.key, points.value, points.step)
        .where(points.step_run_id == cached_from, points.model_version_id.is_not(None))
        .order_by(points.id)
    ).all()
    if rows:
        copies = [
            NewMetricPoint.model_construct(
                key=key, value=value, step=step, model_version_id=model_version_id,
                run_id=run_id, step_run_id=step_run_id,
            )
            for key, value, step in rows
        ]  # fmt: skip
        _insert_points(conn, copies)


class MetricsMixin(StoreCore):
    def log_metrics(self, points: Sequence[NewMetricPoint]) -> int:
        parsed = parse_records(points, NewMetricPoint, "metric points")
        if len(parsed) > MAX_POINTS_PER_CALL:
            raise InvalidInputError(
                f"{len(parsed)} metric points in one call.",
                hint=f"Send at most {MAX_POINTS_PER_CALL} per call (log_metrics batches for you).",
            )
        for index, point in enumerate(parsed):
            check_point(point, index)
        if not parsed:
            return 0

        def work(conn: Connection) -> int:
            for column, (table, what) in _OWNERS.items():
                wanted = {getattr(p, column) for p in parsed} - {None}
                if not wanted:
                    continue
                found = set(
                    conn.execute(sa.select(table.c.id).where(table.c.id.in_(wanted))).scalars()
                )
                missing = sorted(wanted - found)
                if missing:
                    raise NotFoundError(
                        f"The {what} {missing[0]!r} of a metric point does not exist.",
                        hint=f"Log to an existing {what} (it may have been deleted).",
                    )
            _insert_points(conn, parsed)
            return len(parsed)

        return self.write(work)

    def list_metric_series(self, model: str, version: VersionRef) -> list[MetricSeries]:
        return self.read(
            lambda conn: series_of(conn, find_version(conn, find_model(conn, model), version).id)
        )

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
