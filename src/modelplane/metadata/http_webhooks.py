"""The promotion-event calls of ``HttpMetadataStore`` (webhooks and their delivery log), kept
apart so ``http.py`` stays readable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from modelplane.enums import ModelStages
from modelplane.metadata.http_transport import encode_segment
from modelplane.metadata.records import Page, WebhookDeliveryRecord, WebhookRecord

__all__ = ["WebhooksOverHttp"]

_WEBHOOKS = TypeAdapter(list[WebhookRecord])
_DELIVERIES = TypeAdapter(list[WebhookDeliveryRecord])


def _stage_list(stages: Any) -> Any:
    if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence):
        return stages  # refused by the server's store, as a SQL store would
    return [s.value if isinstance(s, ModelStages) else s for s in stages]


class WebhooksOverHttp:
    """Mixed into ``HttpMetadataStore``, which provides ``_get`` and ``_send``."""

    def _get(self, path: str, **params: Any) -> bytes:
        raise NotImplementedError

    def _send(self, method: str, path: str, body: Any = None, **params: Any) -> bytes:
        raise NotImplementedError

    def create_webhook(
        self,
        url: str,
        *,
        model: str | None = None,
        stages: Sequence[ModelStages | str] = (),
        secret: str | None = None,
    ) -> WebhookRecord:
        body = {"url": url, "model": model, "stages": _stage_list(stages), "secret": secret}
        return WebhookRecord.model_validate_json(self._send("POST", "/webhooks", body))

    def list_webhooks(self) -> list[WebhookRecord]:
        return _WEBHOOKS.validate_json(self._get("/webhooks"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._send("DELETE", f"/webhooks/{encode_segment(webhook_id)}")

    def list_webhook_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[WebhookDeliveryRecord]:
        raw = self._get(
            "/webhook-deliveries", webhook_id=webhook_id, status=status, limit=limit, offset=offset
        )
        return Page[WebhookDeliveryRecord].model_validate_json(raw)

    def claim_webhook_deliveries(
        self, *, limit: int = 20, lease_seconds: float = 60.0
    ) -> list[WebhookDeliveryRecord]:
        body = {"limit": limit, "lease_seconds": lease_seconds}
        return _DELIVERIES.validate_json(self._send("POST", "/webhook-deliveries/claim", body))

    def finish_webhook_delivery(
        self,
        delivery_id: str,
        *,
        delivered: bool,
        status_code: int | None = None,
        error: str | None = None,
        retry_in: float | None = None,
    ) -> WebhookDeliveryRecord:
        body = {
            "delivered": delivered,
            "status_code": status_code,
            "error": error,
            "retry_in": retry_in,
        }
        path = f"/webhook-deliveries/{encode_segment(delivery_id)}/finish"
        return WebhookDeliveryRecord.model_validate_json(self._send("POST", path, body))
