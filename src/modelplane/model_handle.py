"""A handle on one stored model version (its record and a ``Client``), and the read-only lookup that
binds a ``Model`` request outside a run.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import logging
from typing import Any, Callable, Iterator

from modelplane.client import Client
from modelplane.enums import SINGLE_HOLDER_STAGES, ArtifactType, ModelStages
from modelplane.errors import NotFoundError, PromotionBlockedError
from modelplane.metadata.json_values import to_json_metadata
from modelplane.metadata.records import ArtifactLinkRecord, ArtifactVersionRecord, ModelVersionRecord, RunRecord
from modelplane.versioning import VersionSpec

__all__ = ["ModelVersionHandle", "RunningStep", "read_version", "running_step", "warn_refused"]

logger = logging.getLogger("modelplane")

# How many versions a "no such version" error lists, newest first.
LISTED_VERSIONS = 10


@dataclasses.dataclass(frozen=True)
class RunningStep:
    """The step run whose code runs now, and the id of its run's model version (if any)."""

    step_run_id: str
    step_name: str
    model_version_id: str | None
    # Sends the metric points the step logged so far: a promotion's gates read them.
    flush_metrics: Callable[[], None] | None = dataclasses.field(default=None, compare=False)


_RUNNING: contextvars.ContextVar[RunningStep | None] = contextvars.ContextVar(
    "modelplane_running_step", default=None
)


@contextlib.contextmanager
def running_step(step: RunningStep) -> Iterator[RunningStep]:
    """Set while a step's code runs (``context.step_context`` sets it)."""
    token = _RUNNING.set(step)
    try:
        yield step
    finally:
        _RUNNING.reset(token)


def _own_step_run(model_version_id: str) -> str | None:
    """The running step run's id when ``model_version_id`` is its run's model version: what it
    logs there, or the stages it asks for, are recorded on it so a cache hit can repeat them."""
    step = _RUNNING.get()
    if step is not None and step.model_version_id == model_version_id:
        return step.step_run_id
    return None


def warn_refused(error: PromotionBlockedError, where: str, model_name: str, number: int) -> None:
    """Say in the run's output that the gates refused a promotion asked for by ``where``."""
    logger.warning(
        "%s: %s Version %s is kept and the step goes on (`modelplane model version history "
        "%s %s` shows the refusal).",
        where,
        error.message,
        number,
        model_name,
        number,
    )


class ModelVersionHandle:
    """One stored model version and the client that reads and changes it.

    The handle keeps the version's record and answers ``number``, ``stage``, ``metadata``… from it,
    without a store call. ``set_stage`` takes the record the store answers with; ``log_metadata``
    makes the next read of ``stage``, ``metadata`` or ``record`` fetch the record once more. Changes
    made elsewhere (another process, the CLI, the dashboard) show after ``refresh()``. The linked
    artifacts and runs are read from the store on every call: a running pipeline adds to them.

    ``fresh=False`` says the record may be old (a step gets the record its run resolved at start):
    the first read of a field that can change fetches it once; ``id`` and ``number`` never do.
    """

    def __init__(
        self, client: Client, record: ModelVersionRecord, *, created: bool = False, fresh: bool = True
    ) -> None:
        self.client = client
        self._record = record
        self._fresh = fresh
        self.was_created_in_this_run = created

    # -- the record ------------------------------------------------------------------------------
    def refresh(self) -> ModelVersionHandle:
        """Read the version's record again (one store call); the handle stays on the same version."""
        self._record = self.client.get_model_version_by_id(self._record.id)
        self._fresh = True
        return self

    @property
    def cached_record(self) -> ModelVersionRecord:
        """The record as last read, with no store call even when it may be old."""
        return self._record

    @property
    def record(self) -> ModelVersionRecord:
        if not self._fresh:
            self.refresh()
        return self._record

    # What a version is never changes: these read the record as bound.
    @property
    def id(self) -> str:
        return self._record.id

    @property
    def model_id(self) -> str:
        return self._record.model_id

    @property
    def model_name(self) -> str:
        return self._record.model_name

    @property
    def number(self) -> int:
        return self._record.number

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def stage(self) -> ModelStages:
        return self.record.stage

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.record.metadata)

    # -- changing it -----------------------------------------------------------------------------
    def set_stage(
        self,
        stage: ModelStages | str,
        force: bool = False,
        *,
        expected_current: int | None = None,
        reason: str | None = None,
    ) -> ModelVersionHandle:
        """Move the version to ``stage`` (``force`` archives the holder; the model's gates still
        apply).

        Inside a running step, a move the gates refuse is not the step's failure: it is logged as
        a warning naming the gates, recorded as ``refused`` in the stage history, and the version
        stays where it is (so the run, and the version it trained, are kept). Outside a step it
        raises ``PromotionBlockedError``.
        """
        step = _RUNNING.get()
        if step is not None and step.flush_metrics is not None:
            step.flush_metrics()  # gates may read what the step logged just before (``loss.min``)
        try:
            self._record = self.client.set_stage(
                self._record.model_name,
                self._record.id,
                stage,
                force=force,
                expected_current=expected_current,
                reason=reason,
                step_run_id=_own_step_run(self._record.id),
            )
        except PromotionBlockedError as error:
            if step is None:
                raise
            warn_refused(error, f"Step '{step.step_name}'", self.model_name, self.number)
            self._fresh = False
            return self
        self._fresh = True
        return self

    def log_metadata(self, metadata: dict[str, Any]) -> None:
        """Merge ``metadata`` into the version's (deeply: nested dicts key by key; numpy numbers
        and small arrays are logged as numbers and lists); the next read of ``metadata`` fetches
        the result."""
        self.client.add_metadata(
            "model_version",
            self._record.id,
            to_json_metadata(metadata),
            step_run_id=_own_step_run(self._record.id),
        )
        self._fresh = False

    # -- what is linked to it --------------------------------------------------------------------
    def links(self, kind: ArtifactType | None = None, name: str | None = None) -> list[ArtifactLinkRecord]:
        return self.client.list_artifact_links(self._record.model_id, self._record.id, kind=kind, name=name, limit=1000).items

    def get_artifact(
        self, name: str, version: int | None = None, *, kind: ArtifactType | None = None
    ) -> ArtifactVersionRecord | None:
        """The linked artifact version called ``name`` (newest link, or the given artifact version)."""
        for link in self.links(kind=kind, name=name):
            if version is None or link.artifact_version.version == int(version):
                return link.artifact_version
        for link in self.links(kind=kind):  # a link name may differ from the artifact's own name
            if link.artifact_version.name == name and (
                version is None or link.artifact_version.version == int(version)
            ):
                return link.artifact_version
        return None

    def load_artifact(self, name: str, version: int | None = None) -> Any:
        record = self.get_artifact(name, version)
        if record is None:
            names = sorted({link.name for link in self.links()})
            raise NotFoundError(
                f"Version {self.number} of model '{self.model_name}' has no artifact linked as '{name}'.",
                hint=f"Linked names: {', '.join(names) or 'none'}.",
            )
        return self.client.load_artifact_version(record)

    def runs(self) -> list[RunRecord]:
        return self.client.list_model_version_runs(self._record.model_id, self._record.id, limit=1000).items

    def __repr__(self) -> str:
        return f"ModelVersionHandle(model={self.model_name!r}, version={self.name!r}, number={self.number})"


def read_version(client: Client, model: str, spec: VersionSpec, given: Any) -> ModelVersionRecord:
    """The stored version of ``model`` that ``spec`` names, found with read-only store calls.

    No spec (``kind == "new"``) means the latest version. A number, stage, ``latest`` or name that
    matches nothing raises ``NotFoundError`` listing the stages held and the versions that exist.
    """
    try:
        return client.get_model_version(model, ModelStages.LATEST if spec.kind == "new" else given)
    except NotFoundError:
        error = _missing_version(client, model, spec)
    raise error


def _missing_version(client: Client, model: str, spec: VersionSpec) -> NotFoundError:
    store = client
    # An unknown model: the store's own error names it and the models that exist.
    record = store.get_model(model)
    if record.version_count == 0:
        return NotFoundError(
            f"Model '{record.name}' has no versions yet.",
            hint=f"Run a pipeline with model=Model(name='{record.name}') to create version 1: "
            "only pipeline runs create versions.",
        )
    newest = store.list_model_versions(record.name, sort="-number", limit=LISTED_VERSIONS)
    held = []
    for stage in SINGLE_HOLDER_STAGES:
        holders = store.list_model_versions(record.name, stage=stage, limit=1).items
        if holders:
            held.append(f"{stage} → {holders[0].number}")
    listed = ", ".join(_label(version) for version in reversed(newest.items))
    shown = len(newest.items)
    counted = f" (newest {shown} of {newest.total})" if newest.total > shown else ""
    if spec.kind == "stage":
        what = f"No version of model '{record.name}' is in stage '{spec.stage}'."
    elif spec.kind in ("number", "name"):
        what = f"Model '{record.name}' has no {spec.describe()}."
    else:  # the latest version was deleted since the lookup
        what = f"Model '{record.name}' has no latest version."
    return NotFoundError(
        f"{what} Stages held: {', '.join(held) or 'none'}. Versions{counted}: {listed}.",
        hint=_pick_hint(record.name, spec, newest.items),
    )


def _label(version: ModelVersionRecord) -> str:
    if version.name == str(version.number):
        return str(version.number)
    return f"{version.number} '{version.name}'"


def _pick_hint(model: str, spec: VersionSpec, versions: list[ModelVersionRecord]) -> str:
    hint = ""
    if spec.kind == "name" and spec.name is not None:
        names = [version.name for version in versions if not version.name.isdigit()]
        stages = [str(stage) for stage in (*SINGLE_HOLDER_STAGES, ModelStages.LATEST)]
        close = difflib.get_close_matches(spec.name, stages + names, n=1, cutoff=0.75)
        if close:
            hint = f"Did you mean '{close[0]}'? "
    return hint + (
        f"Pick one with Model(name='{model}', version=…): a number, a name, staging, production "
        f"or latest (`modelplane model version list {model}` lists them all). Reading a model "
        "never creates a version; a pipeline run with a new version name does."
    )
