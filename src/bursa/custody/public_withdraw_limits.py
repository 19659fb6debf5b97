"""Withdrawal limits as the public API lists them (``public/withdraw_limits`` and
``public/config``): the rows admins keep (``admin_withdraw_limits``), filtered, ordered
and paged as Peatio's public list; nothing here changes them."""

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.withdraw_limit_tables import withdraw_limits
from bursa.db.pages import Page, page_of

OrderBy = Literal[
    "id", "group", "kyc_level", "limit_24_hour", "limit_1_month", "created_at", "updated_at"
]


async def listed(
    session: AsyncSession,
    *,
    group: str | None,
    kyc_level: str | None,
    order_by: OrderBy,
    descending: bool,
    limit: int,
    page: int,
) -> Page:
    """The limits of one ``group`` and ``kyc_level`` if given (any case; ``any`` names the
    rows for every group or level, as stored), ordered by ``order_by`` then id."""
    query = select(withdraw_limits)
    if group is not None:
        query = query.where(withdraw_limits.c.group == group.strip().lower())
    if kyc_level is not None:
        query = query.where(withdraw_limits.c.kyc_level == kyc_level.strip().lower())
    keys = [withdraw_limits.c[order_by], withdraw_limits.c.id]
    ordered = query.order_by(*(key.desc() if descending else key for key in keys))
    return await page_of(session, ordered, limit, page)


async def every_limit(session: AsyncSession) -> Sequence[Any]:
    """Every limit, by id (``public/config``)."""
    result = await session.execute(select(withdraw_limits).order_by(withdraw_limits.c.id))
    return result.mappings().all()
