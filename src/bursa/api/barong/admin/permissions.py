"""``/api/v2/barong/admin/permissions``: the permission table the authorization step reads
(role, verb, path prefix, action; ``DROP`` beats ``ACCEPT``, ``AUDIT`` records the request).
A change applies to the next request (``bursa.identity.access_rules``). A row is changed or
removed by its ``id`` in the body or query string (Barong's form) or in the path."""

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import AccessRulesDep, Admin
from bursa.api.bodies import body_of, codes
from bursa.api.schemas import Moment
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/permissions", tags=["barong admin"])


class Permission(BaseModel):
    id: int
    role: str
    verb: str
    path: str
    action: str
    topic: str | None
    created_at: Moment
    updated_at: Moment


class NewPermission(BaseModel):
    role: str = Field(max_length=16)
    verb: str = Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE|ALL)$")
    path: str = Field(min_length=1, max_length=255, pattern=r"^[\w/.\-]+$")
    action: str = Field(pattern=r"^(ACCEPT|DROP|AUDIT)$")
    topic: str | None = Field(default=None, max_length=32)


ID_CODES = codes("admin.permission.invalid_id", missing="admin.permission.missing_id")


class PermissionChanges(BaseModel):
    """The fields to change (at least one)."""

    role: str | None = Field(default=None, max_length=16)
    verb: str | None = Field(default=None, pattern=r"^(GET|POST|PUT|PATCH|DELETE|ALL)$")
    path: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[\w/.\-]+$")
    action: str | None = Field(default=None, pattern=r"^(ACCEPT|DROP|AUDIT)$")
    topic: str | None = Field(default=None, max_length=32)


class PermissionUpdate(PermissionChanges):
    id: PlainInt = Field(ge=1, json_schema_extra=ID_CODES)


class PermissionRef(BaseModel):
    id: PlainInt = Field(ge=1, json_schema_extra=ID_CODES)


@router.get("", summary="The permission table")
async def list_permissions(_: Admin, rules: AccessRulesDep) -> list[Permission]:
    return [Permission(**row) for row in await rules.permissions()]


@router.post("", status_code=201, summary="Add a permission")
async def add_permission(
    _: Admin, rules: AccessRulesDep, body: Annotated[NewPermission, body_of(NewPermission)]
) -> Permission:
    row = await rules.add_permission(body.role, body.verb, body.path, body.action, body.topic)
    return Permission(**row)


@router.put("", summary="Change a permission (its id in the body or query string)")
async def update_permission(
    _: Admin, rules: AccessRulesDep, body: Annotated[PermissionUpdate, body_of(PermissionUpdate)]
) -> Permission:
    changes = body.model_dump(exclude={"id"}, exclude_none=True)
    return Permission(**await rules.update_permission(body.id, changes))


@router.put("/{permission_id}", summary="Change a permission")
async def update_permission_at(
    _: Admin,
    rules: AccessRulesDep,
    permission_id: PlainInt,
    body: Annotated[PermissionChanges, body_of(PermissionChanges)],
) -> Permission:
    changes = body.model_dump(exclude_none=True)
    return Permission(**await rules.update_permission(permission_id, changes))


@router.delete("", status_code=204, summary="Remove a permission (its id in the query string)")
async def remove_permission_by_id(
    _: Admin, rules: AccessRulesDep, body: Annotated[PermissionRef, body_of(PermissionRef)]
) -> Response:
    await rules.remove_permission(body.id)
    return Response(status_code=204)


@router.delete("/{permission_id}", status_code=204, summary="Remove a permission")
async def remove_permission(_: Admin, rules: AccessRulesDep, permission_id: PlainInt) -> Response:
    await rules.remove_permission(permission_id)
    return Response(status_code=204)
