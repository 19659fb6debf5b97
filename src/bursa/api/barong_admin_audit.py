"""What admins audit and support fixes (``/api/v2/barong/admin``): the activity log of every
member (``activities``) and of staff actions (``activities/admin``: audited writes and
admin changes), a member's API keys, and turning off a member's 2FA (``users/update``).

The permission table gates these as every admin route: OpenDAX's seeds keep
``activities/admin`` from ``admin`` (superadmins only) and writes from read-only staff.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from bursa.api.barong import Activity, ApiKey, User, client_of, present_user
from bursa.api.barong_admin import Admin, _user_id
from bursa.api.errors import ApiError
from bursa.identity.api_keys import ApiKeys
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import activities, users

router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])
STAFF_TOPICS = ("audit", "admin")  # audited writes (permission table) and admin changes


class AdminActivity(Activity):
    """An activity with whose it is (Barong's admin ``Activity`` entity)."""

    user_uid: str | None
    user_email: str | None


class UserUpdate(BaseModel):
    uid: str = Field(max_length=16)
    otp: bool = Field(description="only false: turn the member's 2FA off")


def _identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


async def _activities(
    request: Request,
    response: Response,
    *,
    staff: bool,
    uid: str | None,
    topic: str | None,
    result: str | None,
    time_from: int | None,
    time_to: int | None,
    page: int,
    limit: int,
) -> list[AdminActivity]:
    query = select(
        activities, users.c.uid.label("user_uid"), users.c.email.label("user_email")
    ).outerjoin(users, users.c.id == activities.c.user_id)
    if staff:
        query = query.where(activities.c.topic.in_(STAFF_TOPICS))
    if uid:
        query = query.where(activities.c.user_id == await _user_id(_identity(request), uid))
    if topic:
        query = query.where(activities.c.topic == topic)
    if result:
        query = query.where(activities.c.result == result)
    if time_from is not None:
        query = query.where(activities.c.created_at >= datetime.fromtimestamp(time_from, UTC))
    if time_to is not None:
        query = query.where(activities.c.created_at < datetime.fromtimestamp(time_to, UTC))
    async with _identity(request).engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(query.subquery()))
        rows = await conn.execute(
            query.order_by(activities.c.id.desc()).limit(limit).offset((page - 1) * limit)
        )
        found = [AdminActivity(**dict(row)) for row in rows.mappings()]
    response.headers["Total"] = str(total or 0)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return found


Uid = Annotated[str | None, Query(max_length=16)]
Topic = Annotated[str | None, Query(max_length=16)]
Result = Annotated[str | None, Query(pattern=r"^(succeed|failed|denied)$")]
Stamp = Annotated[int | None, Query(ge=0, le=10**10, description="Unix seconds")]
Page = Annotated[int, Query(ge=1, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/activities", summary="Every member's activities, newest first")
async def list_activities(
    _: Admin,
    request: Request,
    response: Response,
    uid: Uid = None,
    topic: Topic = None,
    result: Result = None,
    time_from: Stamp = None,
    time_to: Stamp = None,
    page: Page = 1,
    limit: Limit = 100,
) -> list[AdminActivity]:
    return await _activities(
        request,
        response,
        staff=False,
        uid=uid,
        topic=topic,
        result=result,
        time_from=time_from,
        time_to=time_to,
        page=page,
        limit=limit,
    )


@router.get("/activities/admin", summary="Staff actions: audited writes and admin changes")
async def list_admin_activities(
    _: Admin,
    request: Request,
    response: Response,
    uid: Uid = None,
    result: Result = None,
    time_from: Stamp = None,
    time_to: Stamp = None,
    page: Page = 1,
    limit: Limit = 100,
) -> list[AdminActivity]:
    return await _activities(
        request,
        response,
        staff=True,
        uid=uid,
        topic=None,
        result=result,
        time_from=time_from,
        time_to=time_to,
        page=page,
        limit=limit,
    )


@router.get("/api_keys", summary="A member's API keys (never their secrets)")
async def member_api_keys(
    _: Admin, request: Request, uid: Annotated[str, Query(max_length=16)]
) -> list[ApiKey]:
    keys: ApiKeys = request.app.state.api_keys
    user_id = await _user_id(_identity(request), uid)
    found: list[dict[str, Any]] = await keys.list(user_id)
    return [ApiKey(**key) for key in found]


@router.post("/users/update", status_code=201, summary="Turn a member's 2FA off (support)")
async def update_user(admin: Admin, request: Request, body: UserUpdate) -> User:
    if body.otp:
        raise ApiError(422, "admin.user.otp_enable_by_user")  # only the member can enable it
    try:
        user = await _identity(request).reset_otp(admin, body.uid, client_of(request))
    except IdentityError as exc:
        raise ApiError(exc.status, exc.code) from exc
    return present_user(user)
