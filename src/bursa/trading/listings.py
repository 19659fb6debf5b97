"""What the listing sites (CoinMarketCap, CoinGecko) and ``public/config`` read: pairs by
their ``BASE_QUOTE`` names, each pair's 24-hour figures with its best prices as
committed, and whole lists of the listed currencies, markets and fees.

Everything comes from the existing market data services: books from the runner's
commit-time snapshots, 24-hour figures from ``market_data.Tickers``, trades from
``market_data.trades``; only ``trades_between`` adds the time window and the taker side
CoinGecko filters on, over the same ``(market_id, created_at)`` index.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.snapshots import BookSnapshot
from bursa.engine.specs import MarketSpec
from bursa.engine.units import from_units
from bursa.ledger.tables import currencies
from bursa.trading import market_data
from bursa.trading.confirmations import currency_query
from bursa.trading.repository import LISTED, fee_schedule
from bursa.trading.tables import markets

Side = Literal["buy", "sell"]
Level = tuple[Decimal, Decimal]  # price, volume
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def unix_ms(moment: datetime) -> int:
    """Unix milliseconds of an aware datetime, exactly (integer arithmetic)."""
    return (moment - EPOCH) // MILLISECOND


def pair_name(spec: MarketSpec) -> str:
    """The pair as the listing sites name it: ``BTC_USDT`` (Peatio's ``underscore_name``)."""
    return f"{spec.base.code.upper()}_{spec.quote.code.upper()}"


def tradable(books: Iterable[BookSnapshot]) -> list[BookSnapshot]:
    """The books of the markets that trade, in the runner's (the markets') order."""
    return [book for book in books if book.spec.tradable]


def find_pair(books: Iterable[BookSnapshot], name: str) -> BookSnapshot | None:
    """The tradable market named ``BASE_QUOTE`` (any case, spaces around ignored)."""
    base, sep, quote = name.strip().lower().partition("_")
    if not sep or not base or not quote:
        return None
    for book in tradable(books):
        if (book.spec.base.code, book.spec.quote.code) == (base, quote):
            return book
    return None


def levels(book: BookSnapshot, side: Side, count: int | None) -> list[Level]:
    """Price levels of one side as committed, best first (at most ``count``; None: every
    level the snapshot holds, ``bursa.engine.snapshots.LEVELS``)."""
    spec = book.spec
    rows = book.asks if side == "sell" else book.bids
    chosen = rows if count is None else rows[:count]
    return [
        (from_units(price, spec.price_precision), from_units(volume, spec.amount_precision))
        for price, volume in chosen
    ]


def orders(book: BookSnapshot, side: Side, count: int | None) -> list[Level]:
    """Resting orders of one side, unaggregated (price-time priority), as price and
    remaining volume (at most ``count``; None: every order the snapshot holds)."""
    spec = book.spec
    rows = book.ask_orders if side == "sell" else book.bid_orders
    chosen = rows if count is None else rows[:count]
    return [
        (from_units(o.price, spec.price_precision), from_units(o.volume, spec.amount_precision))
        for o in chosen
    ]


@dataclass(frozen=True, slots=True)
class PairFigures:
    """A pair's last 24 hours (``market_data.Ticker``) with its best prices as committed
    (None where that side is empty)."""

    name: str
    spec: MarketSpec
    ticker: market_data.Ticker
    lowest_ask: Decimal | None
    highest_bid: Decimal | None


async def figures(
    session: AsyncSession, tickers: market_data.Tickers, books: Sequence[BookSnapshot]
) -> list[PairFigures]:
    """Every tradable pair's figures, in the markets' order (one ticker read for all)."""
    listed = tradable(books)
    found = await tickers.get(
        session, [(book.spec.id, book.spec.price_precision) for book in listed]
    )
    answer = []
    for book in listed:
        asks, bids = levels(book, "sell", 1), levels(book, "buy", 1)
        answer.append(
            PairFigures(
                name=pair_name(book.spec),
                spec=book.spec,
                ticker=found[book.spec.id],
                lowest_ask=asks[0][0] if asks else None,
                highest_bid=bids[0][0] if bids else None,
            )
        )
    return answer


async def trades_between(
    session: AsyncSession,
    market: str,
    *,
    limit: int,
    side: Side | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[market_data.PublicTrade]:
    """The market's trades newest first, at most ``limit``, optionally only one taker
    side and those executed in ``[start, end]`` (Unix seconds, both included)."""
    where = ["market_id = :market"]
    params: dict[str, Any] = {"market": market, "limit": limit}
    if side is not None:
        where.append("taker_type = :side")
        params["side"] = side
    if start is not None:
        where.append("created_at >= to_timestamp(:start)")
        params["start"] = start
    if end is not None:
        # Whole seconds: a trade at end + 0.4 s was executed "at" ``end`` too.
        where.append("created_at < to_timestamp(:end) + interval '1 second'")
        params["end"] = end
    rows = await session.execute(
        text(
            "SELECT id, market_id, price, amount, total, taker_type, created_at FROM trades"
            f" WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT :limit"
        ),
        params,
    )
    return [market_data.PublicTrade(*row) for row in rows]


async def every_currency(session: AsyncSession) -> Sequence[Any]:
    """Every listed currency, as ``public/currencies`` shows them (by position)."""
    query = currency_query().where(currencies.c.state == LISTED)
    result = await session.execute(query.order_by(currencies.c.position, currencies.c.id))
    return result.mappings().all()


async def every_market(session: AsyncSession) -> Sequence[Any]:
    """Every listed spot market, as ``public/markets`` shows them (by position)."""
    query = select(markets).where(markets.c.state == LISTED, markets.c.type == "spot")
    result = await session.execute(query.order_by(markets.c.position, markets.c.id))
    return result.mappings().all()


async def every_trading_fee(session: AsyncSession) -> Sequence[Any]:
    """Every trading fee entry, as ``public/trading_fees`` lists them (stored by id, then
    the markets' own)."""
    fees = fee_schedule()
    result = await session.execute(select(fees).order_by(fees.c.id < 0, func.abs(fees.c.id)))
    return result.mappings().all()
