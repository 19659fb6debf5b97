"""Who the members are, for the admin records: a member's id (the engine's ``member_id``) from
their uid or email, their uid and email from ids, and the member list.

Trading records carry only ids (``bursa.trading`` may not read identity's tables), so the
admin API resolves people here and filters or shows records by id.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.identity.tables import users


def _email(email: str) -> str:
    """Emails are stored lower-case; one that is not valid simply matches nobody."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class Person:
    uid: str
    email: str


async def member_id(
    session: AsyncSession, *, uid: str | None = None, email: str | None = None
) -> int | None:
    """The id of the user with this uid (exactly, as issued) or email (any case)."""
    query = select(users.c.id)
    if uid is not None:
        query = query.where(users.c.uid == uid)
    if email is not None:
        query = query.where(users.c.email == _email(email))
    found = await session.scalar(query.limit(1))
    return None if found is None else int(found)


async def people(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    """Uid and email of each of these users (ids of no user are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(users.c.id, users.c.uid, users.c.email).where(users.c.id.in_(wanted))
    )
    return {row.id: Person(row.uid, row.email) for row in rows}


@dataclass(frozen=True, slots=True)
class MemberFilter:
    state: str | None = None
    role: str | None = None
    email: str | None = None
    uid: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    updated: bool = False  # the time range applies to updated_at, not created_at
    order_by: str = "id"
    ascending: bool = True


async def members(session: AsyncSession, found: MemberFilter, *, limit: int, page: int) -> Page:
    """Users (every role: staff are members too), in Peatio's default order (id, ascending)."""
    query = select(
        users.c.id,
        users.c.uid,
        users.c.email,
        users.c.role,
        users.c.state,
        users.c.level,
        users.c.created_at,
        users.c.updated_at,
    )
    exact: list[tuple[Any, Any]] = [
        (users.c.state, found.state),
        (users.c.role, found.role),
        (users.c.uid, found.uid),
        (users.c.email, _email(found.email) if found.email is not None else None),
    ]
    query = query.where(*(column == value for column, value in exact if value is not None))
    moment = users.c.updated_at if found.updated else users.c.created_at
    if found.time_from is not None:
        query = query.where(moment >= found.time_from)
    if found.time_to is not None:
        query = query.where(moment < found.time_to)
    keys = [users.c[found.order_by], users.c.id]
    query = query.order_by(*(k.asc() if found.ascending else k.desc() for k in keys))
    return await page_of(session, query, limit, page)


async def member(session: AsyncSession, uid: str) -> Any | None:
    """One user by uid, with the columns the member list shows."""
    page = await members(session, MemberFilter(uid=uid), limit=1, page=1)
    return page.rows[0] if page.rows else None
