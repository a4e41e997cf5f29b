"""The server's stores, one per project: ``default``'s (which also holds the registry of projects,
the users and the tokens) and, opened when first asked for, one on each other project, sharing
``default``'s store for those calls (``metadata/sql/projects.py`` says where each project's
tables live)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from modelplane.config import DEFAULT_PROJECT, project_artifact_uri

if TYPE_CHECKING:
    from modelplane.metadata.store import MetadataStore

__all__ = ["ProjectStores"]


class ProjectStores:
    def __init__(self, control: MetadataStore, artifacts: Any = None) -> None:
        self.control = control
        self._open: dict[str, MetadataStore] = {DEFAULT_PROJECT: control}
        self._lock = threading.Lock()
        # The artifact store of default (the server's root); another project's is the folder
        # ``projects/<name>`` under it, where that project's clients write (``Client``).
        self._artifacts: dict[str, Any] = {DEFAULT_PROJECT: artifacts}

    def artifacts(self, project: str) -> Any:
        """The artifact store whose folders ``project``'s versions may name: only those are
        served for it (a record pointing into another project's folder is refused)."""
        found = self._artifacts.get(project)
        if found is None:
            from modelplane.artifacts.store import FsspecArtifactStore

            home = self._artifacts[DEFAULT_PROJECT]
            found = FsspecArtifactStore(
                project_artifact_uri(home.root, project),
                read_anywhere=False,
                storage_options=getattr(home, "_storage_options", None),
            )
            self._artifacts[project] = found
        return found

    def opened(self, project: str) -> MetadataStore | None:
        """The store of ``project`` if it is open already."""
        return self._open.get(project)

    def get(self, project: str) -> MetadataStore:
        """The store of ``project``; ``NotFoundError`` when there is no such project."""
        found = self._open.get(project)
        if found is not None:
            return found
        with self._lock:
            found = self._open.get(project)
            if found is None:
                from modelplane.metadata.sql.store import SqlMetadataStore

                found = SqlMetadataStore(
                    self.control.url, project=project, control=self.control  # type: ignore[arg-type]
                )
                self._open[project] = found
            return found

    def every(self) -> list[MetadataStore]:
        """The store of every project that exists now (for the background work: webhooks,
        reaping); a deleted project's store is closed and dropped."""
        names = [p.name for p in self.control.list_projects()]
        with self._lock:
            for gone in set(self._open) - set(names) - {DEFAULT_PROJECT}:
                self._open.pop(gone).close()
        return [self.get(name) for name in names]

    def forget(self, project: str) -> None:
        """Close the store of a project that was just deleted."""
        if project == DEFAULT_PROJECT:
            return
        with self._lock:
            found = self._open.pop(project, None)
        if found is not None:
            found.close()

    def close(self) -> None:
        with self._lock:
            for name, store in list(self._open.items()):
                if name != DEFAULT_PROJECT:
                    store.close()
            self._open = {DEFAULT_PROJECT: self.control}
