"""``POST /api/v2/barong/identity/users/access``: the holder of an admin's whitelink token
whitelists the address they call from (``bursa.identity.whitelinks``). The authorization
step never restricts this path, so a blocked visitor can still reach it."""

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import WhitelinksDep
from bursa.api.barong.schemas import ERRORS
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of

router = APIRouter(prefix="/api/v2/barong/identity/users", tags=["barong identity"])


class AccessRequest(BaseModel):
    whitelink_token: str = Field(
        min_length=1,
        max_length=128,
        json_schema_extra=codes(
            "identity.user.access.invalid_token", missing="identity.user.missing_whitelink_token"
        ),
    )


class Whitelisted(BaseModel):
    ip: str  # the address now whitelisted


@router.post("/access", status_code=201, responses=ERRORS, summary="Whitelist my address")
async def whitelist_me(
    request: Request,
    links: WhitelinksDep,
    body: Annotated[AccessRequest, body_of(AccessRequest, query=False)],
) -> Whitelisted:
    return Whitelisted(ip=await links.redeem(body.whitelink_token, client_of(request)))
