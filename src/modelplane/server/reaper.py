"""The server's look, every minute, for runs that nothing drives any more
(``Client.reap_abandoned_runs``): runs that stopped sending heartbeats, from any machine, are
marked failed even when nobody runs a pipeline or ``modelplane run reap`` on the machine that lost
them. Inference services that stopped reporting are marked gone in the same look."""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from modelplane.client import Client
from modelplane.metadata.store import MetadataStore
from modelplane.periodic import Periodic

__all__ = ["reaper"]

logger = logging.getLogger("modelplane.server")


def reaper(
    client: Client,
    interval: float,
    on_reaped: Callable[[int], None] | None = None,
    stores: Callable[[], Iterable[MetadataStore]] | None = None,
) -> Periodic:
    """A not yet started background look, every ``interval`` seconds, in ``client``'s store or in
    each of ``stores()`` (a server's projects); ``on_reaped`` is told how many runs each look
    failed (the server's metrics)."""

    def reap() -> None:
        for store in stores() if stores is not None else (client.store,):
            _reap(Client(client.settings, store=store, artifact_store=client.artifact_store))

    def _reap(client: Client) -> None:
        reaped = client.reap_abandoned_runs()
        for run in reaped:
            logger.warning("Run '%s' was abandoned: %s", run.name, run.error)
        if reaped and on_reaped is not None:
            on_reaped(len(reaped))
        for gone in client.reap_gone_deployments():
            logger.warning(
                "The service at %s (model %r, pid %s on %s) stopped reporting; marked gone.",
                gone.endpoint, gone.model_name, gone.pid, gone.host,
            )

    def failed(exc: Exception) -> None:  # the server must outlive a failed look
        logger.warning("Looking for abandoned runs failed.", exc_info=exc)

    return Periodic("modelplane-reaper", reap, interval, on_error=failed)
