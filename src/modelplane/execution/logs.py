"""Captures what a step prints and logs, while still showing it to the user, and stores it while
the step runs.

A step's output goes to the console as it would without modelplane: prints are teed, and a log
record that no handler of the user's would take is shown as Python's last-resort handler shows it
(``logging.warning`` in a script with no logging set up prints the message on stderr). It is also
kept in a buffer, stored with the step when it ends; meanwhile one background thread per process
(``LiveLogs``) sends what was added every ``FLUSH_SECONDS`` with ``append_step_logs``, so
``modelplane run logs RUN --step S --follow`` shows a long step's output as it comes. A step
shorter than that costs no extra store call: registering with the flusher is a dict insert.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from typing import Any, Iterator, TextIO

__all__ = ["FLUSH_SECONDS", "captured_output", "live_logs"]

logger = logging.getLogger("modelplane")

MAX_LOG_CHARS = 5_000_000  # keep the head and tail of very chatty steps
FLUSH_SECONDS = 2.0  # how often a running step's new output is stored


class _Tee(io.TextIOBase):
    def __init__(self, original: TextIO, buffer: io.StringIO, foreign: frozenset[int]) -> None:
        self._original = original
        self._buffer = buffer
        self._foreign = foreign

    def write(self, text: str) -> int:
        if threading.get_ident() not in self._foreign:
            self._buffer.write(text)
        try:
            self._original.write(text)
        except ValueError:  # the original stream was closed
            pass
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(ValueError):
            self._original.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._original, "encoding", "utf-8")

    def isatty(self) -> bool:
        return False


def _handled_elsewhere(record: logging.LogRecord, mine: logging.Handler) -> bool:
    """Whether a handler other than ``mine`` is on the record's way up to the root logger (the
    record reached the root, so nothing on the way stopped propagation)."""
    found = logging.Logger.manager.loggerDict.get(record.name)
    current: Any = found if isinstance(found, logging.Logger) else logging.getLogger()
    while current is not None:
        if any(handler is not mine for handler in current.handlers):
            return True
        current = current.parent
    return False


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: io.StringIO, foreign: frozenset[int], console: TextIO) -> None:
        super().__init__(logging.NOTSET)
        self._buffer = buffer
        self._foreign = foreign
        self._console = console
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread in self._foreign:
            return
        with contextlib.suppress(Exception):
            self._buffer.write(self.format(record) + "\n")
        # Without modelplane's handler, Python would show this record through its last resort
        # when no other handler takes it: so do the same, on the console (not into the buffer).
        last_resort = logging.lastResort
        if last_resort is None or record.levelno < last_resort.level:
            return
        if _handled_elsewhere(record, self):
            return
        with contextlib.suppress(Exception):
            self._console.write(last_resort.format(record) + "\n")
            self._console.flush()


class CapturedOutput:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        value = self.buffer.getvalue()
        if len(value) > MAX_LOG_CHARS:
            half = MAX_LOG_CHARS // 2
            value = value[:half] + f"\n… {len(value) - MAX_LOG_CHARS} characters left out …\n" + value[-half:]
        return value


@contextlib.contextmanager
def captured_output() -> Iterator[CapturedOutput]:
    """stdout, stderr and log records of the block, in the order they happened.

    Only from this thread and threads started during the block: threads that were already running
    belong to someone else (Ray's log forwarding, progress monitors), and what they print while the
    step runs is not the step's output.
    """
    captured = CapturedOutput()
    foreign = frozenset(t.ident for t in threading.enumerate() if t.ident is not None) - {
        threading.get_ident()
    }
    old_out, old_err = sys.stdout, sys.stderr
    handler = _BufferHandler(captured.buffer, foreign, old_err)
    root = logging.getLogger()
    root.addHandler(handler)
    sys.stdout = _Tee(old_out, captured.buffer, foreign)  # type: ignore[assignment]
    sys.stderr = _Tee(old_err, captured.buffer, foreign)  # type: ignore[assignment]
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        root.removeHandler(handler)


class _Live:
    """One running step whose output the flusher stores as it grows."""

    __slots__ = ("client", "step_run_id", "captured", "sent", "lock", "closed")

    def __init__(self, client: Any, step_run_id: str, captured: CapturedOutput) -> None:
        self.client = client
        self.step_run_id = step_run_id
        self.captured = captured
        self.sent = 0
        self.lock = threading.Lock()
        self.closed = False

    def flush(self) -> None:
        with self.lock:
            if self.closed:
                return
            text = self.captured.buffer.getvalue()
            if len(text) <= self.sent or len(text) > MAX_LOG_CHARS:
                return  # nothing new; or too long to grow: the end stores its head and tail
            self.client.append_step_logs(self.step_run_id, text[self.sent :])
            self.sent = len(text)

    def close(self) -> None:
        # No wait for a flush under way: the store ignores an append once the step has ended, and
        # the step's end replaces whatever was appended before it.
        self.closed = True


class LiveLogs:
    """The process's flusher: a daemon thread, started with the first step, that stores the new
    output of every running step each ``FLUSH_SECONDS``."""

    def __init__(self, interval: float = FLUSH_SECONDS) -> None:
        self.interval = interval
        self._running: dict[int, _Live] = {}
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="modelplane-logs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            for live in list(self._running.values()):
                try:
                    live.flush()
                except Exception as exc:  # a missed flush must not break the step; its end stores all
                    logger.debug("Storing the logs of step run %s failed: %s", live.step_run_id, exc)

    def add(self, live: _Live) -> None:
        self._running[id(live)] = live

    def remove(self, live: _Live) -> None:
        live.close()
        self._running.pop(id(live), None)


_LIVE_LOGS = LiveLogs()


@contextlib.contextmanager
def live_logs(client: Any, step_run_id: str) -> Iterator[CapturedOutput]:
    """``captured_output()`` whose text is also stored while the step runs (see the module doc).
    Leaving the block stops the flushing before the caller stores the final logs."""
    _LIVE_LOGS.ensure_started()  # before the capture, so the flusher counts as someone else's thread
    with captured_output() as captured:
        live = _Live(client, step_run_id, captured)
        _LIVE_LOGS.add(live)
        try:
            yield captured
        finally:
            _LIVE_LOGS.remove(live)
