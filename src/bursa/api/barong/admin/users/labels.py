"""``/api/v2/barong/admin/users/labels``: set or remove a user's label. Private labels move
state and level (``bursa.identity.rules``); none may be named like what the identity keeps
itself (role, level, state, 2FA)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, UserAdminDep
from bursa.api.barong.schemas import User, present_user
from bursa.api.bodies import body_of
from bursa.api.deps import client_of

router = APIRouter(prefix="/api/v2/barong/admin/users/labels", tags=["barong admin"])
LabelKey = Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")]


class LabelChange(BaseModel):
    uid: str = Field(max_length=16)
    key: LabelKey
    value: str = Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")
    scope: str = Field(default="private", pattern=r"^(public|private)$")


@router.post("", status_code=201, summary="Set a label (private ones move state)")
async def set_label(
    admin: Admin, users: UserAdminDep, body: Annotated[LabelChange, body_of(LabelChange)]
) -> User:
    user = await users.set_label(admin, body.uid, body.key, body.value, body.scope)
    return present_user(user)


@router.delete("", status_code=204, summary="Remove a label (private ones move state)")
async def remove_label(
    admin: Admin,
    request: Request,
    users: UserAdminDep,
    uid: Annotated[str, Query(max_length=16)],
    key: Annotated[str, Query(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")],
    scope: Annotated[str, Query(pattern=r"^(public|private)$")] = "private",
) -> Response:
    await users.remove_label(admin, uid, key, scope, client_of(request))
    return Response(status_code=204)
