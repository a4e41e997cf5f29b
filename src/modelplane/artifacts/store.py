"""Artifact bytes: one folder per artifact version, written under a temporary name, then moved.

Layout: ``<root>/<artifact_version_id>/`` holds a version's files; ``<root>/.tmp/<id>-<random>/`` is
where they are written first. A local root uses plain ``os`` calls (importing fsspec costs ~150 ms);
any other fsspec URL (``s3://bucket/prefix``, ``memory://x``) goes through fsspec.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import IO, Any, Protocol

from modelplane.artifacts.folder import (
    ArtifactFolder,
    default_hash_algorithm,
    folder_hash,
    new_hasher,
    relative_files,
)
from modelplane.errors import ArtifactError, ConfigError

__all__ = [
    "ARTIFACT_ID_PATTERN",
    "TEMP_DIR",
    "ArtifactStore",
    "ArtifactWrite",
    "FsspecArtifactStore",
    "StoredFolder",
    "WrittenArtifact",
    "check_artifact_id",
    "new_artifact_id",
]

ARTIFACT_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
TEMP_DIR = ".tmp"
STALE_TEMP_SECONDS = 3600.0
# Below this, block allocation during the write costs less than the extra system call.
_PREALLOCATE_MIN = 8 << 20


def new_artifact_id() -> str:
    """A fresh artifact version id: 32 lowercase hex digits."""
    return uuid.uuid4().hex


def check_artifact_id(artifact_version_id: str) -> str:
    """``artifact_version_id`` if it is 32 lowercase hex digits, so paths built from it stay put."""
    if not isinstance(artifact_version_id, str) or not ARTIFACT_ID_PATTERN.fullmatch(
        artifact_version_id
    ):
        raise ArtifactError(
            f"{artifact_version_id!r} is not an artifact version id.",
            hint="Artifact version ids are 32 lowercase hex digits (uuid4().hex); "
            "use the id the metadata store gave you.",
        )
    return artifact_version_id


@dataclass(frozen=True)
class WrittenArtifact:
    uri: str
    size: int
    content_hash: str


@dataclass(frozen=True)
class StoredFolder:
    """A folder under the artifact root: a version's bytes (``artifact_version_id`` set), or an
    unfinished write in ``.tmp`` (``None``)."""

    path: str  # in the store's file system
    uri: str  # as users see it
    artifact_version_id: str | None


class ArtifactWrite:
    """One artifact version being written: fill ``folder``, then ``commit()`` or ``abort()``.

    Used as a context manager, leaving the block without ``commit()`` (an exception, say) aborts:
    the temporary folder is removed. Commit moves the folder into its final place; only then may
    the caller record metadata pointing at it.
    """

    def __init__(self, store: FsspecArtifactStore, artifact_version_id: str, temp: str) -> None:
        self._store = store
        self._id = artifact_version_id
        self._temp = temp
        self._done = False
        self.folder = ArtifactFolder(
            store._ops, temp, writable=True, algorithm=store.hash_algorithm
        )

    def commit(self) -> WrittenArtifact:
        if self._done:
            raise ArtifactError(
                f"The write of artifact {self._id} was already committed or aborted.",
                hint="Start a new write with begin_write().",
            )
        self._done = True
        try:
            count, size, content_hash = self.folder.summary()
            if not count:
                raise ArtifactError(
                    f"Nothing was written for artifact {self._id}.",
                    hint="A materializer must write at least one file into its folder.",
                )
            self._store._move_into_place(self._temp, self._id)
        except BaseException:
            self._store._ops.remove_tree(self._temp)
            raise
        self.folder = ArtifactFolder(
            self._store._ops, self._store._path_of(self._id), writable=False
        )
        return WrittenArtifact(self._store.uri_for(self._id), size, content_hash)

    def abort(self) -> None:
        if not self._done:
            self._done = True
            self._store._ops.remove_tree(self._temp)

    def __enter__(self) -> ArtifactWrite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()  # a no-op after commit(); otherwise nothing half-done is left behind


class ArtifactStore(Protocol):
    """Where artifact bytes live. URIs are built by the store, never from user strings."""

    @property
    def root(self) -> str: ...
    def uri_for(self, artifact_version_id: str) -> str: ...
    def resolve(self, uri: str) -> str: ...
    def begin_write(self, artifact_version_id: str) -> ArtifactWrite: ...
    def folder(self, uri: str) -> ArtifactFolder: ...
    def size(self, uri: str) -> int: ...
    def content_hash(self, uri: str, algorithm: str) -> str: ...
    def exists(self, uri: str) -> bool: ...
    def delete(self, uri: str) -> None: ...
    def owner_of(self, uri: str) -> ArtifactStore: ...
    def gc_temp(self, max_age_seconds: float = STALE_TEMP_SECONDS) -> int: ...
    def list_folders(self) -> list[StoredFolder]: ...
    def folder_usage(self, folder: StoredFolder) -> tuple[int, float]: ...
    def remove_folder(self, folder: StoredFolder) -> None: ...


class _LocalOps:
    """File operations on a local disk with plain ``os`` calls."""

    def __init__(self, durable: bool) -> None:
        self.durable = durable

    def open(self, path: str, mode: str) -> IO[Any]:
        return open(path, mode)  # the caller closes it

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def local_path(self, path: str) -> str | None:
        return path

    def list_files(self, folder: str) -> dict[str, int]:
        return relative_files(folder)

    def preallocate(self, fileobj: IO[bytes], size: int) -> int:
        """Reserve ``size`` bytes for a new file; returns how many were reserved (0 if none)."""
        if size < _PREALLOCATE_MIN or not hasattr(os, "posix_fallocate"):
            return 0
        try:
            os.posix_fallocate(fileobj.fileno(), 0, size)
        except OSError:
            return 0  # only a speed-up: a file system without it just writes normally
        return size

    def remove_tree(self, path: str) -> None:
        # Another process's gc_temp may be removing the same folder; missing entries are fine.
        shutil.rmtree(path, ignore_errors=True)

    def move_dir(self, source: str, target: str) -> None:
        if self.durable:
            _fsync_tree(source)
        os.replace(source, target)  # atomic on one file system: readers see all or nothing
        if self.durable:
            _fsync_dir(os.path.dirname(target))

    def subfolders(self, root: str) -> list[str]:
        try:
            return [entry.path for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []

    def usage(self, path: str) -> tuple[int, float]:
        """Total bytes of the files under ``path`` and the newest modification time there."""
        try:
            newest = os.stat(path).st_mtime
        except FileNotFoundError:
            return 0, 0.0
        total = 0
        for dirpath, _dirs, files in os.walk(path):
            for name in files:
                try:
                    stat = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                total += stat.st_size
                newest = max(newest, stat.st_mtime)
        return total, newest


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: str) -> None:
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(dirpath)


class _FsspecOps:
    """File operations through an fsspec file system (object stores have no rename)."""

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def open(self, path: str, mode: str) -> IO[Any]:
        return self.fs.open(path, mode)  # type: ignore[no-any-return]

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def local_path(self, path: str) -> str | None:
        return None

    def preallocate(self, fileobj: IO[bytes], size: int) -> int:
        return 0

    def list_files(self, folder: str) -> dict[str, int]:
        try:
            found = self.fs.find(folder, detail=True)
        except FileNotFoundError:
            return {}
        prefix = folder.rstrip("/") + "/"
        return {
            name[len(prefix) :]: int(info.get("size") or 0)
            for name, info in found.items()
            if name.startswith(prefix) and info.get("type", "file") == "file"
        }

    def remove_tree(self, path: str) -> None:
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            return

    def move_dir(self, source: str, target: str) -> None:
        # Every temporary file is complete before the first byte reaches a final key.
        try:
            for rel in sorted(self.list_files(source)):
                self.fs.cp_file(f"{source}/{rel}", f"{target}/{rel}")
        except BaseException:
            self.remove_tree(target)  # no half-copied final folder
            raise
        self.remove_tree(source)

    def subfolders(self, root: str) -> list[str]:
        self.fs.invalidate_cache(root)  # a cached listing could hide a folder written since
        try:
            entries = self.fs.ls(root, detail=True)
        except FileNotFoundError:
            return []
        return [str(e["name"]).rstrip("/") for e in entries if e.get("type") == "directory"]

    def usage(self, path: str) -> tuple[int, float]:
        try:
            infos = list(self.fs.find(path, detail=True).values())
        except FileNotFoundError:
            return 0, 0.0
        total = sum(int(info.get("size") or 0) for info in infos)
        return total, max((_timestamp(self.fs, info) for info in infos), default=0.0)


def _timestamp(fs: Any, info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    try:
        return float(fs.modified(info["name"]).timestamp())
    except (NotImplementedError, FileNotFoundError, IsADirectoryError):
        return 0.0  # no time known: treat it as stale


def _open_fsspec(uri: str, storage_options: Mapping[str, Any]) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        raise ConfigError(
            f"The artifact store {uri!r} needs fsspec.", hint="Install it: pip install fsspec."
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(uri, **storage_options)
    except ImportError as exc:
        raise ConfigError(
            f"The artifact store {uri!r} needs a package that is not installed ({exc}).",
            hint="For S3 install `pip install 'modelplane[s3]'`; for other schemes the fsspec "
            "implementation it names.",
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"The artifact store URL {uri!r} cannot be used ({exc}).",
            hint="Use a local folder path, file:///path, s3://bucket/prefix or another fsspec URL.",
        ) from None
    return fs, str(path).rstrip("/")


class FsspecArtifactStore:
    """An artifact store at a local folder path, ``file://`` URL or any fsspec URL.

    ``durable=True`` (local only) also fsyncs files and folders before and after the rename, so a
    power loss cannot leave a moved folder with missing bytes; it costs a disk flush per save.
    ``hash_algorithm`` names the content hash of new versions (default: ``xxh3_128`` when the
    ``xxhash`` package is installed, else ``sha256``); reads verify with whatever was recorded.
    ``storage_options`` go to fsspec (for example ``{"client_kwargs": {"endpoint_url": ...}}``).

    New versions are written under this store's root. With ``read_anywhere`` (the default) a version
    recorded under another root (written before ``MODELPLANE_ARTIFACT_URI`` changed) is still read,
    checked and deleted where it is; the server turns it off and serves only its own root.
    """

    def __init__(
        self,
        uri: str,
        *,
        durable: bool = False,
        hash_algorithm: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        read_anywhere: bool = True,
    ) -> None:
        self.hash_algorithm = hash_algorithm or default_hash_algorithm()
        self.read_anywhere = read_anywhere
        self._storage_options = dict(storage_options or {})
        self._elsewhere: dict[str, FsspecArtifactStore] = {}
        new_hasher(self.hash_algorithm)  # fail now, not at the first save, if it is unknown
        self._ops: _LocalOps | _FsspecOps
        local = _local_root(uri)
        if local is not None:
            self._root = local
            self._root_path = local
            self._ops = _LocalOps(durable)
        else:
            fs, path = _open_fsspec(uri, storage_options or {})
            self._root = uri.rstrip("/")
            self._root_path = path
            self._ops = _FsspecOps(fs)

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self._root!r})"

    @property
    def root(self) -> str:
        return self._root

    @property
    def is_local(self) -> bool:
        return isinstance(self._ops, _LocalOps)

    def _path_of(self, artifact_version_id: str) -> str:
        return f"{self._root_path}/{check_artifact_id(artifact_version_id)}"

    def uri_for(self, artifact_version_id: str) -> str:
        """The URI the version's folder has (or will have) in this store."""
        return f"{self._root}/{check_artifact_id(artifact_version_id)}"

    def resolve(self, uri: str) -> str:
        """The artifact version id of ``uri``, checking it names a folder right under the root."""
        candidate = uri
        if self.is_local:
            candidate = os.path.normpath(_strip_file_scheme(uri))
        parent, _, name = candidate.rpartition("/")
        if parent != self._root or not ARTIFACT_ID_PATTERN.fullmatch(name):
            raise ArtifactError(
                f"The artifact URI {uri!r} is not a folder of the artifact store {self._root}.",
                hint="Use the uri recorded for the artifact version, with the artifact store it "
                "was saved to (MODELPLANE_ARTIFACT_URI).",
            )
        return name

    def begin_write(self, artifact_version_id: str) -> ArtifactWrite:
        """Start writing a version into a fresh temporary folder."""
        check_artifact_id(artifact_version_id)
        temp = f"{self._root_path}/{TEMP_DIR}/{artifact_version_id}-{os.urandom(4).hex()}"
        self._ops.makedirs(temp)
        return ArtifactWrite(self, artifact_version_id, temp)

    def _move_into_place(self, temp: str, artifact_version_id: str) -> None:
        target = self._path_of(artifact_version_id)
        if self._ops.exists(target):
            raise ArtifactError(
                f"The artifact folder {self.uri_for(artifact_version_id)} already exists.",
                hint="Artifact bytes are immutable: save under a new artifact version id.",
            )
        try:
            self._ops.move_dir(temp, target)
        except OSError as exc:
            raise ArtifactError(
                f"Could not move artifact {artifact_version_id} into place ({exc}).",
                hint="Check that the artifact store is writable and not full, then retry the step.",
            ) from exc

    def holds(self, uri: str) -> bool:
        """Whether ``uri`` is a version folder under this store's own root."""
        try:
            self.resolve(uri)
        except ArtifactError:
            return False
        return True

    def owner_of(self, uri: str) -> FsspecArtifactStore:
        """The store whose root holds ``uri``: this one, or (``read_anywhere``) the one at the
        URI's parent folder, opened with the same options."""
        if not self.read_anywhere or self.holds(uri):
            return self
        parent, _, name = uri.rstrip("/").rpartition("/")
        if not parent or not ARTIFACT_ID_PATTERN.fullmatch(name):
            return self  # its resolve() explains what is wrong with the URI
        other = self._elsewhere.get(parent)
        if other is None:
            other = FsspecArtifactStore(
                parent,
                hash_algorithm=self.hash_algorithm,
                storage_options=self._storage_options,
                read_anywhere=False,
            )
            self._elsewhere[parent] = other
        return other

    def _existing_path(self, uri: str) -> tuple[_LocalOps | _FsspecOps, str]:
        store = self.owner_of(uri)
        path = store._path_of(store.resolve(uri))
        if not store._ops.exists(path):
            raise ArtifactError(
                f"The artifact folder {uri} does not exist.",
                hint="It was deleted or never finished writing; re-run the step that produced it.",
            )
        return store._ops, path

    def folder(self, uri: str) -> ArtifactFolder:
        """The stored folder at ``uri``, read-only."""
        ops, path = self._existing_path(uri)
        return ArtifactFolder(ops, path, writable=False)

    def size(self, uri: str) -> int:
        """Sum of the sizes of the files at ``uri``."""
        ops, path = self._existing_path(uri)
        return sum(ops.list_files(path).values())

    def content_hash(self, uri: str, algorithm: str) -> str:
        """Recompute the content hash of the files at ``uri`` (reads every byte)."""
        ops, path = self._existing_path(uri)
        return folder_hash(ops, path, algorithm)

    def exists(self, uri: str) -> bool:
        store = self.owner_of(uri)
        try:
            return store._ops.exists(store._path_of(store.resolve(uri)))
        except (OSError, ConfigError):  # a root that cannot be reached from here
            return False

    def delete(self, uri: str) -> None:
        """Remove the folder at ``uri``, which must be under this store's root (deleting a missing
        folder is not an error). To delete a recorded version's folder wherever it was written,
        ``owner_of(uri).delete(uri)``."""
        self._ops.remove_tree(self._path_of(self.resolve(uri)))

    def list_folders(self) -> list[StoredFolder]:
        """Every version folder under the root, and every unfinished write in ``.tmp``."""
        found = [
            StoredFolder(path, f"{self._root}/{TEMP_DIR}/{path.rpartition('/')[2]}", None)
            for path in self._ops.subfolders(f"{self._root_path}/{TEMP_DIR}")
        ]
        for path in self._ops.subfolders(self._root_path):
            name = path.rpartition("/")[2]
            if ARTIFACT_ID_PATTERN.fullmatch(name):
                found.append(StoredFolder(path, self.uri_for(name), name))
        return found

    def folder_usage(self, folder: StoredFolder) -> tuple[int, float]:
        """The bytes in ``folder`` and when it was last written to (seconds since the epoch)."""
        return self._ops.usage(folder.path)

    def remove_folder(self, folder: StoredFolder) -> None:
        self._ops.remove_tree(folder.path)

    def gc_temp(self, max_age_seconds: float = STALE_TEMP_SECONDS) -> int:
        """Remove temporary folders untouched for ``max_age_seconds``; returns how many."""
        cutoff = time.time() - max_age_seconds
        removed = 0
        for folder in self.list_folders():
            if folder.artifact_version_id is None and self.folder_usage(folder)[1] <= cutoff:
                self.remove_folder(folder)
                removed += 1
        return removed


def _strip_file_scheme(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def _local_root(uri: str) -> str | None:
    """The absolute folder for a local path or ``file://`` URL; None for other URLs."""
    if uri.startswith("file://"):
        uri = _strip_file_scheme(uri)
    elif "://" in uri:
        return None
    if not uri:
        raise ConfigError(
            "The artifact store location is empty.",
            hint="Set MODELPLANE_ARTIFACT_URI to a folder path or an fsspec URL such as s3://bucket/prefix.",
        )
    return os.path.abspath(os.path.expanduser(uri))
