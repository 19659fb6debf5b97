"""Candles for every k-line period, counted from committed trades after the engine's commit.

The engine's commit path is untouched: a ``CandleWriter`` reads the ``trades`` table in id
order from where it stopped (``market_data_progress``) and upserts the candles of all
periods in the same transaction that moves its mark, so every committed trade is counted
exactly once — after a restart it simply continues from the mark. Trade ids grow with each
commit (one writer, batches commit in order), so ``id > mark`` never skips a trade.

Several processes may run a writer: the mark's row lock serializes their steps. A step is
woken by the bus's trade events (in the engine's process, at most one step per ``PACE_S``)
or by a short poll (elsewhere).
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import NoReturn

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.db.outage import OutageLog
from bursa.events.bus import TRADE, InProcessBus

log = logging.getLogger(__name__)

PERIODS = (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080)  # minutes, Peatio's
PROGRESS = "candles"
CHUNK = 5000  # trades per step
# Woken by trades, a step waits until this long after the previous one began: each step
# counts every trade committed so far, so a steady flow of trades (a batch every few
# milliseconds) costs a few steps a second instead of one per batch.
PACE_S = 0.1

_LOCK = text("SELECT last_trade_id FROM market_data_progress WHERE name = :name FOR UPDATE")

# Each trade of the chunk falls in one bucket per period (period starts aligned on the
# Unix epoch, as InfluxDB's GROUP BY time() does for Peatio); a bucket met again merges
# with what is there, open and close going to the earliest and latest trade.
_COUNT = text(
    """
WITH chunk AS (
    SELECT id, market_id, price, amount, total, created_at FROM trades
    WHERE id > :after ORDER BY id LIMIT :chunk
), binned AS (
    SELECT c.*, p.period,
           date_bin(make_interval(mins => p.period), c.created_at,
                    timestamptz '1970-01-01 00:00:00+00') AS time
    FROM chunk AS c CROSS JOIN unnest(CAST(:periods AS int[])) AS p(period)
), buckets AS (
    SELECT market_id, period, time,
           (array_agg(price ORDER BY id))[1] AS open, max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY id DESC))[1] AS close,
           sum(amount) AS amount, sum(total) AS total,
           min(id) AS first_trade_id, max(id) AS last_trade_id
    FROM binned GROUP BY market_id, period, time
), merged AS (
    INSERT INTO candles (market_id, period, time, open, high, low, close, amount, total,
                         first_trade_id, last_trade_id)
    SELECT * FROM buckets
    ON CONFLICT (market_id, period, time) DO UPDATE SET
        open = CASE WHEN EXCLUDED.first_trade_id < candles.first_trade_id
                    THEN EXCLUDED.open ELSE candles.open END,
        close = CASE WHEN EXCLUDED.last_trade_id > candles.last_trade_id
                     THEN EXCLUDED.close ELSE candles.close END,
        high = greatest(candles.high, EXCLUDED.high),
        low = least(candles.low, EXCLUDED.low),
        amount = candles.amount + EXCLUDED.amount,
        total = candles.total + EXCLUDED.total,
        first_trade_id = least(candles.first_trade_id, EXCLUDED.first_trade_id),
        last_trade_id = greatest(candles.last_trade_id, EXCLUDED.last_trade_id)
    RETURNING 1
)
SELECT count(*) AS trades, max(id) AS last_id,
       array_agg(DISTINCT market_id) AS markets,
       (SELECT count(*) FROM merged) AS candles
FROM chunk
"""
)

_MARK = text("UPDATE market_data_progress SET last_trade_id = :last WHERE name = :name")


class CandleWriter:
    """Counts committed trades into ``candles``; tells readers which markets changed.

    ``versions[market]`` grows whenever this writer changed the market's candles, and
    ``generation`` whenever it found that another process had counted trades (then any
    market may have changed): together they key the readers' caches.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: InProcessBus | None = None,
        *,
        poll_s: float = 1.0,
        pace_s: float = PACE_S,
        chunk: int = CHUNK,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.poll_s = poll_s
        self.pace_s = pace_s
        self.chunk = chunk
        self.versions: defaultdict[str, int] = defaultdict(int)
        self.generation = 0
        self.last_trade_id = 0
        self._step_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._outage = OutageLog("candle writer", log, meanwhile="candles catch up when it is back")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def step(self) -> int:
        """Count the next chunk of committed trades; returns how many were counted."""
        async with self._step_lock:
            async with self.sessions() as session, session.begin():
                after = (await session.execute(_LOCK, {"name": PROGRESS})).scalar_one()
                row = (
                    await session.execute(
                        _COUNT, {"after": after, "chunk": self.chunk, "periods": list(PERIODS)}
                    )
                ).one()
                if row.trades:
                    await session.execute(_MARK, {"last": row.last_id, "name": PROGRESS})
            if after != self.last_trade_id:
                self.generation += 1  # another writer counted trades since our last step
            for market in row.markets or ():
                self.versions[market] += 1
            self.last_trade_id = row.last_id if row.trades else after
            return int(row.trades)

    async def catch_up(self) -> int:
        """Count every trade committed so far; returns how many were counted."""
        counted = 0
        while True:
            done = await self.step()
            counted += done
            if done < self.chunk:
                return counted

    async def start(self) -> None:
        """Catch up with what was committed while nobody counted, then follow new trades."""
        await self.catch_up()
        self._task = asyncio.create_task(self._follow(), name="candles")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self) -> None:
        while True:
            if self.bus is None:
                await self._poll_forever()
            # Subscribe before catching up: a trade committed in between still wakes us.
            with self.bus.subscribe(TRADE, maxsize=10_000) as wakeups:
                began = -self.pace_s
                while not wakeups.overflowed:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.poll_s):
                            await wakeups.get()
                    rest = began + self.pace_s - asyncio.get_running_loop().time()
                    if rest > 0:
                        await asyncio.sleep(rest)
                    while not wakeups.queue.empty():
                        wakeups.queue.get_nowait()
                    began = asyncio.get_running_loop().time()
                    await self._catch_up_logged()

    async def _poll_forever(self) -> NoReturn:
        while True:
            await asyncio.sleep(self.poll_s)
            await self._catch_up_logged()

    async def _catch_up_logged(self) -> None:
        try:
            await self.catch_up()
        except Exception as exc:  # the database may be away for a while: try again later
            if not self._outage.failed(exc):
                log.exception("counting trades into candles failed; retrying")
            await asyncio.sleep(self.poll_s)
        else:
            self._outage.succeeded()
