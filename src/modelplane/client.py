"""``Client``: the one Python facade over the metadata store and the artifact store.

Built from explicit ``Settings`` (or ``load_settings()`` when none are given); there is no
module-level client. Stores are opened lazily and shared per URL within a process, so building a
``Client`` is cheap.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from modelplane.config import Settings, load_settings
from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import (
    ArtifactLinkRecord,
    ArtifactRecord,
    ArtifactVersionRecord,
    ModelRecord,
    ModelVersionRecord,
    Page,
    PipelineRecord,
    RunRecord,
    StageChangeRecord,
    StepRunRecord,
    StoreInfo,
)
from modelplane.metadata.store import MetadataStore, MetadataTarget, VersionRef
from modelplane.processes import current_host, is_running

if TYPE_CHECKING:
    from modelplane.artifacts.prune import Leftover

__all__ = ["Client"]

_OPEN_STORES: dict[tuple[str, str | None], MetadataStore] = {}
_OPEN_LOCK = threading.Lock()
_ID_LENGTH = 32


def _open_metadata_store(settings: Settings) -> MetadataStore:
    key = (settings.store_url, settings.api_token)
    with _OPEN_LOCK:
        store = _OPEN_STORES.get(key)
        if store is None:
            if settings.is_remote:
                from modelplane.metadata.http import HttpMetadataStore

                store = HttpMetadataStore(settings.store_url, token=settings.api_token)
            else:
                from modelplane.metadata.sql.store import SqlMetadataStore

                store = SqlMetadataStore(settings.store_url)
            _OPEN_STORES[key] = store
        return store


def close_open_stores() -> None:
    """Close every store this process opened (tests call this between databases)."""
    with _OPEN_LOCK:
        for store in _OPEN_STORES.values():
            store.close()
        _OPEN_STORES.clear()


def _looks_like_id(value: str) -> bool:
    return len(value) == _ID_LENGTH and all(c in "0123456789abcdef" for c in value)


# A run that misses this many heartbeats in a row is taken for lost (10 minutes at the default 30 s).
SILENT_BEATS = 20


def _silence_allowed(run: RunRecord) -> dt.timedelta:
    return dt.timedelta(seconds=SILENT_BEATS * float(run.config.get("heartbeat_seconds") or 30.0))


def _silent_for_too_long(run: RunRecord, now: dt.datetime) -> bool:
    # Runs from before heartbeats (no heartbeat, no interval in their config) are left alone.
    if run.heartbeat is None or "heartbeat_seconds" not in run.config:
        return False
    return now - run.heartbeat > _silence_allowed(run)


class Client:
    """Lists, gets, changes and deletes everything modelplane stores."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: MetadataStore | None = None,
        artifact_store: Any = None,
    ) -> None:
        self.settings = settings or load_settings()
        self._store = store
        self._artifact_store = artifact_store

    # -- the two stores ---------------------------------------------------------------------
    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = _open_metadata_store(self.settings)
        return self._store

    @property
    def artifact_store(self) -> Any:
        if self._artifact_store is None:
            from modelplane.artifacts.store import FsspecArtifactStore

            uri = self.settings.artifact_uri
            if self.settings.is_remote:
                uri = self.store.info().artifact_uri or uri
            self._artifact_store = FsspecArtifactStore(uri)
        return self._artifact_store

    def info(self) -> StoreInfo:
        return self.store.info()

    # -- pipelines, runs, steps --------------------------------------------------------------
    def get_pipeline(self, pipeline: str) -> PipelineRecord:
        return self.store.get_pipeline(pipeline)

    def list_pipelines(self, *, name: str | None = None, limit: int = 50, offset: int = 0) -> Page[PipelineRecord]:
        return self.store.list_pipelines(name=name, limit=limit, offset=offset)

    def delete_pipeline(self, pipeline: str) -> None:
        self.store.delete_pipeline(pipeline)

    def get_run(self, run: str) -> RunRecord:
        return self.store.get_run(run)

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | str | None = None,
        model: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunRecord]:
        if isinstance(status, str) and not isinstance(status, ExecutionStatus):
            try:
                status = ExecutionStatus(status.lower())
            except ValueError:
                raise InvalidInputError(
                    f"Unknown run status {status!r}.",
                    hint=f"Use one of: {', '.join(s.value for s in ExecutionStatus)}.",
                ) from None
        return self.store.list_runs(pipeline=pipeline, status=status, model=model, limit=limit, offset=offset)

    def fail_abandoned_runs(self) -> list[RunRecord]:
        """Mark failed the runs still ``running`` whose process is gone; returns them, as now.

        A run killed with SIGKILL, or lost with its machine, cannot mark itself finished. Two
        signs tell: on this host, its process no longer exists (or its pid now belongs to a newer
        process); on any host, it has sent no heartbeat for ``SILENT_BEATS`` heartbeat periods.
        Pipeline calls, ``modelplane run list``/``describe`` and the server call this, so such runs
        do not stay ``running`` forever. Versions such a run created for a model with
        ``delete_new_version_on_failure`` are deleted, as the run would have done.
        """
        host = current_host()
        now = dt.datetime.now(dt.timezone.utc)
        marked = []
        for run in self._running_runs():
            silent_since = None
            if run.host == host and run.pid is not None and not is_running(run.pid, run.created):
                error = (
                    f"Abandoned: process {run.pid} on {host}, which was running this pipeline, "
                    "ended without finishing the run (it was killed or crashed)."
                )
            elif _silent_for_too_long(run, now):
                silent_since = now - _silence_allowed(run)
                error = (
                    f"Abandoned: process {run.pid} on {run.host} sent no heartbeat since "
                    f"{run.heartbeat:%Y-%m-%d %H:%M:%S} UTC (its machine or container was lost, "
                    "or it hung)."
                )
            else:
                continue
            error += f" Marked failed at {now:%Y-%m-%d %H:%M:%S} UTC by {host}."
            if self.store.abandon_run(run.id, error, silent_since=silent_since):
                self._discard_versions_of_failed_run(run)
                marked.append(self.store.get_run(run.id))
        return marked

    def _running_runs(self) -> list[RunRecord]:
        running: list[RunRecord] = []
        while True:
            page = self.store.list_runs(
                status=ExecutionStatus.RUNNING, limit=200, offset=len(running)
            )
            running.extend(page.items)
            if not page.items or len(running) >= page.total:
                return running

    def _discard_versions_of_failed_run(self, run: RunRecord) -> None:
        # The versions the run created for models with delete_new_version_on_failure, which its
        # process would have deleted had it lived to see the failure.
        for version_id in run.config.get("discard_on_failure") or []:
            try:
                version = self.store.get_model_version_by_id(str(version_id))
                self.store.delete_model_version(version.model_id, version.id, force=True)
            except NotFoundError:
                continue

    def delete_run(self, run: str) -> None:
        self.store.delete_run(run)

    def list_step_runs(self, run: str) -> list[StepRunRecord]:
        return self.store.list_step_runs(self.store.get_run(run).id)

    def get_step_run(self, step_run_id: str) -> StepRunRecord:
        return self.store.get_step_run(step_run_id)

    def get_step_logs(self, step_run_id: str) -> str:
        return self.store.get_step_logs(step_run_id)

    # -- artifacts ----------------------------------------------------------------------------
    def list_artifacts(self, *, name: str | None = None, limit: int = 50, offset: int = 0) -> Page[ArtifactRecord]:
        return self.store.list_artifacts(name=name, limit=limit, offset=offset)

    def list_artifact_versions(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[ArtifactVersionRecord]:
        return self.store.list_artifact_versions(name=name, limit=limit, offset=offset)

    def get_artifact_version(self, name_or_id: str, version: int | str | None = None) -> ArtifactVersionRecord:
        """By artifact version id, or by artifact name and version number (highest when omitted)."""
        if version is None and _looks_like_id(name_or_id):
            try:
                return self.store.get_artifact_version(name_or_id)
            except NotFoundError:
                pass
        number: int | None = None
        if version is not None:
            if isinstance(version, str) and not version.strip().isdigit():
                raise InvalidInputError(
                    f"Artifact version {version!r} is not a number.", hint="Artifact versions are 1, 2, 3…"
                )
            number = int(version)
        return self.store.find_artifact_version(name_or_id, number)

    def load_artifact(self, name_or_id: str, version: int | str | None = None) -> Any:
        """The value of an artifact version, read through its materializer."""
        return self.load_artifact_version(self.get_artifact_version(name_or_id, version))

    def load_artifact_version(self, record: ArtifactVersionRecord) -> Any:
        from modelplane.artifacts.materializers import load_value

        return load_value(
            self.artifact_store,
            uri=record.uri,
            materializer=record.materializer,
            data_type=record.data_type,
            size=record.size,
            content_hash=record.content_hash,
        )

    def delete_artifact_version(self, name_or_id: str, version: int | str | None = None) -> None:
        """Delete the record, its model links and its bytes."""
        record = self.get_artifact_version(name_or_id, version)
        deleted = self.store.delete_artifact_version(record.id)
        self.artifact_store.delete(deleted.uri)

    def prune_artifacts(
        self, *, older_than: float = 3600.0, dry_run: bool = False, force: bool = False
    ) -> list[Leftover]:
        """Remove artifact folders no artifact version refers to (what crashes leave behind).

        Unfinished writes and folders whose record was never committed or was deleted, untouched
        for ``older_than`` seconds; ``dry_run`` only reports them. Refuses, unless ``force``, when
        most folders have no record: that is the wrong metadata store, not garbage.
        """
        from modelplane.artifacts.prune import find_leftovers, remove_leftovers

        leftovers = find_leftovers(
            self.artifact_store,
            self._known_artifact_version_ids,
            older_than=older_than,
            store_name=self.settings.store_url,
            force=force,
        )
        if not dry_run:
            remove_leftovers(self.artifact_store, leftovers)
        return leftovers

    def _known_artifact_version_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = set(ids)
        listed: set[str] = set()
        offset = 0
        while True:
            page = self.store.list_artifact_versions(limit=1000, offset=offset)
            listed.update(version.id for version in page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
        known = wanted & listed
        # Paging can skip a row when another client deletes one meanwhile: ask for each id the
        # listing did not show before calling its folder garbage.
        for missing in wanted - listed:
            try:
                self.store.get_artifact_version(missing)
                known.add(missing)
            except NotFoundError:
                pass
        return known

    def log_metadata(self, target: MetadataTarget, target_id: str, metadata: dict[str, Any]) -> None:
        self.store.add_metadata(target, target_id, metadata)

    # -- models -------------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        return self.store.create_model(name, tags=tags, gates=gates, **card)

    def get_model(self, model: str) -> ModelRecord:
        return self.store.get_model(model)

    def list_models(
        self, *, name: str | None = None, tag: str | None = None, sort: str = "name", limit: int = 50, offset: int = 0
    ) -> Page[ModelRecord]:
        return self.store.list_models(name=name, tag=tag, sort=sort, limit=limit, offset=offset)

    def update_model(
        self,
        model: str,
        *,
        new_name: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        """Card fields given as ``None`` stay; ``gates`` replace the model's gates when given."""
        return self.store.update_model(
            model, new_name=new_name, add_tags=add_tags, remove_tags=remove_tags, gates=gates, **card
        )

    def delete_model(self, model: str) -> None:
        self.store.delete_model(model)

    def create_model_version(
        self,
        model: str,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
    ) -> ModelVersionRecord:
        return self.store.create_model_version(
            model, name=name, description=description, tags=tags, metadata=metadata
        )

    def get_model_version(self, model: str, version: VersionRef = ModelStages.LATEST) -> ModelVersionRecord:
        return self.store.get_model_version(model, version)

    def list_model_versions(
        self,
        model: str,
        *,
        stage: ModelStages | str | None = None,
        tag: str | None = None,
        name: str | None = None,
        sort: str = "-number",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelVersionRecord]:
        return self.store.list_model_versions(
            model, stage=stage, tag=tag, name=name, sort=sort, limit=limit, offset=offset
        )

    def update_model_version(
        self,
        model: str,
        version: VersionRef,
        *,
        name: str | None = None,
        description: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> ModelVersionRecord:
        return self.store.update_model_version(
            model, version, name=name, description=description, add_tags=add_tags, remove_tags=remove_tags
        )

    def delete_model_version(self, model: str, version: VersionRef, *, force: bool = False) -> None:
        self.store.delete_model_version(model, version, force=force)

    def set_stage(
        self,
        model: str,
        version: VersionRef,
        stage: ModelStages | str,
        *,
        force: bool = False,
        expected_current: int | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> ModelVersionRecord:
        return self.store.set_stage(
            model,
            version,
            stage,
            force=force,
            expected_current=expected_current,
            actor=actor or self.settings.actor,
            reason=reason,
        )

    def list_stage_changes(
        self,
        model: str,
        *,
        version: VersionRef | None = None,
        stage: ModelStages | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[StageChangeRecord]:
        return self.store.list_stage_changes(model, version=version, stage=stage, limit=limit, offset=offset)

    def get_stage_holder_at(self, model: str, stage: ModelStages | str, at: datetime) -> ModelVersionRecord | None:
        return self.store.get_stage_holder_at(model, stage, at)

    def rollback_stage(self, model: str, stage: ModelStages | str, *, reason: str | None = None) -> ModelVersionRecord:
        return self.store.rollback_stage(model, stage, actor=self.settings.actor, reason=reason)

    def list_artifact_links(
        self,
        model: str,
        version: VersionRef,
        *,
        kind: ArtifactType | str | None = None,
        name: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[ArtifactLinkRecord]:
        mv = self.store.get_model_version(model, version)
        kind = ArtifactType(kind) if isinstance(kind, str) else kind
        return self.store.list_artifact_links(mv.id, kind=kind, name=name, limit=limit, offset=offset)

    def list_model_version_runs(
        self, model: str, version: VersionRef, *, limit: int = 50, offset: int = 0
    ) -> Page[RunRecord]:
        mv = self.store.get_model_version(model, version)
        return self.store.list_model_version_runs(mv.id, limit=limit, offset=offset)

