"""Queries for the listing of currencies and markets (what the public API shows)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.ledger.tables import currencies
from bursa.trading.tables import markets

LISTED = "enabled"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the total the headers announce."""

    rows: Sequence[Any]
    total: int


async def _page(session: AsyncSession, query: Select[Any], limit: int, page: int) -> Page:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    result = await session.execute(query.limit(limit).offset((page - 1) * limit))
    return Page(result.mappings().all(), int(total or 0))


async def listed_currencies(
    session: AsyncSession, *, type: str | None, limit: int, page: int
) -> Page:
    """Enabled currencies by position, optionally of one type (``coin`` or ``fiat``)."""
    query = select(currencies).where(currencies.c.state == LISTED)
    if type is not None:
        query = query.where(currencies.c.type == type)
    return await _page(session, query.order_by(currencies.c.position, currencies.c.id), limit, page)


async def listed_currency(session: AsyncSession, code: str) -> Any | None:
    """One enabled currency by code, in either case."""
    query = select(currencies).where(currencies.c.id == code.lower(), currencies.c.state == LISTED)
    return (await session.execute(query)).mappings().first()


async def listed_markets(
    session: AsyncSession,
    *,
    base_unit: str | None,
    quote_unit: str | None,
    limit: int,
    page: int,
) -> Page:
    """Enabled spot markets by position, optionally filtered by base or quote currency."""
    query = select(markets).where(markets.c.state == LISTED, markets.c.type == "spot")
    if base_unit is not None:
        query = query.where(markets.c.base_unit == base_unit.lower())
    if quote_unit is not None:
        query = query.where(markets.c.quote_unit == quote_unit.lower())
    return await _page(session, query.order_by(markets.c.position, markets.c.id), limit, page)
