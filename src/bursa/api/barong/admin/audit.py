"""What admins audit and support fixes (``/api/v2/barong/admin``): the activity log of every
member (``activities``) and of staff actions (``activities/admin``: audited writes and
admin changes), a member's API keys, and turning off a member's 2FA (``users/update``).

The permission table gates these as every admin route: OpenDAX's seeds keep
``activities/admin`` from ``admin`` (superadmins only) and writes from read-only staff.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from bursa.api.barong.admin.users import Admin, _user_id
from bursa.api.barong.routes import Activity, ApiKey, User, client_of, present_user
from bursa.api.errors import ApiError
from bursa.identity.api_keys import ApiKeys
from bursa.identity.service import Identity
from bursa.identity.tables import activities, users
from bursa.plain_input import PlainInt

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


Uid = Annotated[str | None, Query(max_length=16)]
Topic = Annotated[str | None, Query(max_length=16)]
Result = Annotated[str | None, Query(pattern=r"^(succeed|failed|denied)$")]
Stamp = Annotated[PlainInt | None, Query(ge=0, le=10**10, description="Unix seconds")]
Page = Annotated[PlainInt, Query(ge=1, le=100_000)]
Limit = Annotated[PlainInt, Query(ge=1, le=1000)]


@dataclass(frozen=True)
class ActivityFilters:
    """The filters both activity lists take (FastAPI reads them from the query)."""

    uid: Uid = None
    result: Result = None
    time_from: Stamp = None
    time_to: Stamp = None
    page: Page = 1
    limit: Limit = 100


Filters = Annotated[ActivityFilters, Depends()]


async def _activities(
    request: Request, response: Response, filters: ActivityFilters, *conditions: Any
) -> list[AdminActivity]:
    query = (
        select(activities, users.c.uid.label("user_uid"), users.c.email.label("user_email"))
        .outerjoin(users, users.c.id == activities.c.user_id)
        .where(*conditions)
    )
    if filters.uid:
        user_id = await _user_id(_identity(request), filters.uid)
        query = query.where(activities.c.user_id == user_id)
    if filters.result:
        query = query.where(activities.c.result == filters.result)
    if filters.time_from is not None:
        since = datetime.fromtimestamp(filters.time_from, UTC)
        query = query.where(activities.c.created_at >= since)
    if filters.time_to is not None:
        until = datetime.fromtimestamp(filters.time_to, UTC)
        query = query.where(activities.c.created_at < until)
    page, limit = filters.page, filters.limit
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


@router.get("/activities", summary="Every member's activities, newest first")
async def list_activities(
    _: Admin, request: Request, response: Response, filters: Filters, topic: Topic = None
) -> list[AdminActivity]:
    topics = [activities.c.topic == topic] if topic else []
    return await _activities(request, response, filters, *topics)


@router.get("/activities/admin", summary="Staff actions: audited writes and admin changes")
async def list_admin_activities(
    _: Admin, request: Request, response: Response, filters: Filters
) -> list[AdminActivity]:
    return await _activities(request, response, filters, activities.c.topic.in_(STAFF_TOPICS))


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
    user = await _identity(request).reset_otp(admin, body.uid, client_of(request))
    return present_user(user)
