"""What a service answered, per version: counts and latency, for reports and for ``/metrics``."""

from __future__ import annotations

import bisect
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from modelplane.metadata.deployment_records import VersionTraffic

__all__ = ["Traffic"]

# Latency buckets in seconds: fine below 10 ms, where a loaded model answers.
_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)


class _Counts:
    __slots__ = ("requests", "errors", "seconds", "buckets")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(_BUCKETS) + 1)

    def quantile(self, q: float) -> float | None:
        if not self.requests:
            return None
        rank, seen = q * self.requests, 0
        for index, count in enumerate(self.buckets):
            seen += count
            if seen >= rank:
                return (_BUCKETS[index] if index < len(_BUCKETS) else _BUCKETS[-1]) * 1000
        return _BUCKETS[-1] * 1000


class Traffic:
    """Thread-safe per-version counters; ``snapshot`` for the deployment report, ``exposition``
    for Prometheus."""

    def __init__(self, model: str) -> None:
        self._lock = threading.Lock()
        self._by_version: dict[int, _Counts] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["model", "version"]
        self._model = model
        self._requests = Counter(
            "modelplane_serve_requests", "Requests answered, by model version.", labels,
            registry=self.registry,
        )
        self._errors = Counter(
            "modelplane_serve_errors", "Requests a version failed to answer.", labels,
            registry=self.registry,
        )
        self._latency = Histogram(
            "modelplane_serve_request_seconds", "Time to answer a request, by model version.",
            labels, buckets=_BUCKETS, registry=self.registry,
        )

    def record(self, version: int, seconds: float, *, error: bool = False) -> None:
        with self._lock:
            counts = self._by_version.get(version)
            if counts is None:
                counts = self._by_version[version] = _Counts()
            counts.requests += 1
            counts.errors += error
            counts.seconds += seconds
            counts.buckets[bisect.bisect_left(_BUCKETS, seconds)] += 1
        label = (self._model, str(version))
        self._requests.labels(*label).inc()
        if error:
            self._errors.labels(*label).inc()
        self._latency.labels(*label).observe(seconds)

    def snapshot(self) -> dict[str, VersionTraffic]:
        with self._lock:
            return {
                str(version): VersionTraffic(
                    requests=counts.requests,
                    errors=counts.errors,
                    latency_ms_sum=round(counts.seconds * 1000, 3),
                    p50_ms=counts.quantile(0.5),
                    p99_ms=counts.quantile(0.99),
                )
                for version, counts in self._by_version.items()
            }

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def __repr__(self) -> str:
        return f"Traffic({self._model!r}, versions={sorted(self._by_version)})"
