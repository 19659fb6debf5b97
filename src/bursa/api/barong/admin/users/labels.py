"""``/api/v2/barong/admin/users/labels``: users by label, the private labels in use, and
setting, changing or removing a user's label. Private labels move state and level
(``bursa.identity.rules``); none may be named like what the identity keeps itself (role,
level, state, 2FA). Staff act only below their rank (``bursa.identity.admin_labels``)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, UserAdminDep, get_identity
from bursa.api.barong.schemas import User, present_user
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.peatio.params import paginate
from bursa.identity.admin_labels import AdminLabels
from bursa.identity.service import Identity
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/users/labels", tags=["barong admin"])
LabelKey = Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")]
LabelValue = Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")]
Scope = Annotated[str, Field(pattern=r"^(public|private)$")]
LabelQuery = Annotated[str, Query(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")]


def get_admin_labels(identity: Annotated[Identity, Depends(get_identity)]) -> AdminLabels:
    return AdminLabels(identity)


AdminLabelsDep = Annotated[AdminLabels, Depends(get_admin_labels)]


class LabelChange(BaseModel):
    uid: str = Field(max_length=16)
    key: LabelKey
    value: str = Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")
    scope: str = Field(default="private", pattern=r"^(public|private)$")


class LabelValueChange(BaseModel):
    """A new value for a label the user has (``PUT``)."""

    uid: str = Field(max_length=16)
    key: LabelKey
    scope: Scope
    value: LabelValue


class LabelUpdate(LabelValueChange):
    """``POST update``: as ``PUT``, but the label is created when missing unless
    ``replace`` is false."""

    replace: bool = True


@router.get("", summary="Users holding a label (key and value), oldest first")
async def users_with_label(
    _: Admin,
    found: AdminLabelsDep,
    response: Response,
    key: LabelQuery,
    value: LabelQuery,
    page: Annotated[PlainInt, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=100)] = 100,
) -> list[User]:
    total, holders = await found.users_with(key, value, page, limit)
    paginate(response, total, page, limit)
    return [present_user(user) for user in holders]


@router.get("/list", summary="The private labels in use: how many users hold each")
async def labels_in_use(_: Admin, found: AdminLabelsDep) -> dict[str, int]:
    """Barong's answer: each key is the pair as Ruby writes an array,
    ``["email", "verified"]``, and its value the number of users holding it."""
    return {f'["{key}", "{value}"]': count for key, value, count in await found.in_use()}


@router.put("", summary="Change the value of a user's label")
async def change_label(
    admin: Admin,
    request: Request,
    found: AdminLabelsDep,
    body: Annotated[LabelValueChange, body_of(LabelValueChange)],
) -> User:
    change = (body.key, body.scope, body.value)
    user = await found.update(admin, body.uid, change, client_of(request), create=False)
    return present_user(user)


@router.post("/update", summary="Change a user's label, creating it unless replace=false")
async def update_label(
    admin: Admin,
    request: Request,
    found: AdminLabelsDep,
    body: Annotated[LabelUpdate, body_of(LabelUpdate)],
) -> User:
    change = (body.key, body.scope, body.value)
    user = await found.update(admin, body.uid, change, client_of(request), create=body.replace)
    return present_user(user)


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
