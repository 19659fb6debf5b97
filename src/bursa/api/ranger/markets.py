"""Where the ranger hub learns markets, currencies and books as committed.

Next to the engine (``LocalMarkets``) the runner's committed snapshots answer at once. In
an API process fed over RabbitMQ (``StoredMarkets``) the engine is elsewhere: specs are
read from the database, and a book from the ``orders`` table together with the engine's
last committed sequence, in one statement (one snapshot of the database). The engine
writes a batch's orders and its commands in one transaction, and rebuilds its own books
from the same rows after a restart, so that book is exactly the committed book at that
sequence: the hub continues it with the relayed ``book`` events of later sequences.
"""

import asyncio
import contextlib
import logging
import time
from typing import Protocol

import asyncpg

from bursa.api.deps import EngineView
from bursa.engine.commands import BUY
from bursa.engine.snapshots import BookSnapshot
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.units import to_units
from bursa.trading.specs import load_specs

log = logging.getLogger(__name__)

Committed = tuple[BookSnapshot, int]  # a book, and the sequence it is exact at

_BOOK = """
WITH levels AS (
    SELECT side, price, sum(volume) AS volume FROM orders
    WHERE market_id = $1 AND state = 'wait' AND price IS NOT NULL
    GROUP BY side, price
)
SELECT (SELECT coalesce(max(seq), 0) FROM engine_commands) AS seq, l.side, l.price, l.volume
FROM (SELECT 1) AS one LEFT JOIN levels AS l ON true
"""
REFRESH_S = 5.0  # at most one reload of the specs this often, on an unknown market


class Markets(Protocol):
    def spec(self, market: str) -> MarketSpec | None: ...

    def specs(self) -> list[MarketSpec]: ...

    def currency(self, code: str) -> CurrencySpec | None: ...

    def book_now(self, market: str) -> Committed | None:
        """The committed book if this process holds it, else None (see ``load_book``)."""
        ...

    async def load_book(self, market: str) -> Committed | None:
        """The committed book, from wherever it is kept; None for an unknown market."""
        ...


class LocalMarkets:
    """The engine runner of this process (none: no markets, for a hub driven by hand)."""

    def __init__(self, runner: EngineView | None) -> None:
        self.runner = runner

    def spec(self, market: str) -> MarketSpec | None:
        committed = self.book_now(market)
        return None if committed is None else committed[0].spec

    def specs(self) -> list[MarketSpec]:
        return [] if self.runner is None else [b.spec for b in self.runner.committed_books()]

    def currency(self, code: str) -> CurrencySpec | None:
        return None if self.runner is None else self.runner.engine.currencies.get(code)

    def book_now(self, market: str) -> Committed | None:
        return None if self.runner is None else self.runner.committed_book(market)

    async def load_book(self, market: str) -> Committed | None:
        return self.book_now(market)


class StoredMarkets:
    """The database, for a process whose engine runs elsewhere."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._markets: dict[str, MarketSpec] = {}
        self._currencies: dict[str, CurrencySpec] = {}
        self._pool: asyncpg.Pool | None = None
        self._refreshed = 0.0
        self._refresh: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=2)
        await self.reload()

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def reload(self) -> None:
        assert self._pool is not None
        self._refreshed = time.monotonic()
        async with self._pool.acquire() as conn:
            currencies, markets = await load_specs(conn)
        self._currencies = {c.code: c for c in currencies}
        self._markets = {m.id: m for m in markets}

    async def committed_seq(self) -> int:
        assert self._pool is not None
        seq: int = await self._pool.fetchval("SELECT coalesce(max(seq), 0) FROM engine_commands")
        return seq

    def _missing(self) -> None:
        """A market or currency configured since the last reload: read them again soon."""
        if self._refresh is not None and not self._refresh.done():
            return
        if time.monotonic() - self._refreshed < REFRESH_S:
            return
        self._refresh = asyncio.create_task(self.reload(), name="ranger-specs")

    def spec(self, market: str) -> MarketSpec | None:
        found = self._markets.get(market)
        if found is None:
            self._missing()
        return found

    def specs(self) -> list[MarketSpec]:
        return list(self._markets.values())

    def currency(self, code: str) -> CurrencySpec | None:
        found = self._currencies.get(code)
        if found is None:
            self._missing()
        return found

    def book_now(self, market: str) -> Committed | None:
        return None

    async def load_book(self, market: str) -> Committed | None:
        spec = self.spec(market)
        if spec is None or self._pool is None:
            return None
        rows = await self._pool.fetch(_BOOK, market)
        seq = rows[0]["seq"]
        asks: list[tuple[int, int]] = []
        bids: list[tuple[int, int]] = []
        for row in rows:
            if row["side"] is None:
                continue
            level = (
                to_units(row["price"], spec.price_precision),
                to_units(row["volume"], spec.amount_precision),
            )
            (bids if row["side"] == BUY else asks).append(level)
        asks.sort()
        bids.sort(reverse=True)
        return BookSnapshot(spec, seq, tuple(asks), tuple(bids), (), ()), seq
