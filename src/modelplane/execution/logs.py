"""Captures what a step prints and logs, while still showing it to the user."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from typing import Iterator, TextIO

__all__ = ["captured_output"]

MAX_LOG_CHARS = 5_000_000  # keep the head and tail of very chatty steps


class _Tee(io.TextIOBase):
    def __init__(self, original: TextIO, buffer: io.StringIO) -> None:
        self._original = original
        self._buffer = buffer

    def write(self, text: str) -> int:
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
    def __init__(self, buffer: io.StringIO) -> None:
        super().__init__(logging.NOTSET)
        self._buffer = buffer
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
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
    """stdout, stderr and log records of the block, in the order they happened."""
    captured = CapturedOutput()
    handler = _BufferHandler(captured.buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = _Tee(old_out, captured.buffer)  # type: ignore[assignment]
    sys.stderr = _Tee(old_err, captured.buffer)  # type: ignore[assignment]
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        root.removeHandler(handler)
