"""``/api/v2/barong/admin/restrictions``: who is kept out before authentication — by IP, IP
range, country or everyone (whitelist, maintenance, blacklist, blocklogin), each answering
its status. A change applies to the next request (``bursa.identity.access_rules``)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import AccessRulesDep, Admin
from bursa.api.bodies import body_of
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/restrictions", tags=["barong admin"])


class Restriction(BaseModel):
    id: int
    scope: str
    value: str
    category: str
    code: int
    state: str
    created_at: datetime
    updated_at: datetime


class NewRestriction(BaseModel):
    scope: str = Field(pattern=r"^(all|ip|ip_subnet|country)$")
    value: str = Field(min_length=1, max_length=64)
    category: str = Field(pattern=r"^(whitelist|maintenance|blacklist|blocklogin)$")
    code: PlainInt | None = Field(default=None, ge=200, le=599)


@router.get("", summary="Restrictions by IP, IP range, country or all")
async def list_restrictions(_: Admin, rules: AccessRulesDep) -> list[Restriction]:
    return [Restriction(**row) for row in await rules.restrictions()]


@router.post("", status_code=201, summary="Add a restriction")
async def add_restriction(
    _: Admin, rules: AccessRulesDep, body: Annotated[NewRestriction, body_of(NewRestriction)]
) -> Restriction:
    row = await rules.add_restriction(body.scope, body.value, body.category, body.code)
    return Restriction(**row)


@router.delete("/{restriction_id}", status_code=204, summary="Remove a restriction")
async def remove_restriction(_: Admin, rules: AccessRulesDep, restriction_id: PlainInt) -> Response:
    await rules.remove_restriction(restriction_id)
    return Response(status_code=204)
