"""Which process drives a run, and whether it still exists.

A pipeline call records its host name and pid on the run. A run that is still ``running`` while
that process is gone was abandoned: the process was killed (SIGKILL, out of memory, a closed
laptop lid that never came back) before it could mark the run finished. Only the host that ran a
process can tell whether it is alive, so only clients on that host reap its runs.

Standard library only; Linux reads ``/proc`` to tell a reused pid from the original process,
other systems fall back to "a process with that pid exists".
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from functools import lru_cache

__all__ = ["current_host", "is_running", "process_started_at"]

# /proc gives a process's start in clock ticks since boot, and boot time in whole seconds; allow
# for that rounding (and a little clock skew) before calling a pid "reused".
_START_SLACK = dt.timedelta(seconds=2)


@lru_cache(maxsize=1)
def current_host() -> str:
    return socket.gethostname()[:255] or "localhost"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after "pid (comm)", or ``None`` where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()
    except OSError:
        return None


@lru_cache(maxsize=1)
def _boot_time() -> int | None:
    try:
        with open("/proc/stat", encoding="ascii") as system:
            return next(int(line.split()[1]) for line in system if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _started_at(fields: list[str]) -> dt.datetime | None:
    boot = _boot_time()
    try:
        ticks = int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"
    except (ValueError, IndexError):
        return None
    if boot is None:
        return None
    seconds = boot + ticks / os.sysconf("SC_CLK_TCK")
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def process_started_at(pid: int) -> dt.datetime | None:
    """When process ``pid`` started (UTC), or ``None`` where ``/proc`` cannot tell."""
    fields = _stat_fields(pid)
    return None if fields is None else _started_at(fields)


def is_running(pid: int, since: dt.datetime) -> bool:
    """Whether the process ``pid`` that existed at ``since`` (timezone-aware) is still alive.

    A pid now held by a process that started after ``since`` is a reused pid, and a zombie (killed,
    not yet reaped by its parent) is dead.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    fields = _stat_fields(pid)
    if not fields:
        return True  # no /proc here: "a process with that pid exists" is all we know
    if fields[0] in ("Z", "X"):
        return False
    started = _started_at(fields)
    return started is None or started <= since + _START_SLACK
