"""``/api/v2/barong/admin/users``: search users, show one with their activities and staff's
comments, change a role (superadmins only), a state (through the labels that drive it), or
turn a member's 2FA off (``update``). Staff act only on users ranked below them
(``bursa.identity.user_admin``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.barong.deps import Admin, IdentityDep, UserAdminDep
from bursa.api.barong.schemas import User, UserWithActivities, present_history, present_user
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of
from bursa.api.errors import INVALID_PARAMETER
from bursa.api.peatio.params import paginate
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/users", tags=["barong admin"])


class RoleChange(BaseModel):
    uid: str = Field(max_length=16)
    role: str = Field(max_length=16)


class StateChange(BaseModel):
    uid: str = Field(max_length=16)
    state: str = Field(max_length=16)


class UserUpdate(BaseModel):
    uid: str = Field(max_length=16)
    otp: bool = Field(
        description="only false: turn the member's 2FA off (only the member enables it)",
        json_schema_extra=codes(INVALID_PARAMETER, enable="admin.user.otp_enable_by_user"),
    )

    @field_validator("otp")
    @classmethod
    def _only_off(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError("enable", "only the member enables 2FA")
        return value


@router.get("", summary="Search users")
async def list_users(
    _: Admin,
    users: UserAdminDep,
    response: Response,
    email: Annotated[str | None, Query(max_length=254)] = None,
    role: Annotated[str | None, Query(max_length=16)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[PlainInt, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=1000)] = 100,
) -> list[User]:
    total, found = await users.search(email, role, state, page, limit)
    paginate(response, total, page, limit)
    return [present_user(user) for user in found]


@router.get("/{uid}", summary="One user with their activities and admins' comments")
async def show_user(_: Admin, users: UserAdminDep, uid: str) -> UserWithActivities:
    return present_history(await users.show(uid))


@router.post("/role", status_code=201, summary="Change a user's role (superadmins only)")
async def change_role(
    admin: Admin, users: UserAdminDep, body: Annotated[RoleChange, body_of(RoleChange)]
) -> User:
    return present_user(await users.change_role(admin, body.uid, body.role))


@router.put("", summary="Change a user's state (through the labels that drive it)")
async def change_state(
    admin: Admin,
    request: Request,
    users: UserAdminDep,
    body: Annotated[StateChange, body_of(StateChange)],
) -> User:
    return present_user(await users.change_state(admin, body.uid, body.state, client_of(request)))


@router.post("/update", status_code=201, summary="Turn a member's 2FA off (support)")
async def update_user(
    admin: Admin,
    request: Request,
    identity: IdentityDep,
    body: Annotated[UserUpdate, body_of(UserUpdate)],
) -> User:
    return present_user(await identity.reset_otp(admin, body.uid, client_of(request)))
