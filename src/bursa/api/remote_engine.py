"""The engine as an API process without one sees it (``bursa api``): an ``EngineView``
whose commands go over RabbitMQ and whose state is read from PostgreSQL.

``submit`` publishes the command (``bursa.engine.amqp.EngineClient``) and awaits the
engine's answer, sent after the batch holding it committed. Nothing is sent while no
engine consumes the queue or RabbitMQ is unreachable: ``EngineStopped``, answered 503
``server.engine_unavailable`` as next to a stopped engine. A command sent but not answered
within the timeout is answered 503 ``server.engine_timeout``: its outcome is unknown (the
engine drops it unapplied if it gets it only after the deadline), and a client that
retries with the same ``Idempotency-Key`` — the command's own key — gets the first result
if it was applied, so it is applied once.

Specs (markets, currencies) are read from the database, again whenever those tables
change (checked every ``watch_s``) and at once after a configuration command through this
process. Committed books are read from the ``orders`` table together with the engine's
last committed sequence (one snapshot of the database, so exact at that sequence), and
read again when a relayed batch (``bursa.events.fanout``) changed the market's book.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

import aio_pika
import asyncpg

from bursa.engine.amqp import COMMAND_QUEUE, EngineClient
from bursa.engine.commands import BUY, Command
from bursa.engine.core import Engine
from bursa.engine.persistence import to_micros
from bursa.engine.runner import EngineStopped
from bursa.engine.snapshots import LEVELS, ORDERS, BookSnapshot, RestingOrder
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.units import to_units
from bursa.errors import BursaError, Refusal
from bursa.events.bus import BOOK, Event, InProcessBus
from bursa.events.fanout import EventFeed
from bursa.metrics.api import ENGINE_CLIENT_TIMEOUTS
from bursa.trading.specs import FEE_PLACES, load_specs

log = logging.getLogger(__name__)

ENGINE_TIMEOUT = "server.engine_timeout"
DEFAULT_TIMEOUT_S = 5.0
CONFIGURATION_KINDS = frozenset({"configure_currency", "configure_market"})

_SEQ = "SELECT coalesce(max(seq), 0) FROM engine_commands"
_LEVELS = """
SELECT side, price, sum(volume) AS volume FROM orders
WHERE market_id = $1 AND state = 'wait' AND price IS NOT NULL
GROUP BY side, price
"""
# The best resting orders of each side: best price first, oldest first within a price.
_ORDERS = """
SELECT * FROM (
    SELECT o.*, row_number() OVER (
        PARTITION BY side ORDER BY CASE WHEN side = 'buy' THEN -price ELSE price END, id
    ) AS rank
    FROM orders AS o WHERE market_id = $1 AND state = 'wait' AND price IS NOT NULL
) AS ranked WHERE rank <= $2 ORDER BY side, rank
"""
_SPECS_VERSION = """
SELECT (SELECT count(*) FROM currencies), (SELECT max(updated_at) FROM currencies),
       (SELECT count(*) FROM markets), (SELECT max(updated_at) FROM markets)
"""


class EngineUnreachable(EngineStopped):
    """No engine can be asked now (RabbitMQ unreachable, or no engine consumes the
    command queue): nothing was sent."""


def _resting(row: asyncpg.Record, spec: MarketSpec) -> RestingOrder:
    base, quote = spec.base.precision, spec.quote.precision
    buy = row["side"] == BUY
    locked, received = (quote, base) if buy else (base, quote)
    amount = spec.amount_precision
    return RestingOrder(
        id=row["id"],
        market=row["market_id"],
        side=row["side"],
        ord_type=row["ord_type"],
        state=row["state"],
        price=to_units(row["price"], spec.price_precision),
        origin_volume=to_units(row["origin_volume"], amount),
        volume=to_units(row["volume"], amount),
        origin_locked=to_units(row["origin_locked"], locked),
        locked=to_units(row["locked"], locked),
        funds_received=to_units(row["funds_received"], received),
        maker_fee=to_units(row["maker_fee"], FEE_PLACES),
        taker_fee=to_units(row["taker_fee"], FEE_PLACES),
        trades_count=row["trades_count"],
        created_at=to_micros(row["created_at"]),
        updated_at=to_micros(row["updated_at"]),
    )


async def read_book(conn: asyncpg.Connection, spec: MarketSpec) -> BookSnapshot:
    """``spec``'s book as committed, at the sequence it is exact at (one snapshot)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        seq: int = await conn.fetchval(_SEQ)
        levels = await conn.fetch(_LEVELS, spec.id)
        orders = await conn.fetch(_ORDERS, spec.id, ORDERS)
    asks: list[tuple[int, int]] = []
    bids: list[tuple[int, int]] = []
    for row in levels:
        level = (
            to_units(row["price"], spec.price_precision),
            to_units(row["volume"], spec.amount_precision),
        )
        (bids if row["side"] == BUY else asks).append(level)
    asks.sort()
    bids.sort(reverse=True)
    resting = [_resting(row, spec) for row in orders]
    return BookSnapshot(
        spec,
        seq,
        tuple(asks[:LEVELS]),
        tuple(bids[:LEVELS]),
        tuple(o for o in resting if o.side != BUY),
        tuple(o for o in resting if o.side == BUY),
    )


class RemoteEngine:
    """An ``EngineView`` over RabbitMQ and PostgreSQL (see the module's docstring).

    ``bus`` carries the batches relayed from the engine (an ``EventFeed`` publishes them
    there; given ``feed``, a gap it found makes every book be read again)."""

    def __init__(
        self,
        database_url: str,
        amqp_url: str,
        bus: InProcessBus,
        *,
        feed: EventFeed | None = None,
        queue: str = COMMAND_QUEUE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        watch_s: float = 1.0,
        book_pause_s: float = 0.05,
    ) -> None:
        self.database_url = database_url
        self.client = EngineClient(amqp_url, queue=queue)
        self.feed = feed
        self.timeout_s = timeout_s
        self.watch_s = watch_s
        self.book_pause_s = book_pause_s
        self.timeouts = 0
        self._engine = Engine([], [])
        self._specs_version: tuple[Any, ...] | None = None
        self._books: dict[str, BookSnapshot] = {}
        self._relayed_seq = 0
        self._engines = 0  # consumers of the command queue at the last look
        self._reachable = False
        self._resets = 0
        self._stale: set[str] = set()
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._tasks: list[asyncio.Task[None]] = []
        bus.tap(self._on_batch)

    # ------------------------------------------------------------------ EngineView

    @property
    def engine(self) -> Engine:
        """The configured markets and currencies (its books and balances are empty: the
        committed books are ``committed_book(s)``)."""
        return self._engine

    @property
    def committed_seq(self) -> int:
        return max(self._relayed_seq, *(b.seq for b in self._books.values()), 0)

    @property
    def running(self) -> bool:
        """An engine consumed the command queue at the last look, and RabbitMQ is up."""
        return self._reachable and self._engines > 0 and self.client.connected

    def committed_book(self, market: str) -> tuple[BookSnapshot, int] | None:
        snapshot = self._books.get(market)
        return None if snapshot is None else (snapshot, snapshot.seq)

    def committed_books(self) -> list[BookSnapshot]:
        """Every market's committed book, in the order markets were configured."""
        books = self._books
        return [books[m] for m in self._engine.markets if m in books]

    async def submit(self, command: Command, *, facts: bool = False) -> dict[str, Any]:
        if not self.running:
            raise EngineUnreachable("no engine consumes the command queue")
        try:
            async with asyncio.timeout(self.timeout_s):
                future = await self.client.send(command, facts=facts, ttl_s=self.timeout_s)
                result = await future
        except TimeoutError:
            self.timeouts += 1
            ENGINE_CLIENT_TIMEOUTS.inc()
            log.warning("engine did not answer %s within %.1f s", command.kind, self.timeout_s)
            raise BursaError(
                Refusal.UNAVAILABLE,
                ENGINE_TIMEOUT,
                message="the engine did not answer in time; retry with the same key",
                retry_after=1,
            ) from None
        except (
            aio_pika.exceptions.AMQPError,
            aio_pika.exceptions.ChannelInvalidStateError,  # closed under it: not an AMQPError
            ConnectionError,
        ) as exc:
            self._reachable = False
            raise EngineUnreachable(f"RabbitMQ: {exc}") from exc
        if command.kind in CONFIGURATION_KINDS and result.get("error") is None:
            await self.reload_specs()  # this process's next request sees the change
        return result

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=3)
        await self.reload_specs()
        await self._read_books(list(self._engine.markets))
        await self.client.start()
        await self._look_for_engines()
        self._tasks = [
            asyncio.create_task(self._watch(), name="remote-engine-watch"),
            asyncio.create_task(self._follow_books(), name="remote-engine-books"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.client.stop()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def reload_specs(self) -> None:
        """Markets and currencies from the database; a new market's book is read too."""
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            version = tuple(await conn.fetchrow(_SPECS_VERSION))
            currencies, markets = await load_specs(conn)
        self._specs_version = version
        self._use_specs(currencies, markets)

    def _use_specs(self, currencies: list[CurrencySpec], markets: list[MarketSpec]) -> None:
        self._engine = Engine(currencies, markets)
        for spec in markets:
            book = self._books.get(spec.id)
            if book is None:
                self._books[spec.id] = BookSnapshot(spec, 0, (), (), (), ())
                self._mark_stale([spec.id])
            elif book.spec != spec:
                self._books[spec.id] = BookSnapshot(
                    spec, book.seq, book.asks, book.bids, book.ask_orders, book.bid_orders
                )

    # ------------------------------------------------------------------ following

    def _on_batch(self, events: list[Event]) -> None:
        """A relayed batch: the books it changed are read again (all, after a gap)."""
        if events:
            self._relayed_seq = max(self._relayed_seq, events[-1].seq)
        if self.feed is not None and self.feed.resets != self._resets:
            self._resets = self.feed.resets
            self._mark_stale(self._engine.markets)
        self._mark_stale(e.data["market"] for e in events if e.topic == BOOK)

    def _mark_stale(self, markets: Iterable[str]) -> None:
        before = len(self._stale)
        self._stale.update(markets)
        if len(self._stale) != before:
            self._wake.set()

    async def _follow_books(self) -> None:
        """Read the stale books again: at most one read per ``book_pause_s``, each
        covering every batch committed before it began. While the database is away the
        books stay as they were (one log line when that starts, one when it ends)."""
        failing = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            stale, self._stale = self._stale, set()  # before reading: none is missed
            try:
                await self._read_books(stale)
            except Exception as exc:
                if not failing:
                    log.warning("cannot read the committed books (retrying): %s", exc)
                failing = True
                self._mark_stale(stale)
                await asyncio.sleep(1.0)
                continue
            if failing:
                log.info("committed books are read again")
                failing = False
            await asyncio.sleep(self.book_pause_s)

    async def _read_books(self, markets: Iterable[str]) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            for market in markets:
                spec = self._engine.markets.get(market)
                if spec is not None:
                    self._books[market] = await read_book(conn, spec)

    async def _watch(self) -> None:
        """Every ``watch_s``: is an engine consuming, and did the specs change?"""
        while True:
            await asyncio.sleep(self.watch_s)
            await self._look_for_engines()
            try:
                assert self._pool is not None
                version = tuple(await self._pool.fetchrow(_SPECS_VERSION))
                if version != self._specs_version:
                    await self.reload_specs()
            except Exception as exc:  # the database away: the books' reader says so
                log.debug("could not check the specs: %s", exc)

    async def _look_for_engines(self) -> None:
        was = self.running
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(self.watch_s, 1.0)):
                self._engines = await self.client.engines()
            self._reachable = True
        except Exception:  # RabbitMQ away, or a channel being restored: not reachable now
            self._reachable = False
        if self.running != was:
            if self.running:
                log.info("an engine consumes the command queue: commands are sent")
            else:
                log.warning(
                    "no engine consumes the command queue (or RabbitMQ is unreachable):"
                    " commands are refused with 503 until one does (%.1f s check)",
                    time.monotonic() - started,
                )
