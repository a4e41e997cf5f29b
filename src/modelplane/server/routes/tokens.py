"""API tokens and the store's description: one store call per route.

Every token may manage tokens (there are no roles): treat each one like a password.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from modelplane.metadata.records import StoreInfo, TokenRecord
from modelplane.server.api import ReadDep, StoreDep, TokenDep, json_response, record_response

__all__ = ["router"]

router = APIRouter()


class TokenBody(BaseModel):
    owner: Any = Field(description="str")
    role: Any = Field("editor", description="viewer | editor | admin")


class SecretBody(BaseModel):
    secret: Any = Field(description="str")


class NewToken(BaseModel):
    token: TokenRecord
    secret: str


@router.get(
    "/info",
    response_model=StoreInfo,
    tags=["store"],
    summary="The store's schema, counts, and the artifact URI clients read and write",
)
async def info(request: Request, store: StoreDep, read: ReadDep) -> Response:
    described = await read(store.info)
    return record_response(
        described.model_copy(update={"artifact_uri": request.app.state.artifact_uri})
    )


@router.get(
    "/me", response_model=TokenRecord, tags=["tokens"], summary="The token this request carries"
)
async def me(token: TokenDep) -> Response:
    return record_response(token)


@router.post(
    "/tokens",
    response_model=NewToken,
    tags=["tokens"],
    summary="Create a token; its secret is in this response only",
)
def create_token(body: TokenBody, store: StoreDep) -> Response:
    token, secret = store.create_token(body.owner, role=body.role)
    return json_response({"token": token, "secret": secret})


@router.get("/tokens", response_model=list[TokenRecord], tags=["tokens"])
async def list_tokens(store: StoreDep, read: ReadDep) -> Response:
    return json_response(await read(store.list_tokens))


@router.delete("/tokens/{token_id:name}", response_model=TokenRecord, tags=["tokens"])
def revoke_token(token_id: str, request: Request, store: StoreDep) -> Response:
    revoked = store.revoke_token(token_id)
    request.app.state.token_check.forget()
    return record_response(revoked)


@router.post(
    "/tokens/authenticate",
    response_model=TokenRecord,
    tags=["tokens"],
    summary="The live token with this secret (401 when there is none)",
)
def authenticate(body: SecretBody, store: StoreDep) -> Response:
    return record_response(store.authenticate(body.secret))
