"""``<market>.kline-<period>``: the current candle of a market, after each batch that moved it.

A ``Kline`` holds the candle of one market and period in engine integers. It is seeded
from the database when its first subscriber arrives — the stored candle of the bucket
holding the market's latest trade, plus the trades of that bucket the candle writer has
not counted yet, read in one statement (one snapshot) — and then follows the committed
trade events. Trade events that arrive while the seed is being read wait, and those the
seed already counted (trade id at most the seed's last one) are skipped, so every trade
is counted exactly once and the candle equals what the REST k-line will show for it.

Buckets start on the Unix epoch, as the candle writer's (and InfluxDB's for Peatio).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.engine.specs import MarketSpec
from bursa.engine.units import from_units, to_units
from bursa.formats import decimal_text
from bursa.trading.candles import PERIODS

# Peatio's period names, in minutes.
PERIOD_NAMES = dict(
    zip(
        ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "3d", "1w"),
        PERIODS,
        strict=True,
    )
)
KLINE = "kline-"

_SEED = text(
    """
WITH mark AS (
    SELECT coalesce((SELECT last_trade_id FROM market_data_progress WHERE name = 'candles'),
                    0) AS id
), latest AS (
    SELECT id, created_at FROM trades WHERE market_id = :market ORDER BY id DESC LIMIT 1
), bucket AS (
    SELECT date_bin(make_interval(mins => :period), created_at,
                    timestamptz '1970-01-01 00:00:00+00') AS start, id AS last_id
    FROM latest
), fresh AS (
    SELECT (array_agg(t.price ORDER BY t.id))[1] AS open, max(t.price) AS high,
           min(t.price) AS low, (array_agg(t.price ORDER BY t.id DESC))[1] AS close,
           sum(t.amount) AS amount
    FROM trades AS t, bucket AS b, mark AS m
    WHERE t.market_id = :market AND t.id > m.id AND t.id <= b.last_id
      AND t.created_at >= b.start
)
SELECT CAST(extract(epoch FROM b.start) AS bigint) AS time, b.last_id,
       c.open AS c_open, c.high AS c_high, c.low AS c_low, c.close AS c_close,
       c.amount AS c_amount, f.open, f.high, f.low, f.close, f.amount
FROM bucket AS b CROSS JOIN fresh AS f
LEFT JOIN candles AS c ON c.market_id = :market AND c.period = :period AND c.time = b.start
"""
)


def kline_period(kind: str) -> int | None:
    """Minutes of a ``kline-<period>`` stream kind; None for any other kind."""
    if not kind.startswith(KLINE):
        return None
    return PERIOD_NAMES.get(kind[len(KLINE) :])


@dataclass(slots=True)
class Bar:
    time: int  # bucket start, Unix seconds
    open: int  # price ticks
    high: int
    low: int
    close: int
    volume: int  # base amount units

    def add(self, price: int, volume: int) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += volume


class Kline:
    """The current candle of one market and period."""

    def __init__(self, spec: MarketSpec, minutes: int) -> None:
        self.spec = spec
        self.seconds = minutes * 60
        self.bar: Bar | None = None
        self.ready = False
        self.last_trade_id = 0
        self._waiting: list[dict[str, Any]] = []

    def add(self, trade: dict[str, Any]) -> bool:
        """Count a committed trade event; True when the current candle changed."""
        if not self.ready:
            self._waiting.append(trade)
            return False
        if trade["id"] <= self.last_trade_id:
            return False  # counted by the seed
        self.last_trade_id = trade["id"]
        moment = trade["created_at"] // 1_000_000
        start = moment - moment % self.seconds
        price, volume = trade["price"], trade["volume"]
        bar = self.bar
        if bar is None or start > bar.time:
            self.bar = Bar(start, price, price, price, price, volume)
        elif start == bar.time:
            bar.add(price, volume)
        else:
            return False  # an earlier bucket (a clock step back): not the current candle
        return True

    def seed(self, bar: Bar | None, last_trade_id: int) -> bool:
        """Start from what the database held; True when trades that waited moved it."""
        self.bar, self.last_trade_id, self.ready = bar, last_trade_id, True
        waiting, self._waiting = self._waiting, []
        changed = False
        for trade in waiting:
            changed = self.add(trade) or changed
        return changed

    def frame(self, stream: str) -> str | None:
        """``{"<stream>": [time, open, high, low, close, volume]}``, numbers written from
        exact decimals as the REST k-line writes them."""
        bar = self.bar
        if bar is None:
            return None
        p, a = self.spec.price_precision, self.spec.amount_precision
        values = ",".join(
            decimal_text(from_units(units, places))
            for units, places in (
                (bar.open, p),
                (bar.high, p),
                (bar.low, p),
                (bar.close, p),
                (bar.volume, a),
            )
        )
        return f'{{"{stream}":[{bar.time},{values}]}}'


async def read_seed(
    sessions: async_sessionmaker[AsyncSession], spec: MarketSpec, minutes: int
) -> tuple[Bar | None, int]:
    """The candle of the bucket holding the market's latest committed trade, and that
    trade's id (0 and no candle for a market without trades)."""
    async with sessions() as session:
        row = (await session.execute(_SEED, {"market": spec.id, "period": minutes})).one_or_none()
    if row is None:
        return None, 0
    p, a = spec.price_precision, spec.amount_precision
    units = to_units
    bar: Bar | None = None
    if row.c_open is not None:
        bar = Bar(
            row.time,
            units(row.c_open, p),
            units(row.c_high, p),
            units(row.c_low, p),
            units(row.c_close, p),
            units(row.c_amount, a),
        )
    if row.open is not None:  # trades the candle writer has not counted yet (later ids)
        fresh = Bar(
            row.time,
            units(row.open, p),
            units(row.high, p),
            units(row.low, p),
            units(row.close, p),
            units(row.amount, a),
        )
        if bar is None:
            bar = fresh
        else:
            bar.high = max(bar.high, fresh.high)
            bar.low = min(bar.low, fresh.low)
            bar.close = fresh.close
            bar.volume += fresh.volume
    return bar, int(row.last_id)
