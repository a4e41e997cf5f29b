"""The server's look, every minute, for runs that nothing drives any more
(``Client.reap_abandoned_runs``): runs that stopped sending heartbeats, from any machine, are
marked failed even when nobody runs a pipeline or ``modelplane run reap`` on the machine that lost
them. Inference services that stopped reporting are marked gone in the same look."""

from __future__ import annotations

import logging

from modelplane.client import Client
from modelplane.periodic import Periodic

__all__ = ["reaper"]

logger = logging.getLogger("modelplane.server")


def reaper(client: Client, interval: float) -> Periodic:
    """A not yet started background look, every ``interval`` seconds."""

    def reap() -> None:
        for run in client.reap_abandoned_runs():
            logger.warning("Run '%s' was abandoned: %s", run.name, run.error)
        for gone in client.reap_gone_deployments():
            logger.warning(
                "The service at %s (model %r, pid %s on %s) stopped reporting; marked gone.",
                gone.endpoint, gone.model_name, gone.pid, gone.host,
            )

    def failed(exc: Exception) -> None:  # the server must outlive a failed look
        logger.warning("Looking for abandoned runs failed.", exc_info=exc)

    return Periodic("modelplane-reaper", reap, interval, on_error=failed)
