"""Public market data from committed trades: trade history, k-lines and 24-hour tickers.

Every read is an index range scan bounded by its limit: trades by ``(market_id,
created_at)``, candles by their primary key ``(market_id, period, time)``. Tickers add up
at most 1440 one-minute candles per market and are cached until the candle writer counts
a trade of that market or the minute turns (the 24-hour window then slides).
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.hot import HotReads
from bursa.trading.candles import CandleWriter

MAX_CANDLES = 10_000  # rows one k-line request may return, whatever its range
WINDOW_MINUTES = 24 * 60
ZERO = Decimal(0)

Ordering = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class PublicTrade:
    id: int
    market: str
    price: Decimal
    amount: Decimal
    total: Decimal
    taker_type: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Candle:
    time: int  # period start, Unix seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base amount


@dataclass(frozen=True, slots=True)
class Ticker:
    """A market's last 24 hours. ``volume`` is in quote, ``amount`` in base; ``last`` is
    the latest trade's price ever (zero if none), ``open`` the first one in the window."""

    at: int
    low: Decimal
    high: Decimal
    open: Decimal
    last: Decimal
    volume: Decimal
    amount: Decimal
    avg_price: Decimal
    price_change_percent: Decimal


async def trades(
    session: AsyncSession,
    market: str,
    *,
    limit: int,
    before: int | None = None,
    order: Ordering = "desc",
) -> list[PublicTrade]:
    """The market's trades, newest or oldest first, optionally only those executed before
    ``before`` (Unix seconds)."""
    direction = "DESC" if order == "desc" else "ASC"
    where = "market_id = :market"
    params: dict[str, Any] = {"market": market, "limit": limit}
    if before is not None:
        where += " AND created_at < to_timestamp(:before)"
        params["before"] = before
    rows = await session.execute(
        text(
            "SELECT id, market_id, price, amount, total, taker_type, created_at FROM trades"
            f" WHERE {where} ORDER BY created_at {direction}, id {direction} LIMIT :limit"
        ),
        params,
    )
    return [PublicTrade(*row) for row in rows]


async def k_line(
    session: AsyncSession,
    market: str,
    period: int,
    *,
    time_from: int | None,
    time_to: int | None,
    limit: int,
) -> list[Candle]:
    """Candles oldest first, as Peatio selects them: with ``time_from`` the first ``limit``
    from there (all of them up to ``time_to`` when both are given, at most
    ``MAX_CANDLES``); otherwise the last ``limit`` up to ``time_to`` or now.

    ``time_to`` is inclusive, as Peatio's: the candle that starts at ``time_to`` is in the
    answer, so a chart that reloads its window up to the start of the current bar gets
    that bar (it is still filling) rather than nothing."""
    where = "market_id = :market AND period = :period"
    params: dict[str, Any] = {"market": market, "period": period}
    if time_from is not None:
        where += " AND time >= to_timestamp(:time_from)"
        params["time_from"] = time_from
    if time_to is not None:
        where += " AND time <= to_timestamp(:time_to)"
        params["time_to"] = time_to
    newest_first = time_from is None
    params["limit"] = MAX_CANDLES if time_from is not None and time_to is not None else limit
    rows = await session.execute(
        text(
            "SELECT time, open, high, low, close, amount FROM candles"
            f" WHERE {where} ORDER BY time {'DESC' if newest_first else 'ASC'} LIMIT :limit"
        ),
        params,
    )
    found = [
        Candle(int(row.time.timestamp()), row.open, row.high, row.low, row.close, row.amount)
        for row in rows
    ]
    return found[::-1] if newest_first else found


_TICKERS = text(
    """
SELECT m.market_id, w.open, w.high, w.low, w.amount, w.total, l.close AS last
FROM unnest(CAST(:markets AS text[])) AS m(market_id)
LEFT JOIN LATERAL (
    SELECT (array_agg(c.open ORDER BY c.time))[1] AS open, max(c.high) AS high,
           min(c.low) AS low, sum(c.amount) AS amount, sum(c.total) AS total
    FROM candles AS c
    WHERE c.market_id = m.market_id AND c.period = 1 AND c.time >= to_timestamp(:since)
) AS w ON true
LEFT JOIN LATERAL (
    SELECT c.close FROM candles AS c
    WHERE c.market_id = m.market_id AND c.period = 1
    ORDER BY c.time DESC LIMIT 1
) AS l ON true
"""
)


class Tickers:
    """24-hour tickers from one-minute candles, cached per market while nothing changed.

    Without a running ``CandleWriter`` nothing tells when candles change, so nothing is
    cached (each read is still bounded: at most 1440 rows per market)."""

    def __init__(self, writer: CandleWriter | None = None) -> None:
        self.writer = writer
        self._cache: dict[str, tuple[tuple[int, int, int], Ticker]] = {}

    def _key(self, market: str, minute: int) -> tuple[int, int, int] | None:
        writer = self.writer
        if writer is None or not writer.running:
            return None
        return (writer.generation, writer.versions[market], minute)

    async def get(
        self, session: AsyncSession, markets: Iterable[tuple[str, int]]
    ) -> dict[str, Ticker]:
        """Tickers of ``markets`` (id, price precision), in the order given."""
        now = int(time.time())
        minute = now // 60
        wanted = list(markets)
        found: dict[str, Ticker] = {}
        missing: list[tuple[str, int]] = []
        for market, places in wanted:
            key = self._key(market, minute)
            cached = self._cache.get(market)
            if key is not None and cached is not None and cached[0] == key:
                found[market] = cached[1]
            else:
                missing.append((market, places))
        if missing:
            # Keys are read before the query: a trade counted meanwhile leaves a stale key.
            keys = {market: self._key(market, minute) for market, _ in missing}
            computed = await _compute(session, missing, (minute - WINDOW_MINUTES + 1) * 60, now)
            for market, ticker in computed.items():
                key = keys[market]
                if key is not None:
                    self._cache[market] = (key, ticker)
                found[market] = ticker
        return {market: found[market] for market, _ in wanted}


async def _compute(
    session: AsyncSession, markets: Sequence[tuple[str, int]], since: int, now: int
) -> dict[str, Ticker]:
    places = dict(markets)
    rows = await session.execute(_TICKERS, {"markets": list(places), "since": since})
    tickers: dict[str, Ticker] = {}
    for row in rows:
        last = row.last if row.last is not None else ZERO
        amount = row.amount if row.amount is not None else ZERO
        total = row.total if row.total is not None else ZERO
        open_ = row.open if row.open is not None else ZERO
        average = ZERO
        if amount:
            average = (total / amount).quantize(
                Decimal(1).scaleb(-places[row.market_id]), rounding=ROUND_DOWN
            )
        change = (last - open_) / open_ * 100 if open_ else ZERO
        tickers[row.market_id] = Ticker(
            at=now,
            low=row.low if row.low is not None else ZERO,
            high=row.high if row.high is not None else ZERO,
            open=open_,
            last=last,
            volume=total,
            amount=amount,
            avg_price=average,
            price_change_percent=change,
        )
    return tickers


_ORDER_UUIDS = "SELECT id, uuid FROM orders WHERE id = ANY($1::bigint[])"


async def order_uuids(reads: HotReads, ids: Sequence[int]) -> dict[int, str]:
    """The UUIDs of the orders ``ids`` as stored (one primary-key read, one round trip).

    Read, not derived from the ids (``bursa.engine.order_uuids``): orders written before
    the engine derived them keep the random UUID they were given, and a book may still
    hold some. A book snapshot is published only after its batch committed, so every order
    it shows has its row."""
    if not ids:
        return {}
    rows = await reads.fetch(_ORDER_UUIDS, list(ids))
    return {int(row["id"]): str(row["uuid"]) for row in rows}


def utc_seconds(moment: datetime) -> int:
    """Unix seconds of an aware datetime (the trades' ``created_at``)."""
    return int(moment.astimezone(UTC).timestamp())
