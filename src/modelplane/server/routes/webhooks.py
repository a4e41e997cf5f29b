"""Promotion events: webhooks and their delivery log. One store call per route.

The server's own dispatcher (``server/webhooks.py``) sends the deliveries; the claim and finish
routes let a dispatcher run elsewhere (``modelplane webhook deliver`` against this server).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from modelplane.metadata.records import Page, WebhookDeliveryRecord, WebhookRecord
from modelplane.server.api import ReadDep, StoreDep, json_response, no_content, record_response

__all__ = ["router"]

router = APIRouter(tags=["promotion events"])


class WebhookBody(BaseModel):
    url: Any = Field(description="str")
    model: Any = Field(None, description="str | None")
    stages: Any = Field(default_factory=list, description="list[str]")
    secret: Any = Field(None, description="str | None")


class ClaimBody(BaseModel):
    limit: Any = Field(20, description="int")
    lease_seconds: Any = Field(60.0, description="float")


class FinishDeliveryBody(BaseModel):
    delivered: Any = Field(description="bool")
    status_code: Any = Field(None, description="int | None")
    error: Any = Field(None, description="str | None")
    retry_in: Any = Field(None, description="float | None")


@router.post("/webhooks", response_model=WebhookRecord, summary="Announce stage changes to a URL")
def create_webhook(body: WebhookBody, store: StoreDep) -> Response:
    return record_response(
        store.create_webhook(body.url, model=body.model, stages=body.stages, secret=body.secret)
    )


@router.get("/webhooks", response_model=list[WebhookRecord])
async def list_webhooks(store: StoreDep, read: ReadDep) -> Response:
    return json_response(await read(store.list_webhooks))


@router.delete("/webhooks/{webhook_id:name}", status_code=204)
def delete_webhook(webhook_id: str, store: StoreDep) -> Response:
    store.delete_webhook(webhook_id)
    return no_content()


@router.get("/webhook-deliveries", response_model=Page[WebhookDeliveryRecord])
async def list_webhook_deliveries(
    store: StoreDep,
    read: ReadDep,
    webhook_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Response:
    found = await read(
        store.list_webhook_deliveries,
        webhook_id=webhook_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return record_response(found)


@router.post(
    "/webhook-deliveries/claim",
    response_model=list[WebhookDeliveryRecord],
    summary="Take due deliveries (with their signing secrets) for a dispatcher",
)
def claim_webhook_deliveries(body: ClaimBody, store: StoreDep) -> Response:
    return json_response(
        store.claim_webhook_deliveries(limit=body.limit, lease_seconds=body.lease_seconds)
    )


@router.post("/webhook-deliveries/{delivery_id:name}/finish", response_model=WebhookDeliveryRecord)
def finish_webhook_delivery(delivery_id: str, body: FinishDeliveryBody, store: StoreDep) -> Response:
    return record_response(
        store.finish_webhook_delivery(
            delivery_id,
            delivered=body.delivered,
            status_code=body.status_code,
            error=body.error,
            retry_in=body.retry_in,
        )
    )
