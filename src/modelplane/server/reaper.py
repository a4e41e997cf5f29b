"""The server's look, every minute, for runs whose process is gone (``Client.fail_abandoned_runs``):
runs that stopped sending heartbeats, from any machine, are marked failed even when nobody runs a
pipeline or a `modelplane run` command on the machine that lost them. Imports client."""

from __future__ import annotations

import logging
import threading

from modelplane.client import Client

__all__ = ["Reaper"]

logger = logging.getLogger("modelplane.server")


class Reaper:
    def __init__(self, client: Client, interval: float) -> None:
        self._client = client
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="modelplane-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                for run in self._client.fail_abandoned_runs():
                    logger.warning("Run '%s' was abandoned: %s", run.name, run.error)
            except Exception:  # noqa: BLE001 - the server must outlive a failed look
                logger.warning("Looking for abandoned runs failed.", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
