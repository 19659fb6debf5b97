"""Sign-up and login counts by day (Barong's admin ``metrics``), from the users table and
the activity log, with the number of KYC applications waiting (private label
``document: pending``).

Days are UTC dates. Sign-ups count every account created (by sign-up, an admin or the
Management API), from ``users.created_at``; logins count the ``session/login`` activities,
``succeed`` as successful and ``failed`` or ``denied`` (a locked, banned or unconfirmed
account, a missing second factor) as failed.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.sql import ColumnElement

from bursa.errors import Refusal
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import activities, labels, users

_UNIX = re.compile(r"[0-9]{1,10}")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?")


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` (included) to ``end`` (excluded); None is unbounded."""

    start: datetime | None = None
    end: datetime | None = None


def period(created_from: str | None, created_to: str | None) -> Period:
    """The period of Barong's ``created_from``/``created_to``: Unix seconds or an ISO 8601
    date or time (UTC unless it says otherwise). ``created_to`` is included: a date means
    the whole day, a time that instant."""
    start = _moment(created_from, "admin.metrics.invalid_created_from", end=False)
    end = _moment(created_to, "admin.metrics.invalid_created_to", end=True)
    if start is not None and end is not None and end <= start:
        raise IdentityError(Refusal.INVALID, "admin.metrics.invalid_period")
    return Period(start, end)


def _moment(text: str | None, code: str, *, end: bool) -> datetime | None:
    if text is None:
        return None
    try:
        if _UNIX.fullmatch(text):
            moment = datetime.fromtimestamp(int(text), UTC)
            return moment + timedelta(seconds=1) if end else moment
        if _ISO.fullmatch(text):
            if len(text) == 10:  # a date: the whole day
                day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
                return datetime.combine(day, time(), UTC)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment + timedelta(microseconds=1) if end else moment
    except (ValueError, OverflowError):
        pass
    raise IdentityError(Refusal.INVALID, code)


class Metrics:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def summary(self, within: Period) -> dict[str, Any]:
        """``signups``, ``sucessful_logins`` (Barong's spelling) and ``failed_logins`` as
        ``{"YYYY-MM-DD": count}``, and ``pending_applications``."""
        logins = (activities.c.topic == "session", activities.c.action == "login")
        async with self.identity.engine.connect() as conn:
            signups = await _by_day(conn, users.c.created_at, within)
            succeeded = await _by_day(
                conn, activities.c.created_at, within, *logins, activities.c.result == "succeed"
            )
            failed = await _by_day(
                conn,
                activities.c.created_at,
                within,
                *logins,
                activities.c.result.in_(("failed", "denied")),
            )
            pending = await conn.scalar(
                select(func.count())
                .select_from(labels)
                .where(
                    labels.c.key == "document",
                    labels.c.value == "pending",
                    labels.c.scope == "private",
                )
            )
        return {
            "signups": signups,
            "sucessful_logins": succeeded,
            "failed_logins": failed,
            "pending_applications": int(pending or 0),
        }


async def _by_day(
    conn: Any, stamp: Any, within: Period, *where: ColumnElement[bool]
) -> dict[str, int]:
    day = cast(func.timezone("UTC", stamp), Date)
    query = select(day, func.count()).select_from(stamp.table).where(*where)
    if within.start is not None:
        query = query.where(stamp >= within.start)
    if within.end is not None:
        query = query.where(stamp < within.end)
    rows = await conn.execute(query.group_by(day).order_by(day))
    return {row[0].isoformat(): int(row[1]) for row in rows}
