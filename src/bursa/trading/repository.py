"""Queries for the listing of currencies and markets (what the public API shows)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

# Re-exported: callers written before paging moved to ``bursa.db.pages`` import it here.
from bursa.db.pages import Page as Page
from bursa.db.pages import page_of as page_of
from bursa.engine.tables import trading_fees
from bursa.ledger.tables import currencies
from bursa.trading.confirmations import currency_query
from bursa.trading.tables import markets

LISTED = "enabled"


async def listed_currencies(
    session: AsyncSession,
    *,
    type: str | None,
    limit: int,
    page: int,
    code: str | None = None,
    name: str | None = None,
) -> Page:
    """Enabled currencies by position, optionally of one type (``coin`` or ``fiat``) and
    searched by substrings of their code or name (either matching, as Peatio's search)."""
    query = currency_query().where(currencies.c.state == LISTED)
    if type is not None:
        query = query.where(currencies.c.type == type)
    found = [
        _contains(column, value)
        for column, value in ((currencies.c.id, code), (currencies.c.name, name))
        if value
    ]
    if found:
        query = query.where(or_(*found))
    return await page_of(
        session, query.order_by(currencies.c.position, currencies.c.id), limit, page
    )


async def listed_currency(session: AsyncSession, code: str) -> Any | None:
    """One enabled currency by code, in either case."""
    query = currency_query().where(currencies.c.id == code.lower(), currencies.c.state == LISTED)
    return (await session.execute(query)).mappings().first()


@dataclass(frozen=True, slots=True)
class MarketSearch:
    """Peatio's ``search[...]``: substrings of the base or quote currency's code or name,
    any of them matching (case-insensitive)."""

    base_code: str | None = None
    quote_code: str | None = None
    base_name: str | None = None
    quote_name: str | None = None


def _contains(column: Any, fragment: str) -> Any:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


async def currency_exists(session: AsyncSession, code: str) -> bool:
    found = await session.scalar(select(currencies.c.id).where(currencies.c.id == code.lower()))
    return found is not None


async def listed_markets(
    session: AsyncSession,
    *,
    base_unit: str | None,
    quote_unit: str | None,
    limit: int,
    page: int,
    type: str = "spot",
    order_by: str = "position",
    descending: bool = False,
    search: MarketSearch | None = None,
) -> Page:
    """Enabled markets of one type, optionally filtered by base or quote currency and
    searched by their currencies' codes and names, by position (or id)."""
    query = select(markets).where(markets.c.state == LISTED, markets.c.type == type)
    if base_unit is not None:
        query = query.where(markets.c.base_unit == base_unit.lower())
    if quote_unit is not None:
        query = query.where(markets.c.quote_unit == quote_unit.lower())
    if search is not None:
        base, quote = currencies.alias("base"), currencies.alias("quote")
        matches = []
        if search.base_code:
            matches.append(_contains(markets.c.base_unit, search.base_code))
        if search.quote_code:
            matches.append(_contains(markets.c.quote_unit, search.quote_code))
        if search.base_name:
            matches.append(
                markets.c.base_unit.in_(
                    select(base.c.id).where(_contains(base.c.name, search.base_name))
                )
            )
        if search.quote_name:
            matches.append(
                markets.c.quote_unit.in_(
                    select(quote.c.id).where(_contains(quote.c.name, search.quote_name))
                )
            )
        if matches:
            query = query.where(or_(*matches))
    column = markets.c.id if order_by == "id" else markets.c.position
    keys = (column.desc(), markets.c.id.desc()) if descending else (column, markets.c.id)
    return await page_of(session, query.order_by(*keys), limit, page)


# Trading fees as Peatio lists them: the stored entries (``trading_fees``, by market or
# ``any`` and group or ``any``), plus each listed market's own fees as an entry of the group
# ``any`` wherever they still apply, that is where no stored entry for that market (or for
# every market) and the group ``any`` overrides them. Those entries have no row of their
# own: their id is minus the market's rank by position, so it never meets a stored id.
FEE_GROUP = "any"


def fee_schedule() -> Any:
    """Every trading fee entry (stored, then markets' own), as one subquery."""
    stored = select(
        trading_fees.c.id,
        trading_fees.c.market_id,
        literal("spot").label("market_type"),
        trading_fees.c.group,
        trading_fees.c.maker,
        trading_fees.c.taker,
        trading_fees.c.created_at,
        trading_fees.c.updated_at,
    )
    overridden = (
        select(trading_fees.c.id)
        .where(
            trading_fees.c.market_id.in_([markets.c.id, literal(FEE_GROUP)]),
            trading_fees.c.group == FEE_GROUP,
        )
        .exists()
    )
    ranked = (
        select(
            func.row_number().over(order_by=(markets.c.position, markets.c.id)).label("rank"),
            markets.c.id.label("market_id"),
            markets.c.type.label("market_type"),
            markets.c.maker_fee,
            markets.c.taker_fee,
            markets.c.created_at,
            markets.c.updated_at,
            overridden.label("overridden"),
        )
        .where(markets.c.state == LISTED, markets.c.type == "spot")
        .subquery()
    )
    defaults = select(
        (-ranked.c.rank).label("id"),
        ranked.c.market_id,
        ranked.c.market_type,
        literal(FEE_GROUP).label("group"),
        ranked.c.maker_fee.label("maker"),
        ranked.c.taker_fee.label("taker"),
        ranked.c.created_at,
        ranked.c.updated_at,
    ).where(~ranked.c.overridden)
    return union_all(stored, defaults).subquery()


async def trading_fees_page(
    session: AsyncSession,
    *,
    group: str | None,
    market_id: str | None,
    limit: int,
    page: int,
    descending: bool,
) -> Page:
    """Trading fee entries, optionally of one group or market, by id."""
    fees = fee_schedule()
    query = select(fees)
    if group is not None:
        query = query.where(fees.c.group == group)
    if market_id is not None:
        query = query.where(fees.c.market_id == market_id.lower())
    # Stored entries by id, then markets' own by rank (their ids are negative).
    keys = (fees.c.id < 0, func.abs(fees.c.id))
    order = [key.desc() for key in keys] if descending else list(keys)
    return await page_of(session, query.order_by(*order), limit, page)
