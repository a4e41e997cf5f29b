"""Functions the concurrency tests run in separate processes (spawned, so importable by name).

Each worker waits at a barrier so all start together, and returns ``("ok", payload)`` or
``("error", traceback)``.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from modelplane.enums import ArtifactType
from modelplane.errors import NotFoundError, StageConflictError
from modelplane.metadata.sql.store import SqlMetadataStore

__all__ = ["WORKERS", "create_versions", "open_fresh_store", "race_for_production", "run_workers"]

WORKERS = 8  # processes in the pool
_TIMEOUT = 600


def _report(work: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", work()
    except BaseException:
        return "error", traceback.format_exc()


def create_versions(url: str, model: str, count: int, barrier: Any) -> tuple[str, Any]:
    """Create ``count`` versions of ``model`` and as many versions of an artifact of that name."""

    def work() -> tuple[list[int], list[int]]:
        store = SqlMetadataStore(url)
        try:
            barrier.wait(_TIMEOUT)
            versions, artifacts = [], []
            for _ in range(count):
                versions.append(store.create_model_version(model).number)
                artifact_id = uuid.uuid4().hex
                created = store.create_artifact_version(
                    id=artifact_id,
                    name=model,
                    type=ArtifactType.DATA,
                    materializer="m",
                    data_type="t",
                    uri=f"/a/{artifact_id}",
                    content_hash="h",
                    size=1,
                )
                artifacts.append(created.version)
            return versions, artifacts
        finally:
            store.close()

    return _report(work)


def race_for_production(
    url: str, model: str, number: int, rounds: int, mode: str, barrier: Any
) -> tuple[str, Any]:
    """Try to move version ``number`` to production ``rounds`` times.

    ``force``: force=True each time. ``polite``: force=False, and step back to archived after each
    win, then one last try. ``cas``: force=True with the holder just read as ``expected_current``.
    Returns how many moves succeeded and how many were refused.
    """

    def work() -> tuple[int, int]:
        store = SqlMetadataStore(url)
        won = refused = 0
        try:
            barrier.wait(_TIMEOUT)
            for _ in range(rounds):
                try:
                    if mode == "force":
                        store.set_stage(
                            model, number, "production", force=True, actor=f"worker-{number}"
                        )
                    elif mode == "polite":
                        store.set_stage(model, number, "production", actor=f"worker-{number}")
                        store.set_stage(model, number, "archived", actor=f"worker-{number}")
                    else:
                        try:
                            seen = store.get_model_version(model, "production").number
                        except NotFoundError:
                            seen = 0
                        store.set_stage(
                            model, number, "production", force=True, expected_current=seen
                        )
                    won += 1
                except StageConflictError:
                    refused += 1
            if mode == "polite":
                try:
                    store.set_stage(model, number, "production", actor=f"worker-{number}")
                except StageConflictError:
                    refused += 1
            return won, refused
        finally:
            store.close()

    return _report(work)


def open_fresh_store(url: str, barrier: Any) -> tuple[str, Any]:
    """Open a store on a database nobody has migrated yet, then create one model version."""

    def work() -> int:
        barrier.wait(_TIMEOUT)
        store = SqlMetadataStore(url)
        try:
            version, _ = store.ensure_model_version("first-open", None)
            return version.number
        finally:
            store.close()

    return _report(work)


def run_workers(
    pool: ProcessPoolExecutor,
    manager: Any,
    target: Callable[..., tuple[str, Any]],
    argument_lists: list[tuple[Any, ...]],
) -> list[Any]:
    """Run ``target(*arguments, barrier)`` for each argument tuple, all at once in ``pool``'s
    processes; return the payloads, or fail with every worker's traceback."""
    barrier = manager.Barrier(len(argument_lists))
    futures = [pool.submit(target, *arguments, barrier) for arguments in argument_lists]
    reports = [future.result(timeout=_TIMEOUT) for future in futures]
    errors = [payload for status, payload in reports if status == "error"]
    assert not errors, "\n\n".join(errors)
    return [payload for _, payload in reports]
