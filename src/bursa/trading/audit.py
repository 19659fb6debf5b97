"""The admin audit log: every change made through the Peatio admin API, with who made it and
the record before and after.

The entry is written in the same transaction as a database-only change; for a change the
engine applies, it is written once the engine has committed, with what the engine answered,
so the log never shows a change that did not happen.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.trading.tables import admin_audit


@dataclass(frozen=True, slots=True)
class Actor:
    """The admin making a change, as the authorization step found them."""

    uid: str
    role: str
    ip: str


def plain(value: Any) -> Any:
    """A record as JSON can hold it: decimals in plain notation, times in ISO 8601."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Add an entry to the session's transaction (the caller commits)."""
    await session.execute(
        insert(admin_audit).values(
            actor_uid=actor.uid,
            actor_role=actor.role,
            actor_ip=actor.ip[:45],
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:64],
            before=plain(before),
            after=plain(after),
        )
    )


async def entries(
    session: AsyncSession,
    *,
    actor_uid: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    limit: int = 100,
    page: int = 1,
) -> Page:
    """Entries, newest first, optionally of one admin, one kind of record or one record."""
    query = select(admin_audit)
    if actor_uid is not None:
        query = query.where(admin_audit.c.actor_uid == actor_uid)
    if target_type is not None:
        query = query.where(admin_audit.c.target_type == target_type)
    if target_id is not None:
        query = query.where(admin_audit.c.target_id == target_id)
    if action is not None:
        query = query.where(admin_audit.c.action == action)
    query = query.order_by(admin_audit.c.id.desc())
    return await page_of(session, query, limit, page)
