"""Captures what a step prints and logs, while still showing it to the user."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from typing import Iterator, TextIO

__all__ = ["captured_output"]

MAX_LOG_CHARS = 5_000_000  # keep the head and tail of very chatty steps


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


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: io.StringIO, foreign: frozenset[int]) -> None:
        super().__init__(logging.NOTSET)
        self._buffer = buffer
        self._foreign = foreign
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread in self._foreign:
            return
        with contextlib.suppress(Exception):
            self._buffer.write(self.format(record) + "\n")


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
    handler = _BufferHandler(captured.buffer, foreign)
    root = logging.getLogger()
    root.addHandler(handler)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = _Tee(old_out, captured.buffer, foreign)  # type: ignore[assignment]
    sys.stderr = _Tee(old_err, captured.buffer, foreign)  # type: ignore[assignment]
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        root.removeHandler(handler)
