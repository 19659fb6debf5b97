"""The engine process: an inbox, batches, one commit per batch, results after the commit.

Commands wait in the inbox; the loop takes up to ``max_batch`` of them, applies them to
the in-memory ``Engine``, writes all their effects in one PostgreSQL transaction, and
only then answers the callers and publishes the results on the bus. While a batch
commits, the next one gathers, so a slower disk means bigger batches, not more waiting.

If a commit fails, memory is ahead of the database: the runner stops (every waiting caller
gets ``EngineStopped``) and must be restarted, which recovers from what was committed.
Only one runner is active: it holds a PostgreSQL advisory lock; a second one waits.

Readers never look at the live books: after each commit the runner publishes, with
``committed_seq``, a snapshot of every book the batch changed (``bursa.engine.snapshots``),
taken when memory held exactly what that batch committed.
"""

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bursa.engine.answers import Facts, answer, order_facts
from bursa.engine.commands import BUY, Command
from bursa.engine.core import ORDER as ORDER_POSTING
from bursa.engine.core import Engine
from bursa.engine.memory import GcPolicy
from bursa.engine.persistence import (
    ADVISORY_LOCK_KEY,
    BatchRows,
    BatchWriter,
    load_engine,
    now_micros,
)
from bursa.engine.snapshots import BookSnapshot, take
from bursa.engine.specs import LIABILITY_LOCKED, CurrencySpec, MarketSpec
from bursa.events.bus import BALANCE, BOOK, ORDER, TRADE, Event, InProcessBus

log = logging.getLogger(__name__)

LOCKED_CODES = frozenset(LIABILITY_LOCKED.values())

SpecsLoader = Callable[[asyncpg.Connection], Awaitable[tuple[list[CurrencySpec], list[MarketSpec]]]]


class EngineStopped(RuntimeError):
    """The engine is not running (stopped, or halted after a failed commit)."""


class EngineRunner:
    def __init__(
        self,
        database_url: str,
        bus: InProcessBus,
        load_specs: SpecsLoader,
        *,
        max_batch: int = 5000,
        batch_wait_ms: float = 0.0,
        idempotency_window_hours: int = 24,
        lock_wait_log_s: float = 5.0,
    ) -> None:
        self.database_url = database_url
        self.bus = bus
        self.load_specs = load_specs
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_ms / 1000
        self.idempotency_window_us = idempotency_window_hours * 3_600_000_000
        self.lock_wait_log_s = lock_wait_log_s
        self.committed_seq = 0
        self.batches = 0
        self._inbox: list[tuple[Command, asyncio.Future[dict[str, Any]]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock_conn: asyncpg.Connection | None = None
        self._conn: asyncpg.Connection | None = None
        self._engine: Engine | None = None
        self._writer: BatchWriter | None = None
        self._keys: deque[tuple[int, str]] = deque()
        self._gc = GcPolicy()
        self._books: dict[str, BookSnapshot] = {}
        self._with_facts: weakref.WeakSet[asyncio.Future[dict[str, Any]]] = weakref.WeakSet()
        self.failure: BaseException | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise EngineStopped("engine not started")
        return self._engine

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def committed_book(self, market: str) -> tuple[BookSnapshot, int] | None:
        """The book of ``market`` as committed, and the sequence it is exact at (the last
        committed one: a book no batch since has changed is still that book)."""
        snapshot = self._books.get(market)
        return None if snapshot is None else (snapshot, self.committed_seq)

    def committed_books(self) -> list[BookSnapshot]:
        """Every market's committed book, in the order markets were configured."""
        return list(self._books.values())

    async def start(self) -> None:
        """Take the single-engine lock (waiting for it), recover, and start the loop."""
        self._lock_conn = await asyncpg.connect(self.database_url)
        waited = 0.0
        while not await self._lock_conn.fetchval(
            "SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY
        ):
            if waited % self.lock_wait_log_s == 0:
                log.info("another engine is active; standing by until its lock is free")
            await asyncio.sleep(0.5)
            waited += 0.5
        self._conn = await asyncpg.connect(self.database_url)
        currencies, markets = await self.load_specs(self._conn)
        self._engine = await load_engine(self._conn, currencies, markets)
        # The batch statement touches a few rows of large tables by primary key; with
        # stale statistics the planner may hash a whole table instead, which makes every
        # small batch slower as the tables grow. Only this connection runs that statement.
        await self._conn.execute("SET enable_hashjoin = off; SET enable_mergejoin = off")
        # The writer sees the engine's own dictionaries, so configured markets reach it too.
        self._writer = BatchWriter(self._engine.currencies, self._engine.markets)
        self.committed_seq = self._engine.seq
        self._books = {m: take(book, self.committed_seq) for m, book in self._engine.books.items()}
        now = now_micros()
        self._keys.extend((now, key) for key in self._engine.results)
        self._gc.start()
        self._task = asyncio.create_task(self._run(), name="engine-batches")
        log.info(
            "engine started at seq %d with %d open orders",
            self.committed_seq,
            len(self._engine.open_orders),
        )

    async def stop(self) -> None:
        """Finish the batch in flight, then stop; queued commands get ``EngineStopped``.
        A halted engine stops too, releasing its lock (its error stays in ``failure``)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, EngineStopped):
                try:
                    await self._task
                except Exception:
                    if self.failure is None:  # else: the halt, already recorded
                        raise
            self._task = None
        self._fail_waiting(EngineStopped("engine stopped"))
        for conn in (self._conn, self._lock_conn):
            if conn is not None and not conn.is_closed():
                await conn.close()
        self._conn = self._lock_conn = None

    async def submit(self, command: Command, *, facts: bool = False) -> dict[str, Any]:
        """Apply ``command``; answers with the result as committed (an error code or the
        order / account it concerns). A repeated idempotency key answers the first result.
        With ``facts``, the first answer's order also carries what the orders table holds
        once the batch committed (``bursa.engine.answers``), beyond what the log keeps."""
        future = self.offer(command)
        if facts:
            self._with_facts.add(future)
        return await future

    def offer(self, command: Command) -> "asyncio.Future[dict[str, Any]]":
        """Queue ``command`` and return the future of its committed result."""
        if not self.running:
            raise EngineStopped(f"engine not running: {self.failure or 'stopped'}")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._inbox.append((command, future))
        self._wakeup.set()
        return future

    async def _run(self) -> None:
        """Apply batch N+1 while batch N commits; answer each batch after its own commit."""
        in_flight: asyncio.Task[None] | None = None
        try:
            while True:
                if not self._inbox:
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                        continue
                    await self._wakeup.wait()
                    self._wakeup.clear()
                    if self.batch_wait_s and len(self._inbox) < self.max_batch:
                        await asyncio.sleep(self.batch_wait_s)
                    continue
                prepared = self._apply_batch()
                if in_flight is not None:
                    await in_flight
                in_flight = asyncio.create_task(self._commit(*prepared))
                await asyncio.sleep(0)  # let the commit start before the next batch applies
        except asyncio.CancelledError:
            if in_flight is not None:
                await asyncio.shield(in_flight)
            raise
        except BaseException as exc:
            self.failure = exc
            log.exception("engine halted: a batch could not be committed; restart to recover")
            self._fail_waiting(EngineStopped(f"engine halted: {exc}"))
            raise

    def _apply_batch(
        self,
    ) -> tuple[list[Any], list[Any], BatchRows, list[Event], dict[str, BookSnapshot]]:
        engine, writer = self.engine, self._writer
        assert writer is not None
        batch = self._inbox[: self.max_batch]
        del self._inbox[: self.max_batch]
        persisted_below = engine.next_order_id
        ts = now_micros()
        self._forget_old_keys(ts)
        apply = engine.apply
        results = [apply(command, ts) for command, _ in batch]
        journal = engine.end_batch()
        # Read before ``rows`` freezes the results (which drops their live orders).
        facts: list[Facts | None] = [None] * len(results)
        if self._with_facts:
            wanting = self._with_facts
            asked = [r if f in wanting else None for r, (_, f) in zip(results, batch, strict=True)]
            facts = order_facts(asked, journal, engine.books)
        answered = list(zip(results, facts, strict=True))
        for _, command, _, _ in journal.commands:
            self._keys.append((ts, command.key))
        rows = writer.rows(journal, persisted_below)
        # Every change to a book changes an order, so the batch's orders name its books.
        books = engine.books
        seq = rows.last_seq
        changed = {o.market for o in journal.orders.values()} | journal.markets.keys()
        snapshots = {market: take(books[market], seq) for market in changed}
        return batch, answered, rows, self._events(rows), snapshots

    async def _commit(
        self,
        batch: list[Any],
        results: list[Any],
        rows: BatchRows,
        events: list[Event],
        snapshots: dict[str, BookSnapshot],
    ) -> None:
        writer, conn = self._writer, self._conn
        assert writer is not None
        assert conn is not None
        try:
            await writer.write(conn, rows)
        except BaseException:
            for _, future in batch:
                if not future.done():
                    future.set_exception(EngineStopped("batch not committed"))
            raise
        # The sequence and the books move together, with no await in between.
        if rows.last_seq:
            self.committed_seq = rows.last_seq
        self._books.update(snapshots)
        self.batches += 1
        with_facts = self._with_facts
        for (_, future), (result, facts) in zip(batch, results, strict=True):
            if not future.done():
                snapshot = result.freeze()
                future.set_result(answer(snapshot, facts) if future in with_facts else snapshot)
        if events:
            self.bus.publish(events)
        self._gc.after_batch()

    def _forget_old_keys(self, now: int) -> None:
        """Before a batch at ``now``: keys older than the window become new again. Replay
        applies the same rule (``replay.replay_log``), so both agree on every repeat."""
        horizon = now - self.idempotency_window_us
        keys, results = self._keys, self.engine.results
        while keys and keys[0][0] < horizon:
            results.pop(keys.popleft()[1], None)

    def _fail_waiting(self, exc: BaseException) -> None:
        inbox, self._inbox = self._inbox, []
        for _, future in inbox:
            if not future.done():
                future.set_exception(exc)

    def _events(self, rows: BatchRows) -> list[Event]:
        """Order updates, trades, balance changes and book changes of a batch."""
        journal = rows.journal
        if journal is None or not journal.commands:
            return []
        seq = rows.last_seq
        events: list[Event] = []
        touched_levels: dict[str, set[tuple[str, int]]] = {}
        # What an order closed in this batch still held and got back: with it a buy's
        # average price stays known once its lock is released (``origin_locked - locked``
        # no longer tells what it spent).
        released: dict[int, int] = {}
        for _, code, _, _, kind, ref, debit, _, _ in journal.postings:
            if kind == ORDER_POSTING and debit and code in LOCKED_CODES and isinstance(ref, int):
                released[ref] = released.get(ref, 0) + debit
        for order in journal.orders.values():
            data = {"member_id": order.member_id, **order.view()}
            # What a client's order shows beyond the log's view (Ranger's ``order`` stream).
            data["origin_locked"] = order.origin_locked
            data["released"] = released.get(order.id, 0)
            data["created_at"] = order.created_at
            data["updated_at"] = order.updated_at
            events.append(Event(ORDER, seq, data))
            if order.price:
                touched_levels.setdefault(order.market, set()).add((order.side, order.price))
        for trade in journal.trades:
            events.append(
                Event(
                    TRADE,
                    seq,
                    {
                        "id": trade.id,
                        "market": trade.market,
                        "price": trade.price,
                        "volume": trade.volume,
                        "total": trade.total,
                        "maker_order_id": trade.maker_order_id,
                        "taker_order_id": trade.taker_order_id,
                        "maker_id": trade.maker_id,
                        "taker_id": trade.taker_id,
                        "taker_type": trade.taker_side,
                        "created_at": trade.created_at,
                    },
                )
            )
        for account in journal.accounts:
            events.append(
                Event(
                    BALANCE,
                    seq,
                    {
                        "member_id": account.member_id,
                        "currency": account.currency,
                        "balance": account.balance,
                        "locked": account.locked,
                    },
                )
            )
        for market, levels in touched_levels.items():
            book = self.engine.books[market]
            changes = []
            for side, price in sorted(levels):
                book_side = book.bids if side == BUY else book.asks
                level = book_side.levels.get(price)
                changes.append([side, price, level.volume if level is not None else 0])
            events.append(Event(BOOK, seq, {"market": market, "levels": changes}))
        return events
