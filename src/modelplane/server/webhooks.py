"""Sending promotion events: a dispatcher that drains the store's webhook delivery log.

Each delivery is an HTTP POST of the event as JSON, with ``X-Modelplane-Event``,
``X-Modelplane-Delivery`` (the same id on every retry, so receivers can ignore repeats) and, when
the webhook has a secret, ``X-Modelplane-Signature: sha256=<HMAC-SHA256 of the body>``. A 2xx
answer delivers it; anything else is retried with growing pauses, then marked failed, and every
attempt is in the log (`modelplane webhook deliveries`). Delivery is at least once: a dispatcher
killed between sending and recording sends again after its lease runs out.

The server runs one in a background thread; `modelplane webhook deliver` runs one in the
foreground for stores without a server. httpx is imported only when sending.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Callable

from modelplane._version import __version__
from modelplane.errors import ConfigError, ModelplaneError
from modelplane.metadata.records import WebhookDeliveryRecord
from modelplane.metadata.store import MetadataStore
from modelplane.periodic import Periodic
from modelplane.config import DEFAULT_PROJECT

__all__ = ["DEFAULT_BACKOFF", "Dispatcher", "sign"]

logger = logging.getLogger("modelplane.webhooks")

# Seconds before the 2nd, 3rd… attempt; after the last pause the delivery is marked failed.
DEFAULT_BACKOFF: tuple[float, ...] = (10, 30, 120, 600, 1800, 3600, 3600)
_ERROR_LIMIT = 2000


def _log_error(exc: Exception) -> None:
    if isinstance(exc, ModelplaneError):  # the store is briefly unreachable: try again later
        logger.warning("Webhook dispatcher: %s", exc)
    else:  # the server must outlive a dispatcher bug
        logger.error("Webhook dispatcher failed; it keeps running.", exc_info=exc)


def sign(secret: str, body: bytes) -> str:
    """The signature header value a receiver recomputes to check the sender knew the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Dispatcher:
    """Claims due deliveries from ``store`` (or from each store ``store()`` gives: a server's
    projects), POSTs them, and records each outcome."""

    def __init__(
        self,
        store: MetadataStore | Callable[[], Iterable[MetadataStore]],
        *,
        timeout: float = 10.0,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        batch: int = 20,
        on_attempt: Callable[[bool, bool], None] | None = None,
    ) -> None:
        """``on_attempt(delivered, retrying)`` is told the outcome of every attempt (the server's
        metrics)."""
        try:
            import httpx
        except ImportError:
            raise ConfigError(
                "Sending webhook deliveries needs httpx, which is not installed.",
                hint="Install it with: pip install 'modelplane[client]'",
            ) from None

        self._stores = store if callable(store) else (lambda: (store,))
        self._backoff = tuple(backoff)
        self._batch = batch
        self._on_attempt = on_attempt
        # A lease longer than one round of sends, so no other dispatcher takes them meanwhile.
        self._lease = max(60.0, timeout * batch * 2)
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._stop = threading.Event()  # also ends a round of sends early
        self._background: Periodic | None = None

    def deliver_due(self) -> list[WebhookDeliveryRecord]:
        """Send every delivery that is due now; returns them as recorded after the attempt."""
        done: list[WebhookDeliveryRecord] = []
        for store in self._stores():
            while not self._stop.is_set():
                claimed = store.claim_webhook_deliveries(
                    limit=self._batch, lease_seconds=self._lease
                )
                if not claimed:
                    break
                done += [self._deliver(store, delivery) for delivery in claimed]
                if len(claimed) < self._batch:
                    break
        return done

    def _deliver(
        self, store: MetadataStore, delivery: WebhookDeliveryRecord
    ) -> WebhookDeliveryRecord:
        body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"modelplane/{__version__}",
            "X-Modelplane-Event": delivery.event,
            "X-Modelplane-Delivery": delivery.id,
            "X-Modelplane-Project": getattr(store, "project", DEFAULT_PROJECT),
        }
        if delivery.secret:
            headers["X-Modelplane-Signature"] = sign(delivery.secret, body)
        status: int | None = None
        try:
            response = self._http.post(delivery.url, content=body, headers=headers)
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}: {response.text[:500]}"
        except Exception as exc:  # noqa: BLE001 - any failure to send is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
        attempt = delivery.attempts  # attempts before this one
        retry_in = self._backoff[attempt] if attempt < len(self._backoff) else None
        if error is not None:
            logger.warning(
                "Webhook delivery %s to %s failed (%s); %s.",
                delivery.id,
                delivery.url,
                error,
                f"retrying in {retry_in:g} s" if retry_in is not None else "giving up",
            )
        recorded = store.finish_webhook_delivery(
            delivery.id,
            delivered=error is None,
            status_code=status,
            error=error[:_ERROR_LIMIT] if error else None,
            retry_in=retry_in,
        )
        if self._on_attempt is not None:
            self._on_attempt(error is None, retry_in is not None)
        return recorded

    # -- running in the background -----------------------------------------------------------
    def start(self, interval: float = 1.0) -> None:
        self._background = Periodic(
            "modelplane-webhooks", self.deliver_due, interval, on_error=_log_error, immediately=True
        )
        self._background.start()

    def stop(self) -> None:
        self._stop.set()
        if self._background is not None:
            self._background.stop()
        self._http.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()
