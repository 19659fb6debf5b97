"""``/api/v2/barong/admin/restrictions``: who is kept out before authentication — by IP, IP
range, country or everyone (whitelist, maintenance, blacklist, blocklogin), each answering
its status. A change applies to the next request (``bursa.identity.access_rules``). A row is
changed or removed by its ``id`` in the body or query string (Barong's form) or in the path.
``whitelink`` hands out a single-use link whose holder whitelists their own IP
(``bursa.identity.whitelinks``, redeemed at ``identity/users/access``)."""

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import AccessRulesDep, Admin, WhitelinksDep
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of
from bursa.api.schemas import Moment
from bursa.identity.whitelinks import MAX_LIFETIME
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/restrictions", tags=["barong admin"])


class Restriction(BaseModel):
    id: int
    scope: str
    value: str
    category: str
    code: int
    state: str
    created_at: Moment
    updated_at: Moment


SCOPES = r"^(all|ip|ip_subnet|country)$"
CATEGORIES = r"^(whitelist|maintenance|blacklist|blocklogin)$"
STATES = r"^(enabled|disabled)$"
ID_CODES = codes("admin.restriction.invalid_id", missing="admin.restriction.missing_id")


class NewRestriction(BaseModel):
    scope: str = Field(pattern=SCOPES, json_schema_extra=codes("admin.restriction.invalid_scope"))
    value: str = Field(min_length=1, max_length=64)
    category: str = Field(
        pattern=CATEGORIES, json_schema_extra=codes("admin.restriction.invalid_category")
    )
    code: PlainInt | None = Field(default=None, ge=200, le=599)
    state: str = Field(
        default="enabled",
        pattern=STATES,
        json_schema_extra=codes("admin.restriction.invalid_state"),
    )


class RestrictionChanges(BaseModel):
    """The fields to change (at least one)."""

    scope: str | None = Field(
        default=None, pattern=SCOPES, json_schema_extra=codes("admin.restriction.invalid_scope")
    )
    value: str | None = Field(default=None, min_length=1, max_length=64)
    category: str | None = Field(
        default=None,
        pattern=CATEGORIES,
        json_schema_extra=codes("admin.restriction.invalid_category"),
    )
    code: PlainInt | None = Field(default=None, ge=200, le=599)
    state: str | None = Field(
        default=None, pattern=STATES, json_schema_extra=codes("admin.restriction.invalid_state")
    )


class RestrictionUpdate(RestrictionChanges):
    id: PlainInt = Field(ge=1, json_schema_extra=ID_CODES)


class RestrictionRef(BaseModel):
    id: PlainInt = Field(ge=1, json_schema_extra=ID_CODES)


class NewWhitelink(BaseModel):
    """How long the link works: ``expire_time`` days or hours (``range``)."""

    expire_time: PlainInt = Field(
        default=1,
        ge=1,
        le=MAX_LIFETIME,
        json_schema_extra=codes("admin.restriction.invalid_expire"),
    )
    range: str = Field(
        default="day",
        pattern=r"^(day|hour)$",
        json_schema_extra=codes("admin.restriction.invalid_range"),
    )


class WhitelinkToken(BaseModel):
    whitelink_token: str  # shown only here: Bursa keeps its digest
    expires_at: Moment


@router.get("", summary="Restrictions by IP, IP range, country or all")
async def list_restrictions(_: Admin, rules: AccessRulesDep) -> list[Restriction]:
    return [Restriction(**row) for row in await rules.restrictions()]


@router.post("", status_code=201, summary="Add a restriction")
async def add_restriction(
    _: Admin, rules: AccessRulesDep, body: Annotated[NewRestriction, body_of(NewRestriction)]
) -> Restriction:
    row = await rules.add_restriction(body.scope, body.value, body.category, body.code, body.state)
    return Restriction(**row)


@router.post("/whitelink", status_code=201, summary="A single-use link that whitelists its holder")
async def make_whitelink(
    admin: Admin,
    request: Request,
    links: WhitelinksDep,
    body: Annotated[NewWhitelink, body_of(NewWhitelink)],
) -> WhitelinkToken:
    made = await links.make(admin, body.expire_time, body.range, client_of(request))
    return WhitelinkToken(whitelink_token=made.token, expires_at=made.expires_at)


@router.put("", summary="Change a restriction (its id in the body or query string)")
async def update_restriction(
    _: Admin,
    rules: AccessRulesDep,
    body: Annotated[RestrictionUpdate, body_of(RestrictionUpdate)],
) -> Restriction:
    changes = body.model_dump(exclude={"id"}, exclude_none=True)
    return Restriction(**await rules.update_restriction(body.id, changes))


@router.put("/{restriction_id}", summary="Change a restriction")
async def update_restriction_at(
    _: Admin,
    rules: AccessRulesDep,
    restriction_id: PlainInt,
    body: Annotated[RestrictionChanges, body_of(RestrictionChanges)],
) -> Restriction:
    changes = body.model_dump(exclude_none=True)
    return Restriction(**await rules.update_restriction(restriction_id, changes))


@router.delete("", status_code=204, summary="Remove a restriction (its id in the query string)")
async def remove_restriction_by_id(
    _: Admin, rules: AccessRulesDep, body: Annotated[RestrictionRef, body_of(RestrictionRef)]
) -> Response:
    await rules.remove_restriction(body.id)
    return Response(status_code=204)


@router.delete("/{restriction_id}", status_code=204, summary="Remove a restriction")
async def remove_restriction(_: Admin, rules: AccessRulesDep, restriction_id: PlainInt) -> Response:
    await rules.remove_restriction(restriction_id)
    return Response(status_code=204)
