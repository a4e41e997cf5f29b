"""Routes about the caller rather than the store: which token a request carries."""

from __future__ import annotations

from fastapi import APIRouter, Response

from modelplane.metadata.records import TokenRecord
from modelplane.server.api import TokenDep, encode_result

__all__ = ["router"]

router = APIRouter(tags=["tokens"])
_ENCODE = encode_result(TokenRecord)


@router.get("/api/v1/me", response_model=TokenRecord, summary="The token this request carries")
async def me(token: TokenDep) -> Response:
    return _ENCODE(token)
