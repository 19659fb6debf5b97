"""Who the members are, for the admin records: a member's id (the engine's ``member_id``) from
their uid or email, their uid and email from ids (service accounts' too), and the member
list (users).

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
from bursa.identity.tables import service_accounts, users

# Peatio gives every uid a member. A user's member id is their user id; a service
# account's is this base plus its own id, so the two never meet (user ids stay far below).
SERVICE_ACCOUNT_MEMBERS = 1 << 40


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
    """The member id of the user or service account with this uid (exactly, as issued)
    or email (any case)."""
    people = select(users.c.id)
    machines = select(service_accounts.c.id + SERVICE_ACCOUNT_MEMBERS)
    if uid is not None:
        people = people.where(users.c.uid == uid)
        machines = machines.where(service_accounts.c.uid == uid)
    if email is not None:
        people = people.where(users.c.email == _email(email))
        machines = machines.where(service_accounts.c.email == _email(email))
    found = await session.scalar(people.limit(1))
    if found is None:
        found = await session.scalar(machines.limit(1))
    return None if found is None else int(found)


async def people(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    """Uid and email of each of these users (ids of no user are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(users.c.id, users.c.uid, users.c.email).where(users.c.id.in_(wanted))
    )
    found = {row.id: Person(row.uid, row.email) for row in rows}
    machines = [i - SERVICE_ACCOUNT_MEMBERS for i in wanted if i >= SERVICE_ACCOUNT_MEMBERS]
    if machines:
        rows = await session.execute(
            select(service_accounts.c.id, service_accounts.c.uid, service_accounts.c.email).where(
                service_accounts.c.id.in_(machines)
            )
        )
        found |= {SERVICE_ACCOUNT_MEMBERS + r.id: Person(r.uid, r.email) for r in rows}
    return found


@dataclass(frozen=True, slots=True)
class MemberFilter:
    state: str | None = None
    role: str | None = None
    email: str | None = None
    uid: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    updated: bool = False  # the time range applies to updated_at, not created_at
    ids: tuple[int, ...] | None = None  # only these users (or all but these: ``excluding``)
    excluding: bool = False
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
    if found.ids is not None:
        among = users.c.id.in_(found.ids)
        query = query.where(~among if found.excluding else among)
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
