"""``Periodic``: call a function every few seconds in a daemon thread until stopped.

Used for a running pipeline's heartbeat and, in the server, the webhook dispatcher and the look for
abandoned runs. Standard library only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Periodic"]


class Periodic:
    """Runs ``work()`` every ``interval`` seconds (first at once when ``immediately``, else after one
    interval) until ``stop()``. An exception from ``work`` goes to ``on_error`` and the loop goes on:
    a background chore must not die of one bad round."""

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        interval: float,
        *,
        on_error: Callable[[Exception], None],
        immediately: bool = False,
    ) -> None:
        self._work = work
        self._interval = interval
        self._on_error = on_error
        self._immediately = immediately
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        if not self._immediately and self._stop.wait(self._interval):
            return
        while True:
            try:
                self._work()
            except Exception as exc:  # noqa: BLE001 - handed to on_error, the loop goes on
                self._on_error(exc)
            if self._stop.wait(self._interval):
                return
