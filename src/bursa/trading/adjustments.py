"""Peatio's adjustments: corrections of the ledger proposed by one admin and accepted or
rejected by another (maker/checker). This module keeps the proposals; the money moves only
through the engine's ``Adjust`` command, which the API submits on acceptance.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.trading.admin_queries import Listing
from bursa.trading.tables import adjustments

CATEGORIES = (
    "asset_registration",
    "investment",
    "minting_token",
    "balance_anomaly",
    "misc",
    "refund",
    "compensation",
    "incentive",
    "bank_fees",
    "bank_interest",
    "minor",
)
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATES = (PENDING, ACCEPTED, REJECTED)
ASSET_CODES = {"fiat": 101, "coin": 102}
MAIN_CODES = {"fiat": 201, "coin": 202}  # what the engine's Adjust posts to
RECEIVING_CODES = (201, 202, 211, 212, 301, 302, 401, 402)  # Peatio's chart, assets aside
REFERENCE_TYPE = "adjustment"  # of the engine's postings
# Maker/checker: any role that may propose (Peatio's abilities: accountants too) makes, but
# only these roles decide another's proposal, and nobody accepts their own. A proposer may
# reject (withdraw) their own pending proposal: that moves nothing.
CHECKERS = frozenset({"superadmin", "admin"})


def engine_key(row: Any) -> str:
    """The idempotency key of the ``Adjust`` command accepting ``row``: a retried request
    reuses it (and is answered what the engine did); after a refusal it changes, so a
    later accept is applied rather than answered the same refusal."""
    base = f"adjustment:{row['id']}"
    return base if row["attempts"] == 0 else f"{base}:{row['attempts']}"


async def create(session: AsyncSession, **values: Any) -> Any:
    """A new pending adjustment (the caller commits)."""
    result = await session.execute(insert(adjustments).values(**values).returning(adjustments))
    return result.mappings().one()


async def find(session: AsyncSession, adjustment_id: int, *, lock: bool = False) -> Any | None:
    """One adjustment; ``lock`` holds it (``FOR UPDATE``) until the transaction ends, so
    that two admins cannot accept or reject it at once."""
    query = select(adjustments).where(adjustments.c.id == adjustment_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def change(session: AsyncSession, adjustment_id: int, **values: Any) -> Any:
    result = await session.execute(
        update(adjustments)
        .where(adjustments.c.id == adjustment_id)
        .values(**values, updated_at=func.now())
        .returning(adjustments)
    )
    return result.mappings().one()


@dataclass(frozen=True, slots=True)
class AdjustmentFilter:
    currency: str | None = None
    state: str | None = None
    category: str | None = None
    listing: Listing = field(default_factory=Listing)


async def listed(session: AsyncSession, found: AdjustmentFilter, *, limit: int, page: int) -> Page:
    query = select(adjustments)
    exact: list[tuple[Any, Any]] = [
        (adjustments.c.currency_id, found.currency),
        (adjustments.c.state, found.state),
        (adjustments.c.category, found.category),
    ]
    query = query.where(*(column == value for column, value in exact if value is not None))
    listing = found.listing
    moment = adjustments.c.updated_at if listing.updated else adjustments.c.created_at
    if listing.time_from is not None:
        query = query.where(moment >= listing.time_from)
    if listing.time_to is not None:
        query = query.where(moment < listing.time_to)
    keys = [adjustments.c[listing.order_by], adjustments.c.id]
    query = query.order_by(*(k.asc() if listing.ascending else k.desc() for k in keys))
    return await page_of(session, query, limit, page)
