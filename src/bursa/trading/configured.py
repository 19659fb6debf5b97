"""Currencies and markets as configured, whatever their state: what the admin and
Management APIs list and show (members see only the enabled ones: ``market_data``)."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading.admin_queries import Listing, ordered
from bursa.trading.config_changes import NOT_FOUND
from bursa.trading.confirmations import currency_query
from bursa.trading.tables import markets


async def currencies_listed(
    session: AsyncSession,
    *,
    type: str | None,
    state: str | None,
    limit: int,
    page: int,
    sorting: Listing | None = None,
) -> Page:
    """Currencies in their order (``position``, then code), with the confirmations a
    deposit needs; of one ``type`` and ``state`` if given."""
    query = currency_query()
    if type is not None:
        query = query.where(currencies.c.type == type)
    if state is not None:
        query = query.where(currencies.c.state == state)
    return await page_of(session, _sorted(query, currencies.c, sorting), limit, page)


async def currency(session: AsyncSession, code: str) -> Any:
    """Currency ``code`` (any case), with the confirmations a deposit needs; refused as not
    found."""
    query = currency_query().where(currencies.c.id == code.lower())
    return _found((await session.execute(query)).mappings().first())


async def markets_listed(
    session: AsyncSession,
    *,
    state: str | None,
    limit: int,
    page: int,
    sorting: Listing | None = None,
) -> Page:
    """Markets in their order (``position``, then symbol), of one ``state`` if given."""
    query = select(markets)
    if state is not None:
        query = query.where(markets.c.state == state)
    return await page_of(session, _sorted(query, markets.c, sorting), limit, page)


async def market(session: AsyncSession, symbol: str) -> Any:
    """Market ``symbol`` (any case); refused as not found."""
    query = select(markets).where(markets.c.id == symbol.lower())
    return _found((await session.execute(query)).mappings().first())


def _sorted(query: Select[Any], columns: Any, sorting: Listing | None) -> Select[Any]:
    """By ``sorting``'s column and direction (default: ``position`` ascending), then id."""
    sorting = sorting or Listing(order_by="position")
    return ordered(query, sorting, columns[sorting.order_by], columns.id)


def _found(row: Any) -> Any:
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return row
