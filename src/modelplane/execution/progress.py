"""What a pipeline call tells while it runs: the run, each step as it starts and ends, cache hits,
the model version, stage changes, and where to look at the end.

Everything goes through Python ``logging`` on the ``modelplane.progress`` logger, so it can be
reconfigured like any library's logging. ``reporting()`` installs a handler on the ``modelplane``
logger for the length of one run, only when it should talk: ``MODELPLANE_LOGGING_VERBOSITY`` (read
through ``Settings``) is ``info`` or ``debug``, or it is unset and standard error is a terminal or a
notebook. It installs nothing when the ``modelplane`` logger already has a handler of the user's.
When nothing is installed, each call below costs one cached ``isEnabledFor`` check.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from modelplane.config import Settings
from modelplane.enums import ExecutionStatus

__all__ = [
    "logger",
    "model_version",
    "reporting",
    "run_ended",
    "run_started",
    "should_talk",
    "stage_changes",
    "step_ended",
    "step_started",
]

PARENT = logging.getLogger("modelplane")
logger = logging.getLogger("modelplane.progress")
_LEVELS = {"info": logging.INFO, "debug": logging.DEBUG}


def _interactive(stream: Any) -> bool:
    """A terminal, or a Jupyter kernel's output stream (which says it is no terminal)."""
    if type(stream).__module__.startswith("ipykernel"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def should_talk(settings: Settings, stream: Any = None) -> int | None:
    """The level to show, or None to stay quiet."""
    verbosity = settings.logging_verbosity
    if verbosity == "quiet":
        return None
    if verbosity is None:
        return logging.INFO if _interactive(sys.stderr if stream is None else stream) else None
    return _LEVELS[verbosity]


class _ProgressHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``reporting`` installs (a class of its own, so it can tell it from a user's)."""


@contextlib.contextmanager
def reporting(settings: Settings) -> Iterator[bool]:
    """For the length of one run: show ``modelplane`` log records on standard error when it should
    talk (see the module doc). Yields whether it installed its handler."""
    level = should_talk(settings)
    if level is None or PARENT.handlers:
        yield False
        return
    # The stream as it is now, before a step's capture replaces sys.stderr with its tee.
    handler = _ProgressHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = (PARENT.level, PARENT.propagate)
    PARENT.addHandler(handler)
    PARENT.setLevel(level)
    PARENT.propagate = False  # shown once, here; not again by a root handler of the user's
    try:
        yield True
    finally:
        PARENT.removeHandler(handler)
        PARENT.setLevel(saved[0])
        PARENT.propagate = saved[1]


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def _talking() -> bool:
    return logger.isEnabledFor(logging.INFO)


def run_started(run: Any, steps: int, where: str | None = None) -> None:
    """``where``: the store, said when it is not the local one of the working folder."""
    if _talking():
        logger.info(
            "Running pipeline '%s' as run '%s' (%d step%s, %s orchestrator)%s.",
            run.pipeline_name, run.name, steps, "" if steps == 1 else "s", run.orchestrator,
            f" in the store {where}" if where else "",
        )


def model_version(record: Any, created: bool) -> None:
    if _talking():
        how = "a new version, created for this run" if created else f"stage {record.stage.value}"
        logger.info("Model '%s' version %s (%s).", record.model_name, record.number, how)


def step_started(name: str) -> None:
    if _talking():
        logger.info("Step '%s' started.", name)


def cache_unreadable(name: str, outputs: list[str]) -> None:
    if _talking():
        logger.info(
            "Step '%s' has a cached run, but its output%s %s cannot be read any more; running it.",
            name, "" if len(outputs) == 1 else "s", ", ".join(repr(o) for o in outputs),
        )


def step_ended(name: str, status: ExecutionStatus, seconds: float, error: BaseException | None = None) -> None:
    if not _talking():
        return
    if status is ExecutionStatus.CACHED:
        return  # execution.cache says so, with what was reused
    if status is ExecutionStatus.FAILED:
        first = (str(error).strip().splitlines() or [""])[0]
        logger.info(
            "Step '%s' failed after %s: %s%s", name, _seconds(seconds), type(error).__name__,
            f": {first}" if first else "",
        )
    else:
        logger.info("Step '%s' completed in %s.", name, _seconds(seconds))


def stage_changes(client: Any, since: datetime, versions: list[Any]) -> None:
    """The stage changes of the run's models since it started (a promotion in a step, the version
    archived by a forced one). Reads the store, so only when talking."""
    if not _talking():
        return
    for model_name in dict.fromkeys(record.model_name for record in versions):
        try:
            changes = client.list_stage_changes(model_name, limit=100).items
        except Exception as exc:  # the model was deleted meanwhile: nothing to tell
            logger.debug("Could not read the stage changes of model '%s': %s", model_name, exc)
            continue
        for change in sorted((c for c in changes if c.created >= since), key=lambda c: c.id):
            logger.info(
                "Model '%s' version %s: %s → %s%s.", model_name, change.version_number,
                change.from_stage.value, change.to_stage.value,
                f" by {change.actor}" if change.actor else "",
            )


def run_ended(client: Any, run: Any, failed_step: str | None = None) -> None:
    if not _talking():
        return
    steps = client.list_step_runs(run.id)
    cached = sum(1 for s in steps if s.status is ExecutionStatus.CACHED)
    took = _seconds((run.ended - run.created).total_seconds()) if run.ended else "?"
    if failed_step is None:
        logger.info(
            "Run '%s' %s in %s: %d step%s, %d from the cache.", run.name, run.status.value, took,
            len(steps), "" if len(steps) == 1 else "s", cached,
        )
    else:
        logger.info("Run '%s' failed in step '%s' after %s.", run.name, failed_step, took)
    logger.info("See it: %s", client.settings.where_to_look(run.name))
