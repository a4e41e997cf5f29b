"""Finding and removing artifact folders nothing refers to.

Crash safety leaves two kinds of leftovers, never a record pointing at partial bytes:

- an **unfinished write**: a folder in ``.tmp`` whose process died before moving it into place;
- a folder **without an artifact version**: moved into place, but the process died before the
  metadata commit (on S3 the copy into place is not atomic, so this can be a partial copy), or its
  record was deleted and the process died before removing the bytes.

Only folders untouched for a grace period count, so a write in flight is never taken. The
metadata store is asked which ids it knows *after* the folders are listed, so a folder committed
in between is seen as known.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modelplane.artifacts.store import ArtifactStore, StoredFolder
from modelplane.errors import ArtifactError

__all__ = ["DEFAULT_GRACE_SECONDS", "Leftover", "find_leftovers", "remove_leftovers"]

DEFAULT_GRACE_SECONDS = 3600.0
# More folders without a record than this share of all version folders (and more than a few)
# looks like the wrong metadata store for this artifact store, not like crash leftovers.
_SUSPICIOUS_SHARE = 0.5
_SUSPICIOUS_MIN = 10


@dataclass(frozen=True)
class Leftover:
    uri: str
    reason: str  # "unfinished write" | "no artifact version"
    size: int
    modified: dt.datetime
    folder: StoredFolder


def find_leftovers(
    store: ArtifactStore,
    known_ids: Callable[[Iterable[str]], set[str]],
    *,
    older_than: float = DEFAULT_GRACE_SECONDS,
    store_name: str = "the metadata store",
    force: bool = False,
) -> list[Leftover]:
    """The folders of ``store`` untouched for ``older_than`` seconds that no record refers to.

    ``known_ids(ids)`` returns those of ``ids`` that are artifact versions in the metadata store.
    Raises ``ArtifactError`` when most version folders have no record (the wrong store, most
    likely) unless ``force``.
    """
    if older_than < 0:
        raise ArtifactError(
            f"The grace period must not be negative (got {older_than} s).",
            hint="Use 0 to include folders written just now, or more to spare writes in flight.",
        )
    folders = store.list_folders()
    versions = [f for f in folders if f.artifact_version_id is not None]
    known = known_ids([f.artifact_version_id for f in versions if f.artifact_version_id])
    unrecorded = [f for f in versions if f.artifact_version_id not in known]
    if (
        not force
        and len(unrecorded) > _SUSPICIOUS_MIN
        and len(unrecorded) > _SUSPICIOUS_SHARE * len(versions)
    ):
        raise ArtifactError(
            f"{len(unrecorded)} of the {len(versions)} artifact folders in {store.root} have no "
            f"artifact version in {store_name}: this looks like the wrong metadata store for "
            "this artifact store, and pruning would delete data that is in use.",
            hint="Check MODELPLANE_STORE_URL and MODELPLANE_ARTIFACT_URI (`modelplane status`); "
            "pass --force only if these folders really are garbage.",
        )
    cutoff = time.time() - older_than
    found = []
    candidates = [(f, "unfinished write") for f in folders if f.artifact_version_id is None]
    candidates += [(f, "no artifact version") for f in unrecorded]
    for folder, reason in candidates:
        size, modified = store.folder_usage(folder)
        if modified <= cutoff:
            when = dt.datetime.fromtimestamp(modified, dt.timezone.utc)
            found.append(Leftover(folder.uri, reason, size, when, folder))
    return sorted(found, key=lambda leftover: leftover.modified)


def remove_leftovers(store: ArtifactStore, leftovers: Iterable[Leftover]) -> None:
    for leftover in leftovers:
        store.remove_folder(leftover.folder)
