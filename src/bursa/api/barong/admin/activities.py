"""``/api/v2/barong/admin/activities``: the activity log of every member, and of staff
actions (``activities/admin``: audited writes and admin changes), newest first.

The permission table gates these as every admin route: OpenDAX's seeds keep
``activities/admin`` from ``admin`` (superadmins only).
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from bursa.api.barong.deps import ActivityLogDep, Admin
from bursa.api.barong.schemas import Activity
from bursa.api.peatio.params import paginate
from bursa.identity.activity_log import STAFF_TOPICS, ActivityFilter, ActivityLog
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/activities", tags=["barong admin"])

Uid = Annotated[str | None, Query(max_length=16)]
Topic = Annotated[str | None, Query(max_length=16)]
Result = Annotated[str | None, Query(pattern=r"^(succeed|failed|denied)$")]
Stamp = Annotated[PlainInt | None, Query(ge=0, le=10**10, description="Unix seconds")]
Page = Annotated[PlainInt, Query(ge=1, le=100_000)]
Limit = Annotated[PlainInt, Query(ge=1, le=1000)]


class AdminActivity(Activity):
    """An activity with whose it is (Barong's admin ``Activity`` entity)."""

    user_uid: str | None
    user_email: str | None


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


async def _page(
    log: ActivityLog, response: Response, filters: ActivityFilters, topics: list[str] | None
) -> list[AdminActivity]:
    wanted = ActivityFilter(filters.uid, filters.result, filters.time_from, filters.time_to, topics)
    total, found = await log.search(wanted, filters.page, filters.limit)
    paginate(response, total, filters.page, filters.limit)
    return [AdminActivity(**row) for row in found]


@router.get("", summary="Every member's activities, newest first")
async def list_activities(
    _: Admin, log: ActivityLogDep, response: Response, filters: Filters, topic: Topic = None
) -> list[AdminActivity]:
    return await _page(log, response, filters, [topic] if topic else None)


@router.get("/admin", summary="Staff actions: audited writes and admin changes")
async def list_admin_activities(
    _: Admin, log: ActivityLogDep, response: Response, filters: Filters
) -> list[AdminActivity]:
    return await _page(log, response, filters, list(STAFF_TOPICS))
