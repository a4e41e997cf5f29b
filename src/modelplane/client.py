"""``Client``: the one Python facade over the metadata store and the artifact store.

Every store operation is a ``Client`` method: those that only forward are not written here but
come from the operation's declaration (``metadata/store.py``), with the caller's name filled in
where the operation records who acted. The methods below are the ones that do more than one store
call: resolving names and specs, loading and deleting artifact bytes, reaping abandoned runs.

Built from explicit ``Settings`` (or ``load_settings()`` when none are given); there is no
module-level client. Stores are opened lazily and shared per URL within a process, so building a
``Client`` is cheap.
"""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from modelplane.config import Settings, default_store_url, load_settings, project_artifact_uri
from modelplane.enums import ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.operations import Operation
from modelplane.metadata.records import ArtifactVersionRecord, ModelVersionRecord, RunRecord
from modelplane.metadata.store import MetadataStore, VersionRef, store_operations
from modelplane.processes import current_host, is_running

if TYPE_CHECKING:
    from modelplane.artifacts.migrate import Moved
    from modelplane.artifacts.prune import Leftover

__all__ = ["Client"]

_OPEN_STORES: dict[tuple[str, str | None, str], MetadataStore] = {}
_OPEN_LOCK = threading.Lock()
_ID_LENGTH = 32


def _open_metadata_store(settings: Settings) -> MetadataStore:
    key = (settings.store_url, settings.api_token, settings.project)
    with _OPEN_LOCK:
        store = _OPEN_STORES.get(key)
        if store is None:
            if settings.is_remote:
                from modelplane.metadata.http import HttpMetadataStore

                store = HttpMetadataStore(
                    settings.store_url, token=settings.api_token, project=settings.project
                )
            else:
                if settings.store_url == default_store_url(settings.home):
                    settings.home.mkdir(parents=True, exist_ok=True)  # only the default's folder
                store = _open_sql_store(settings)
            _OPEN_STORES[key] = store
        return store


def _open_sql_store(settings: Settings) -> MetadataStore:
    """A local SQLite file's store runs a pipeline's writes without SQLAlchemy (``LocalStore``);
    any other database's is the SQL store."""
    from modelplane.metadata.light import sqlite_path

    if sqlite_path(settings.store_url) is not None:
        from modelplane.metadata.local_store import LocalStore

        return LocalStore(settings.store_url, project=settings.project)  # type: ignore[return-value]
    from modelplane.metadata.sql.store import SqlMetadataStore

    return SqlMetadataStore(settings.store_url, project=settings.project)


def close_open_stores() -> None:
    """Close every store this process opened (tests call this between databases)."""
    with _OPEN_LOCK:
        for store in _OPEN_STORES.values():
            store.close()
        _OPEN_STORES.clear()


def _looks_like_id(value: str) -> bool:
    return len(value) == _ID_LENGTH and all(c in "0123456789abcdef" for c in value)


def _forward(op: Operation) -> Callable[..., Any]:
    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        if op.caller is not None and kwargs.get(op.caller) is None:
            kwargs[op.caller] = self.settings.actor
        return getattr(self.store, op.name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = op.name
    call.__doc__ = op.func.__doc__
    call.__signature__ = inspect.signature(op.func)  # type: ignore[attr-defined]
    return call


class _StoreOperations:
    """A method per declared store operation, forwarding to ``self.store``."""

    store: MetadataStore
    settings: Settings


for _op in store_operations():
    setattr(_StoreOperations, _op.name, _forward(_op))


class Client(_StoreOperations):
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
            uri = project_artifact_uri(uri, self.settings.project)
            self._artifact_store = FsspecArtifactStore(uri)
        return self._artifact_store

    # -- runs -------------------------------------------------------------------------------
    def reap_abandoned_runs(
        self, *, gone: Sequence[str] = (), reaper: str | None = None
    ) -> list[RunRecord]:
        """Fail the runs still ``running`` that nothing drives any more; returns them.

        A run killed with SIGKILL, or lost with its machine, cannot mark itself finished. Two
        signs tell: on this host, its process no longer exists (or its pid now belongs to a newer
        process), which only this host can see, so this method looks and names them to the store;
        on any host, it has been silent for many heartbeat periods, which the store judges by its
        own clock. Pipeline calls, ``modelplane run reap`` and the server's reaper call this;
        reading runs never does. Versions such a run created for a model with
        ``delete_new_version_on_failure`` go with it, as they would have had it lived to fail.
        """
        host = current_host()
        seen_gone = [
            run.id
            for run in self._running_runs_here(host)
            if run.pid is not None and not is_running(run.pid, run.created)
        ]
        return self.store.reap_abandoned_runs(gone=[*gone, *seen_gone], reaper=reaper or host)

    def _running_runs_here(self, host: str) -> list[RunRecord]:
        running: list[RunRecord] = []
        while True:
            page = self.store.list_runs(
                status=ExecutionStatus.RUNNING, host=host, limit=1000, offset=len(running)
            )
            running.extend(page.items)
            if not page.items or len(running) >= page.total:
                return running

    # -- artifacts ----------------------------------------------------------------------------
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

    def delete_artifact_version(
        self, name_or_id: str, version: int | str | None = None
    ) -> ArtifactVersionRecord:
        """Delete the record, its model links and its bytes; returns the deleted record."""
        record = self.get_artifact_version(name_or_id, version)
        deleted = self.store.delete_artifact_version(record.id)
        self.artifact_store.owner_of(deleted.uri).delete(deleted.uri)  # wherever it was written
        return deleted

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

    def migrate_artifacts(
        self,
        to: str,
        *,
        keep: bool = False,
        dry_run: bool = False,
        on_moved: Callable[[Moved], None] | None = None,
    ) -> list[Moved]:
        """Move the bytes of every artifact version not yet in the artifact store at ``to`` there,
        each copy verified before its record moves (``artifacts.migrate``); ``keep`` leaves the
        old folders, ``dry_run`` only lists what would move."""
        from modelplane.artifacts.migrate import migrate_artifacts
        from modelplane.artifacts.store import FsspecArtifactStore

        target = FsspecArtifactStore(to)
        return migrate_artifacts(
            self.store, self.artifact_store, target, keep=keep, dry_run=dry_run, on_moved=on_moved
        )

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

    # -- models -------------------------------------------------------------------------------
    def get_model_version(self, model: str, version: VersionRef = ModelStages.LATEST) -> ModelVersionRecord:
        return self.store.get_model_version(model, version)
