"""Artifact folders: where a materializer writes and reads its files, hashed while they are written.

The content hash of a folder is ``"<algorithm>:<hex>"``: the digest, in sorted relative-path order,
of each file's path (UTF-8), a NUL byte and the file's own digest.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import stat
import threading
from collections.abc import Callable
from typing import IO, Any, Protocol, cast

from modelplane.errors import ArtifactError, MaterializerError

__all__ = [
    "ArtifactFolder",
    "FileOps",
    "HashingWriter",
    "check_file_name",
    "combine_digests",
    "default_hash_algorithm",
    "folder_hash",
    "hash_file",
    "new_hasher",
    "relative_files",
]

# A chunk this big is hashed on a second thread while the first one writes it: hashlib and
# file writes both release the GIL, so on two cores the hash is almost free.
_PARALLEL_HASH_MIN = 4 << 20
_READ_CHUNK = 8 << 20


class _Hasher(Protocol):
    def update(self, data: Any, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


@functools.cache
def default_hash_algorithm() -> str:
    """``xxh3_128`` if the ``xxhash`` package is installed (~10 times faster), else ``sha256``."""
    try:
        import xxhash  # noqa: F401
    except ImportError:
        return "sha256"
    return "xxh3_128"


def new_hasher(algorithm: str) -> _Hasher:
    """A fresh hash object for ``algorithm`` (a name used in a recorded content hash)."""
    if algorithm == "xxh3_128":
        try:
            import xxhash
        except ImportError:
            raise ArtifactError(
                "This artifact's content hash uses xxh3_128, but the xxhash package is missing.",
                hint="Install it with `pip install xxhash` to verify the artifact.",
            ) from None
        hasher: _Hasher = xxhash.xxh3_128()
        return hasher
    if algorithm in hashlib.algorithms_guaranteed:
        return hashlib.new(algorithm)
    raise ArtifactError(
        f"The content hash algorithm {algorithm!r} is unknown.",
        hint="Content hashes look like 'sha256:<hex>' or 'xxh3_128:<hex>'.",
    )


def combine_digests(algorithm: str, digests: dict[str, bytes]) -> str:
    """The folder hash from per-file digests keyed by relative path (``/``-separated)."""
    outer = new_hasher(algorithm)
    for name in sorted(digests):
        outer.update(name.encode("utf-8") + b"\0" + digests[name])
    return f"{algorithm}:{outer.hexdigest()}"


def hash_file(fileobj: IO[bytes], algorithm: str) -> tuple[int, bytes]:
    """Size and digest of a readable binary file, read in large chunks."""
    hasher = new_hasher(algorithm)
    buffer = bytearray(_READ_CHUNK)
    view = memoryview(buffer)
    size = 0
    readinto = getattr(fileobj, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(view)
            chunk = view[:count]
        else:
            data = fileobj.read(_READ_CHUNK)
            chunk, count = memoryview(data), len(data)
        if not count:
            return size, hasher.digest()
        hasher.update(chunk)
        size += count


def _as_bytes_view(data: Any) -> memoryview:
    view = memoryview(data)
    if view.format == "B" and view.ndim == 1:
        return view
    if view.c_contiguous:
        return view.cast("B")
    return memoryview(view.tobytes())


class HashingWriter(io.BufferedIOBase):
    """A write-only binary file that hashes and counts what goes through it.

    ``on_close(size, digest)`` is called once, when the file is closed without error.
    """

    def __init__(
        self,
        raw: IO[bytes],
        algorithm: str,
        on_close: Callable[[int, bytes], None],
        reserved: int = 0,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._hasher = new_hasher(algorithm)
        self._on_close = on_close
        self._size = 0
        self._failed = False
        self._reserved = reserved

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._size

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed artifact file")
        view = _as_bytes_view(data)
        try:
            if view.nbytes >= _PARALLEL_HASH_MIN:
                hashing = threading.Thread(target=self._hasher.update, args=(view,))
                hashing.start()
                try:
                    self._write_all(view)
                finally:
                    hashing.join()
            else:
                self._hasher.update(view)
                self._write_all(view)
        except BaseException:
            self._failed = True
            raise
        self._size += view.nbytes
        return view.nbytes

    def _write_all(self, view: memoryview) -> None:
        written = 0
        while written < view.nbytes:
            count = self._raw.write(view[written:])
            # Buffered and fsspec files write everything and may return None; raw files may not.
            written = view.nbytes if count is None else written + count

    def flush(self) -> None:
        if not self.closed and not self._raw.closed:
            self._raw.flush()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._reserved > self._size:
                self._raw.truncate(self._size)  # give back what was preallocated but not used
            self._raw.close()
        finally:
            super().close()
        if not self._failed:
            self._on_close(self._size, self._hasher.digest())


class FileOps(Protocol):
    """The few file operations a folder needs; one implementation per kind of store."""

    def open(self, path: str, mode: str) -> IO[Any]: ...
    def makedirs(self, path: str) -> None: ...
    def exists(self, path: str) -> bool: ...
    def local_path(self, path: str) -> str | None: ...
    def list_files(self, folder: str) -> dict[str, int]: ...
    def preallocate(self, fileobj: IO[bytes], size: int) -> int: ...


def check_file_name(name: str) -> str:
    """``name`` as a safe relative path inside a folder, or ArtifactError."""
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith(("/", "\\")) or any(p in ("", ".", "..") for p in parts):
        raise ArtifactError(
            f"The artifact file name {name!r} is not a plain relative path.",
            hint="Use names like 'data.json' or 'sub/part-0.parquet', "
            "without '..' or a leading '/'.",
        )
    return "/".join(parts)


class ArtifactFolder:
    """One artifact version's folder, as a materializer sees it.

    Writable while a save is in progress, read-only afterwards: artifact bytes are immutable.
    """

    def __init__(self, ops: FileOps, path: str, *, writable: bool, algorithm: str = "") -> None:
        self._ops = ops
        self._path = path
        self._writable = writable
        self._algorithm = algorithm
        self._digests: dict[str, tuple[int, bytes]] = {}
        self._created_dirs: set[str] = set()

    @property
    def writable(self) -> bool:
        return self._writable

    def _full(self, name: str) -> str:
        return f"{self._path}/{name}"

    def _parent_ready(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent and parent not in self._created_dirs:
            self._ops.makedirs(self._full(parent))
            self._created_dirs.add(parent)

    def open(self, name: str, mode: str = "rb", *, size_hint: int | None = None) -> IO[Any]:
        """Open a file of this folder: ``rb``/``r`` to read; ``wb``/``w`` while saving.

        ``size_hint`` (bytes about to be written) lets a local store preallocate the file, which
        makes large writes markedly faster on Linux, as ``numpy.ndarray.tofile`` does.
        """
        rel = check_file_name(name)
        if mode in ("rb", "r"):
            try:
                raw = self._ops.open(self._full(rel), "rb")
            except FileNotFoundError:
                raise ArtifactError(
                    f"The artifact folder {self._path} has no file {rel!r}.",
                    hint="The artifact is incomplete or was written by another materializer.",
                ) from None
            return io.TextIOWrapper(raw, encoding="utf-8") if mode == "r" else raw
        if mode not in ("wb", "w"):
            raise MaterializerError(
                f"Artifact files open only as 'rb', 'r', 'wb' or 'w', not {mode!r}.",
                hint="Write a file in one go with 'wb' or 'w'.",
            )
        self._require_writable(rel)
        self._parent_ready(rel)
        self._digests.pop(rel, None)

        def record(size: int, digest: bytes) -> None:
            self._digests[rel] = (size, digest)

        raw = self._ops.open(self._full(rel), "wb")
        reserved = self._ops.preallocate(raw, size_hint) if size_hint else 0
        writer = HashingWriter(raw, self._algorithm, record, reserved)
        if mode == "w":
            text = io.TextIOWrapper(cast(IO[bytes], writer), encoding="utf-8", write_through=True)
            return cast(IO[Any], text)
        return cast(IO[Any], writer)

    def local_path(self, name: str) -> str | None:
        """A real file path for ``name`` when the store is local (else None), for native I/O."""
        rel = check_file_name(name)
        path = self._ops.local_path(self._full(rel))
        if path is not None and self._writable:
            self._parent_ready(rel)
            self._digests.pop(rel, None)
        return path

    def exists(self, name: str) -> bool:
        return self._ops.exists(self._full(check_file_name(name)))

    def files(self) -> dict[str, int]:
        """Every file in the folder: relative path → size in bytes."""
        return self._ops.list_files(self._path)

    def _require_writable(self, rel: str) -> None:
        if not self._writable:
            raise ArtifactError(
                f"Cannot write {rel!r} into the artifact folder {self._path}: "
                "artifacts are immutable.",
                hint="Save a new artifact version instead of changing an existing one.",
            )

    def summary(self) -> tuple[int, int, str]:
        """File count, total size and content hash, reusing digests computed while writing."""
        digests: dict[str, bytes] = {}
        total = 0
        files = self._ops.list_files(self._path)
        for rel, size in files.items():
            known = self._digests.get(rel)
            if known is not None and known[0] == size:
                digests[rel] = known[1]
            else:
                with self._ops.open(self._full(rel), "rb") as fileobj:
                    size, digests[rel] = hash_file(fileobj, self._algorithm)
            total += size
        return len(files), total, combine_digests(self._algorithm, digests)


def folder_hash(ops: FileOps, path: str, algorithm: str) -> str:
    """Recompute the content hash of a stored folder by reading every file."""
    digests: dict[str, bytes] = {}
    for rel in ops.list_files(path):
        with ops.open(f"{path}/{rel}", "rb") as fileobj:
            digests[rel] = hash_file(fileobj, algorithm)[1]
    return combine_digests(algorithm, digests)


def relative_files(root: str) -> dict[str, int]:
    """Relative path → size of every regular file under a local folder (empty if it does not
    exist).

    Symbolic links are not followed, and not listed: an artifact's bytes are its own files, and a
    link could point anywhere on the machine (its name and size would leak to whoever lists the
    folder, its bytes to whoever downloads it). Folders that are links are not descended either.
    """
    found: dict[str, int] = {}
    for dirpath, _dirs, filenames in os.walk(root):
        base = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for filename in filenames:
            info = os.lstat(os.path.join(dirpath, filename))
            if stat.S_ISREG(info.st_mode):
                found[filename if base == "." else f"{base}/{filename}"] = info.st_size
    return found
