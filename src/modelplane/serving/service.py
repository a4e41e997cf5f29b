"""``Service``: the version a service answers with, kept in step with its stage, and its canary.

One background thread follows the store: every ``poll_seconds`` it asks which version holds the
stage (and the canary stage); a new holder is loaded and answers a smoke request *before* it is
swapped in, with one reference assignment, so a request is answered wholly by the old model or
wholly by the new one and never by a half-loaded one. A version that fails to load or to answer
is not swapped in (the old one keeps serving) and the refusal is recorded on the deployment.
Every ``report_seconds`` (and at once after a swap, a refusal or a cut-off) the thread sends the
deployment report: the store stamps it with its own clock, and a service that stops reporting
reads as gone.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any

from modelplane.client import Client
from modelplane.enums import ModelStages
from modelplane.errors import NotFoundError, ServiceUnavailableError
from modelplane.metadata.deployment_records import DeploymentEvent, DeploymentReport, NewDeployment
from modelplane.metadata.records import ModelVersionRecord
from modelplane.serving.loading import Loaded, load_version
from modelplane.serving.payload import PayloadError, parse, read_input
from modelplane.serving.traffic import Traffic

__all__ = ["MIN_CANARY_REQUESTS", "RETRY_REFUSED_SECONDS", "Service"]

logger = logging.getLogger("modelplane.serve")
# A canary is judged on its error rate only after this many requests, so one early error does
# not cut it off.
MIN_CANARY_REQUESTS = 20
RETRY_REFUSED_SECONDS = 60.0


class Service:
    """What one serving process answers with; thread-safe."""

    def __init__(
        self,
        client: Client,
        *,
        model: str,
        endpoint: str,
        stage: ModelStages | str | None = ModelStages.PRODUCTION,
        version: int | None = None,
        artifact: str | None = None,
        canary_stage: ModelStages | str | None = None,
        canary_percent: float | None = None,
        max_error_rate: float | None = None,
        poll_seconds: float = 0.5,
        report_seconds: float = 5.0,
        host: str = "",
    ) -> None:
        self.client = client
        self.model = model
        self.stage = ModelStages(stage) if stage is not None and version is None else None
        self.version = version
        self.artifact = artifact
        self.canary_stage = ModelStages(canary_stage) if canary_stage else None
        self.canary_percent = canary_percent
        self.max_error_rate = max_error_rate
        self.poll_seconds = poll_seconds
        self.report_seconds = report_seconds
        self.endpoint = endpoint
        self.host = host or os.uname().nodename
        self.primary: Loaded | None = None
        self.canary: Loaded | None = None
        self.canary_state: str | None = "active" if self.canary_stage else None
        self.since: datetime | None = None
        self.message: str | None = None
        self.deployment_id: str | None = None
        self.traffic = Traffic(model)
        self._counter = itertools.count(1)
        self._window = [0, 0]  # the current canary's requests and errors
        self._lock = threading.Lock()
        self._events: list[DeploymentEvent] = []
        # Version ids that failed to load or answer → when: tried again after RETRY_REFUSED_SECONDS
        # (a store or network glitch passes), recorded once.
        self._refused: dict[str, float] = {}
        self._last_sample: Any = None
        self._stop = threading.Event()
        self._report_now = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Register the deployment, load what the stage holds (waiting if nothing does yet) and
        start following the stage."""
        record = self.client.register_deployment(
            NewDeployment(
                model=self.model,
                stage=self.stage,
                version=self.version,
                artifact=self.artifact,
                endpoint=self.endpoint,
                host=self.host,
                pid=os.getpid(),
                canary_stage=self.canary_stage,
                canary_percent=self.canary_percent,
                max_error_rate=self.max_error_rate,
                report_seconds=self.report_seconds,
            )
        )
        self.deployment_id = record.id
        self.sync()
        self.report()
        self._thread = threading.Thread(target=self._follow, name="modelplane-serve", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following and record that the service stopped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.deployment_id is not None:
            self._event("stopped", self.primary.number if self.primary else None, "The service stopped.")
            self.report(status="stopped")

    def _follow(self) -> None:
        next_report = time.monotonic() + self.report_seconds
        while not self._stop.wait(self.poll_seconds):
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - the store may be away for a while; keep serving
                self.message = f"Could not check the stage: {exc}"
                logger.warning("Could not check the stage of model %r: %s", self.model, exc)
            if self._report_now.is_set() or time.monotonic() >= next_report:
                self._report_now.clear()
                self.report()
                next_report = time.monotonic() + self.report_seconds

    # -- following the stage -------------------------------------------------------------------
    def _holder(self, stage: ModelStages) -> ModelVersionRecord | None:
        try:
            return self.client.get_model_version(self.model, stage)
        except NotFoundError:
            return None

    def sync(self) -> None:
        """Swap in the version the stage holds now (and the canary's), when it changed and loads."""
        wanted = self._holder(self.stage) if self.stage is not None else None
        if self.stage is None and self.primary is None:
            wanted = self.client.get_model_version(self.model, self.version or ModelStages.LATEST)
        if wanted is None and self.primary is None:
            self.message = f"No version of model {self.model!r} is in {self.stage} yet; waiting."
        if wanted is not None and (self.primary is None or wanted.id != self.primary.version_id):
            loaded = self._load(wanted)
            if loaded is not None:
                first = self.primary is None
                self.primary, self.since = loaded, datetime.now(timezone.utc)
                self.message = None
                kind = "started" if first else "swapped"
                self._event(
                    kind, loaded.number,
                    f"Serving version {loaded.number} (loaded and checked in "
                    f"{loaded.load_seconds * 1000:.0f} ms).",
                )
                logger.info("Serving version %s of model %r.", loaded.number, self.model)
        if self.canary_stage is not None:
            self._sync_canary()

    def _sync_canary(self) -> None:
        assert self.canary_stage is not None
        holder = self._holder(self.canary_stage)
        if holder is None or (self.primary is not None and holder.id == self.primary.version_id):
            self.canary = None  # nothing to try, or the canary became the main version
            return
        if self.canary is not None and holder.id == self.canary.version_id:
            return
        loaded = self._load(holder)
        with self._lock:
            self.canary = loaded
            self._window = [0, 0]
            self.canary_state = "active"
        if loaded is not None:
            self._event(
                "swapped", loaded.number,
                f"Canary: {self.canary_percent:g}% of requests go to version {loaded.number} "
                f"({self.canary_stage}).",
            )

    def _load(self, record: ModelVersionRecord) -> Loaded | None:
        refused_at = self._refused.get(record.id)
        if refused_at is not None and time.monotonic() - refused_at < RETRY_REFUSED_SECONDS:
            return None
        try:
            return load_version(
                self.client, self.model, record, self.artifact, fallback_sample=self._last_sample
            )
        except Exception as exc:  # noqa: BLE001 - whatever breaks a version keeps it out
            self._refused[record.id] = time.monotonic()
            if refused_at is not None:
                return None  # refused before: said once
            why = f"Version {record.number} was not swapped in: {type(exc).__name__}: {exc}"
            keeping = f" Still serving version {self.primary.number}." if self.primary else ""
            self.message = why + keeping
            logger.error("%s%s", why, keeping)
            self._event("swap_refused", record.number, why + keeping)
            return None

    # -- answering -----------------------------------------------------------------------------
    def predict(self, body: bytes) -> tuple[bytes, int]:
        """The JSON answer to a scoring request and the version that gave it. Raises
        ``PayloadError`` for input that does not fit, ``ServiceUnavailableError`` before any
        version is loaded, and whatever the model raises."""
        primary = self.primary
        if primary is None:
            raise ServiceUnavailableError(
                self.message or "No model version is loaded yet.",
                hint=f"Promote a version of {self.model!r} to {self.stage}.",
            )
        key, value = parse(body)
        # A plain table of numbers skips the DataFrame for a version with an array model
        # (loading.Loaded.rows); anything else, and every error, goes through the DataFrame.
        rows = primary.rows(key, value)
        frame = read_input(key, value, primary.signature) if rows is None else None
        canary = self.canary
        if canary is not None and self.canary_state == "active" and self._to_canary():
            began = time.perf_counter()
            same = canary.signature == primary.signature
            try:
                answer = self._ask(canary, key, value, rows if same else None, frame if same else None)
            except Exception:  # noqa: BLE001 - counted against the canary; the main version answers
                self.traffic.record(canary.number, time.perf_counter() - began, error=True)
                self._judge_canary(canary, error=True)
            else:
                self.traffic.record(canary.number, time.perf_counter() - began)
                self._judge_canary(canary, error=False)
                return answer, canary.number
        began = time.perf_counter()
        try:
            answer = primary.predict(frame) if rows is None else primary.predict_rows(rows)
        except PayloadError:
            self.traffic.record(primary.number, time.perf_counter() - began)
            raise
        except Exception:
            self.traffic.record(primary.number, time.perf_counter() - began, error=True)
            raise
        self.traffic.record(primary.number, time.perf_counter() - began)
        if self._last_sample is None:
            self._last_sample = (frame if frame is not None else read_input(key, value, primary.signature))[:1]
        return answer, primary.number

    @staticmethod
    def _ask(loaded: Loaded, key: str, value: Any, rows: Any, frame: Any) -> bytes:
        """``loaded``'s answer, from the primary's rows or frame when they fit it, else read anew."""
        if rows is not None and loaded.array_model is not None:
            return loaded.predict_rows(rows)
        return loaded.predict(frame if frame is not None else read_input(key, value, loaded.signature))

    def _to_canary(self) -> bool:
        share = (self.canary_percent or 0) / 100
        n = next(self._counter)
        return math.floor(n * share) != math.floor((n - 1) * share)

    def _judge_canary(self, canary: Loaded, *, error: bool) -> None:
        if self.max_error_rate is None:
            return
        with self._lock:
            if self.canary is not canary or self.canary_state != "active":
                return
            self._window[0] += 1
            self._window[1] += error
            requests, errors = self._window
            if requests < MIN_CANARY_REQUESTS or errors / requests <= self.max_error_rate:
                return
            self.canary_state = "cut_off"
        why = (
            f"Canary version {canary.number} failed {errors} of {requests} requests (error rate "
            f"{errors / requests:.3f} > {self.max_error_rate:g}); it was cut off and version "
            f"{self.primary.number if self.primary else '?'} answers every request."
        )
        logger.error("%s", why)
        self._event("canary_cut_off", canary.number, why)

    # -- reporting -----------------------------------------------------------------------------
    def _event(self, kind: str, version: int | None, message: str) -> None:
        with self._lock:
            self._events.append(DeploymentEvent(kind=kind, version=version, message=message[:4000]))  # type: ignore[arg-type]
        self._report_now.set()

    def report(self, status: str | None = None) -> None:
        """Send the deployment report now (the follower thread does it on its period)."""
        if self.deployment_id is None:
            return
        with self._lock:
            events, self._events = self._events, []
        primary, canary = self.primary, self.canary
        report = DeploymentReport(
            status=status or ("serving" if primary is not None else "starting"),  # type: ignore[arg-type]
            version=primary.number if primary else None,
            canary_version=canary.number if canary else None,
            canary_state=self.canary_state if self.canary_stage else None,  # type: ignore[arg-type]
            traffic=self.traffic.snapshot(),
            events=events,
            message=self.message,
        )
        try:
            self.client.report_deployment(self.deployment_id, report)
        except Exception as exc:  # noqa: BLE001 - the next report carries the events again
            with self._lock:
                self._events[:0] = events
            logger.warning("Could not report deployment %s: %s", self.deployment_id, exc)

    def describe(self) -> dict[str, Any]:
        """What ``GET /version`` answers."""
        primary, canary = self.primary, self.canary
        return {
            "model": self.model,
            "version": primary.number if primary else None,
            "version_id": primary.version_id if primary else None,
            "artifact": primary.artifact if primary else None,
            "stage": self.stage.value if self.stage else None,
            "pinned_version": self.version,
            "since": self.since.isoformat() if self.since else None,
            "canary": None if self.canary_stage is None else {
                "stage": self.canary_stage.value,
                "percent": self.canary_percent,
                "version": canary.number if canary else None,
                "state": self.canary_state,
                "max_error_rate": self.max_error_rate,
            },
            "deployment_id": self.deployment_id,
            "message": self.message,
        }
