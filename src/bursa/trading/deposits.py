"""Peatio's deposits: a member's incoming payment, recorded before and after the engine
credits it. This module keeps the records; the money moves only through the engine's
``Credit`` command (asset +gross, the member's main account +net, revenue +fee).

Accepting is two steps around the engine so a crash anywhere is recoverable: the deposit
is marked ``accepting`` with its command's key (committed), the engine applies the key
(once, however often it is sent), then the deposit is marked ``accepted``. Whoever finds a
deposit ``accepting`` resubmits the same key to finish it.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.ledger.tables import currencies
from bursa.trading.admin_queries import Listing, in_window, moment, ordered
from bursa.trading.tables import deposits

SUBMITTED, ACCEPTING, ACCEPTED = "submitted", "accepting", "accepted"
CANCELED, REJECTED = "canceled", "rejected"
# Peatio's states (coin deposits go on: processing, collected, ...) and Bursa's accepting.
STATES = (
    SUBMITTED,
    ACCEPTING,
    CANCELED,
    REJECTED,
    ACCEPTED,
    "aml_processing",
    "aml_suspicious",
    "processing",
    "skipped",
    "collected",
    "fee_processing",
    "errored",
)
REFERENCE_TYPE = "deposit"  # of the engine's Credit postings; their reference id is the tid


def new_tid() -> str:
    """Peatio's shape: ``TID`` and ten upper-case hex digits."""
    return "TID" + secrets.token_hex(5).upper()


def engine_key(row: Any) -> str:
    """The idempotency key of the ``Credit`` accepting ``row``: a retry reuses it; after
    the engine refused it, a later accept takes a new one."""
    base = f"deposit:{row['id']}"
    return base if row["attempts"] == 0 else f"{base}:{row['attempts']}"


async def currency_rules(session: AsyncSession, code: str) -> Any | None:
    """What a deposit of this currency needs: type, precision, fee and minimum."""
    query = select(
        currencies.c.id,
        currencies.c.type,
        currencies.c.precision,
        currencies.c.deposit_fee,
        currencies.c.min_deposit_amount,
    ).where(currencies.c.id == code)
    return (await session.execute(query)).mappings().first()


async def create(session: AsyncSession, **values: Any) -> tuple[Any, bool]:
    """A new deposit, or the one that already has this ``tid`` (and False); the caller
    commits."""
    inserted = await session.execute(
        insert(deposits).values(**values).on_conflict_do_nothing().returning(deposits)
    )
    row = inserted.mappings().first()
    if row is not None:
        return row, True
    found = await find(session, values["tid"])
    assert found is not None  # the conflict is on tid, and deposits are never deleted
    return found, False


async def find(session: AsyncSession, tid: str, *, lock: bool = False) -> Any | None:
    """One deposit; ``lock`` holds it (``FOR UPDATE``) until the transaction ends."""
    query = select(deposits).where(deposits.c.tid == tid)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def find_many(session: AsyncSession, tids: Sequence[str], *, lock: bool = False) -> list[Any]:
    """The deposits with these tids, in id order (the order every locker takes them in)."""
    if not tids:
        return []
    query = select(deposits).where(deposits.c.tid.in_(list(tids))).order_by(deposits.c.id)
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).mappings())


async def change(session: AsyncSession, deposit_id: int, **values: Any) -> Any:
    result = await session.execute(
        update(deposits)
        .where(deposits.c.id == deposit_id)
        .values(**values, updated_at=func.now())
        .returning(deposits)
    )
    return result.mappings().one()


@dataclass(frozen=True, slots=True)
class DepositFilter:
    member_id: int | None = None
    currency: str | None = None
    state: str | None = None
    blockchain_key: str | None = None
    from_id: int | None = None
    txid: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    tid: str | None = None
    type: str | None = None
    address: str | None = None
    flagged: bool | None = None  # has an ``error`` (e.g. taken back by a reorganisation)
    id: int | None = None
    listing: Listing | None = None  # the admin list's order and time range (else newest first)


async def listed(session: AsyncSession, found: DepositFilter, *, limit: int, page: int) -> Page:
    """Deposits, newest first (Peatio's order)."""
    exact: list[tuple[Any, Any]] = [
        (deposits.c.member_id, found.member_id),
        (deposits.c.currency_id, found.currency),
        (deposits.c.state, found.state),
        (deposits.c.blockchain_key, found.blockchain_key),
        (deposits.c.txid, found.txid),
        (deposits.c.tid, found.tid),
        (deposits.c.type, found.type),
        (deposits.c.address, found.address),
        (deposits.c.id, found.id),
    ]
    query = select(deposits).where(
        *(column == value for column, value in exact if value is not None)
    )
    if found.from_id is not None:
        query = query.where(deposits.c.id > found.from_id)
    if found.flagged is not None:
        flag = deposits.c.error.is_not(None)
        query = query.where(flag if found.flagged else ~flag)
    if found.created_from is not None:
        query = query.where(deposits.c.created_at >= found.created_from)
    if found.created_to is not None:
        query = query.where(deposits.c.created_at < found.created_to)
    if found.listing is not None:
        listing, column = found.listing, deposits.c
        query = query.where(*in_window(moment(column, listing), listing))
        query = ordered(query, listing, column[listing.order_by], column.id)
        return await page_of(session, query, limit, page)
    return await page_of(session, query.order_by(deposits.c.id.desc()), limit, page)


async def by_id(session: AsyncSession, deposit_id: int) -> Any | None:
    query = select(deposits).where(deposits.c.id == deposit_id)
    return (await session.execute(query)).mappings().first()
