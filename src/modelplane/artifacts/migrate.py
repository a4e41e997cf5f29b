"""Moving artifact bytes to another artifact store (``modelplane artifact migrate --to URI``).

For each artifact version recorded outside the target: copy its folder into the target through a
normal write (a temporary folder, then one move into place), check the copy's content hash against
the recorded one, point the record at the copy (``move_artifact_version``, refused if someone moved
it first), and only then delete the old folder. A crash at any point leaves the record pointing at
complete bytes: the old folder until the record moves, the verified copy after. A copy whose record
never moved is a leftover of the target that ``artifact prune`` removes; running the migration
again copies that version anew.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modelplane.artifacts.store import FsspecArtifactStore
from modelplane.errors import ArtifactError, ModelplaneError

__all__ = ["Moved", "migrate_artifacts"]

_PAGE = 1000


@dataclass(frozen=True)
class Moved:
    artifact_version_id: str
    name: str
    version: int
    from_uri: str
    to_uri: str
    size: int
    error: str | None = None  # why this version stayed where it was


def _versions(store: Any) -> Iterator[Any]:
    offset = 0
    while True:
        page = store.list_artifact_versions(limit=_PAGE, offset=offset)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def _copy(source: FsspecArtifactStore, target: FsspecArtifactStore, record: Any) -> str:
    """Copy ``record``'s folder into ``target``; returns the new URI, the copy verified."""
    folder = source.folder(record.uri)
    with target.begin_write(record.id) as write:
        for name, size in folder.files().items():
            with folder.open(name, "rb") as reader, write.folder.open(
                name, "wb", size_hint=size
            ) as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
        written = write.commit()
    algorithm = record.content_hash.partition(":")[0] if ":" in record.content_hash else "sha256"
    copied = (
        written.content_hash
        if algorithm == target.hash_algorithm
        else target.content_hash(written.uri, algorithm)
    )
    if copied != record.content_hash or written.size != record.size:
        target.delete(written.uri)
        raise ArtifactError(
            f"The copy of {record.name}:{record.version} does not match its record "
            f"({copied}, {written.size} bytes; recorded {record.content_hash}, {record.size}).",
            hint="The source folder changed or is damaged; nothing was moved.",
        )
    return written.uri


def migrate_artifacts(
    store: Any,
    source: FsspecArtifactStore,
    target: FsspecArtifactStore,
    *,
    keep: bool = False,
    dry_run: bool = False,
    on_moved: Callable[[Moved], None] | None = None,
) -> list[Moved]:
    """Move every artifact version recorded outside ``target`` into it (see the module doc).

    ``source`` reads the old folders (any root, ``read_anywhere``); ``keep`` leaves them in place;
    ``dry_run`` only lists what would move. A version that cannot be copied is reported with its
    ``error`` and left as it was; the others still move.
    """
    moved: list[Moved] = []
    for record in list(_versions(store)):
        if target.holds(record.uri):
            continue
        item = Moved(
            record.id, record.name, record.version, record.uri, target.uri_for(record.id), record.size
        )
        if not dry_run:
            try:
                new_uri = _copy(source, target, record)
            except (ArtifactError, OSError) as exc:
                item = dataclasses.replace(item, error=str(exc))
            else:
                try:
                    store.move_artifact_version(record.id, new_uri, from_uri=record.uri)
                except ModelplaneError as exc:  # deleted or moved meanwhile: the copy is not needed
                    target.delete(new_uri)
                    item = dataclasses.replace(item, error=exc.message)
                else:
                    if not keep:
                        source.owner_of(record.uri).delete(record.uri)
        moved.append(item)
        if on_moved is not None:
            on_moved(item)
    return moved
