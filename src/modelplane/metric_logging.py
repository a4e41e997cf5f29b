"""Buffering metric points on their way to the store (``log_metrics``).

A step that logs a point per batch of an epoch loop must not pay a transaction per point: points
wait in a buffer and go to the store in batches of ``BATCH`` (and when the step ends). ``step``
defaults to a counter per key, so ``log_metrics({"loss": x})`` in a loop draws a curve.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from modelplane.errors import InvalidInputError
from modelplane.metadata.records import NewMetricPoint
from modelplane.metadata.store_metrics import MAX_POINTS_PER_CALL

__all__ = ["BATCH", "MetricBuffer", "check_metric_values"]

BATCH = 1000


def check_metric_values(metrics: Mapping[str, Any]) -> dict[str, float]:
    """``metrics`` as floats: numbers (numpy scalars too), never bools, NaN or infinities."""
    if not isinstance(metrics, Mapping):
        raise InvalidInputError(
            f"log_metrics() takes a dict of numbers, not {type(metrics).__name__}.",
            hint='Pass e.g. {"loss": 0.31, "acc": 0.9}.',
        )
    values: dict[str, float] = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(
                f"The metric key {key!r} is not a name.", hint="Use non-empty text keys."
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidInputError(
                f"The metric {key!r} is {type(value).__name__} {value!r}, not a number.",
                hint="Log numbers; put other values in log_metadata().",
            )
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidInputError(
                f"The metric {key!r} is {number}.",
                hint="Log finite numbers; NaN and infinities cannot be compared or charted.",
            )
        values[key] = number
    return values


class MetricBuffer:
    """Points for one target (a model version and/or a run and step run), sent in batches."""

    def __init__(
        self,
        client: Any,
        *,
        model_version_id: str | None = None,
        run_id: str | None = None,
        step_run_id: str | None = None,
        next_steps: Mapping[str, int] | None = None,
    ) -> None:
        self._client = client
        self._target = {
            "model_version_id": model_version_id,
            "run_id": run_id,
            "step_run_id": step_run_id,
        }
        self._next = dict(next_steps or {})
        self._pending: list[NewMetricPoint] = []

    def add(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Buffer ``values``, as ``check_metric_values`` returns them, at ``step``."""
        if step is not None and (isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0):
            raise InvalidInputError(f"step={step!r} is not a step number.", hint="Use an int ≥ 0.")
        for key, value in values.items():
            at = int(step) if step is not None else self._next.get(key, 0)
            self._next[key] = max(self._next.get(key, 0), at + 1)
            # Checked values: a record is made without validating it (records need no pydantic).
            self._pending.append(NewMetricPoint(key=key, value=value, step=at, **self._target))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        while self._pending:
            chunk = self._pending[:MAX_POINTS_PER_CALL]
            self._client.log_metrics(chunk)
            del self._pending[: len(chunk)]
