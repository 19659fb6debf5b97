"""``/api/v2/barong/admin/permissions``: the permission table the authorization step reads
(role, verb, path prefix, action; ``DROP`` beats ``ACCEPT``, ``AUDIT`` records the request).
A change applies to the next request (``bursa.identity.access_rules``)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import AccessRulesDep, Admin
from bursa.api.bodies import body_of
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/permissions", tags=["barong admin"])


class Permission(BaseModel):
    id: int
    role: str
    verb: str
    path: str
    action: str
    topic: str | None
    created_at: datetime
    updated_at: datetime


class NewPermission(BaseModel):
    role: str = Field(max_length=16)
    verb: str = Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE|ALL)$")
    path: str = Field(min_length=1, max_length=255, pattern=r"^[\w/.\-]+$")
    action: str = Field(pattern=r"^(ACCEPT|DROP|AUDIT)$")
    topic: str | None = Field(default=None, max_length=32)


@router.get("", summary="The permission table")
async def list_permissions(_: Admin, rules: AccessRulesDep) -> list[Permission]:
    return [Permission(**row) for row in await rules.permissions()]


@router.post("", status_code=201, summary="Add a permission")
async def add_permission(
    _: Admin, rules: AccessRulesDep, body: Annotated[NewPermission, body_of(NewPermission)]
) -> Permission:
    row = await rules.add_permission(body.role, body.verb, body.path, body.action, body.topic)
    return Permission(**row)


@router.delete("/{permission_id}", status_code=204, summary="Remove a permission")
async def remove_permission(_: Admin, rules: AccessRulesDep, permission_id: PlainInt) -> Response:
    await rules.remove_permission(permission_id)
    return Response(status_code=204)
