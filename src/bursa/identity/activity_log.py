"""The activity log as staff read it (Barong's admin ``activities``): every member's
activities, or only staff actions, newest first, with whose each one is; and as a member
reads their own (``resource/users/activity``), by the same filters and pages."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bursa.errors import Refusal
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import activities, users

STAFF_TOPICS = ("audit", "admin")  # audited writes (permission table) and admin changes


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """Which activities: of one user (``uid``, or the signed-in member's ``user_id``), with
    one ``result``, in a time range (Unix seconds, ``time_to`` excluded), in some ``topics``
    (None: all)."""

    uid: str | None = None
    result: str | None = None
    time_from: int | None = None
    time_to: int | None = None
    topics: Sequence[str] | None = None
    user_id: int | None = None


class ActivityLog:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def search(
        self, wanted: ActivityFilter, page: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of the matching activities (each with ``user_uid`` and ``user_email``)
        and how many match; an unknown ``uid`` is ``admin.user.doesnt_exist``."""
        query = select(
            activities, users.c.uid.label("user_uid"), users.c.email.label("user_email")
        ).outerjoin(users, users.c.id == activities.c.user_id)
        if wanted.topics is not None:
            query = query.where(activities.c.topic.in_(wanted.topics))
        if wanted.result:
            query = query.where(activities.c.result == wanted.result)
        if wanted.time_from is not None:
            query = query.where(activities.c.created_at >= _moment(wanted.time_from))
        if wanted.time_to is not None:
            query = query.where(activities.c.created_at < _moment(wanted.time_to))
        if wanted.user_id is not None:
            query = query.where(activities.c.user_id == wanted.user_id)
        async with self.identity.engine.connect() as conn:
            if wanted.uid:
                user_id = await conn.scalar(select(users.c.id).where(users.c.uid == wanted.uid))
                if user_id is None:
                    raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
                query = query.where(activities.c.user_id == user_id)
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            rows = await conn.execute(
                query.order_by(activities.c.id.desc()).limit(limit).offset((page - 1) * limit)
            )
            return int(total or 0), [dict(row) for row in rows.mappings()]


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
