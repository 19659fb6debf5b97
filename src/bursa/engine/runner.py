"""The engine process: an inbox, batches, one commit per batch, results after the commit.

Commands wait in the inbox; the loop takes up to ``max_batch`` of them, applies them to
the in-memory ``Engine``, writes all their effects in one PostgreSQL transaction, and
only then answers the callers and publishes the results on the bus. While a batch
commits, the next one gathers, so a slower disk means bigger batches, not more waiting.

If a commit fails, memory is ahead of the database: the runner stops (every waiting caller
gets ``EngineStopped``) and must be restarted, which recovers from what was committed.
Only one runner is active: it holds a PostgreSQL advisory lock; a second one waits.
If the database goes away instead (a connection breaks, the server restarts), the runner
stands down (waiting callers get ``EngineStopped``), and once the database answers again
it takes the lock again (if no standby took it), reloads what was committed and resumes by
itself: a batch whose commit was cut off is in the reloaded state exactly if it committed.

Readers never look at the live books: after each commit the runner publishes, with
``committed_seq``, a snapshot of every book the batch changed (``bursa.engine.snapshots``),
taken when memory held exactly what that batch committed.
"""

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

import asyncpg

from bursa.db.outage import describe, is_database_unavailable, raise_if_closed
from bursa.engine.answers import OrderFacts, answer, order_facts
from bursa.engine.commands import BUY, COMMAND_KINDS, Command
from bursa.engine.core import ORDER as ORDER_POSTING
from bursa.engine.core import Engine
from bursa.engine.memory import GcPolicy
from bursa.engine.persistence import (
    ADVISORY_LOCK_KEY,
    BatchRows,
    BatchWriter,
    load_engine,
    now_micros,
    prepare_connection,
)
from bursa.engine.snapshots import BookSnapshot, take
from bursa.engine.specs import LIABILITY_LOCKED, CurrencySpec, MarketSpec
from bursa.events.bus import BALANCE, BOOK, ORDER, TRADE, Event, InProcessBus
from bursa.metrics import engine as engine_metrics
from bursa.metrics.engine import DUPLICATE

log = logging.getLogger(__name__)

LOCKED_CODES = frozenset(LIABILITY_LOCKED.values())
# A journal's command entry (seq, command, result, ts), read in bulk for the metrics.
_COMMAND, _RESULT, _ERROR = itemgetter(1), itemgetter(2), attrgetter("error")
RECOVERY_FIRST_S = 0.25  # between tries while the database is away, doubled up to:
RECOVERY_MAX_S = 2.0

SpecsLoader = Callable[[asyncpg.Connection], Awaitable[tuple[list[CurrencySpec], list[MarketSpec]]]]


ANSWER_SLICE = 1000  # callers answered between two turns of the event loop


@dataclass(slots=True)
class _Prepared:
    """A batch applied and ready to commit: its callers, their results, its rows and the
    documents the statement sends, its events and its books' snapshots."""

    batch: list[tuple[Command, "asyncio.Future[dict[str, Any]]"]]
    results: list[tuple[Any, OrderFacts | None]]
    rows: BatchRows
    documents: tuple[Any, ...]  # the statement's parameters
    events: list[Event]
    snapshots: dict[str, BookSnapshot]
    offered: list[float]
    started: float = 0.0
    committed: float = 0.0
    answered: int = 0  # callers answered so far
    recorded: bool = False


class EngineStopped(RuntimeError):
    """The engine is not running (stopped, halted after a failed commit, or recovering
    from a lost database)."""


class _DatabaseLost(Exception):
    """A connection of the runner broke: stand down, then recover."""


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
        self._offered_at: list[float] = []  # when each command of the inbox came
        self._counters = engine_metrics.command_counters(COMMAND_KINDS)
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
        self._serving = False  # holds the lock, its state loaded: takes commands
        self._lost = False  # one of its connections broke
        self.failure: BaseException | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise EngineStopped("engine not started")
        return self._engine

    @property
    def running(self) -> bool:
        """Takes commands: holds the lock with its state loaded (not while it recovers
        from a lost database)."""
        return self._serving and not self.finished

    @property
    def finished(self) -> bool:
        """Stopped or halted: takes no command until started again. A runner recovering
        from a lost database is not finished: it resumes by itself."""
        return self._task is None or self._task.done()

    @property
    def queued(self) -> int:
        """Commands waiting in the inbox."""
        return len(self._inbox)

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
        engine_metrics.watch(self)  # standing by shows too: bursa_engine_active 0
        await self._take_over()
        self._task = asyncio.create_task(self._supervise(), name="engine-batches")
        log.info(
            "engine started at seq %d with %d open orders",
            self.committed_seq,
            len(self.engine.open_orders),
        )

    async def _take_over(self) -> None:
        """Wait for the lock, then load the state as committed; on a failure, whatever
        was opened is closed again."""
        self._lost = False
        try:
            self._lock_conn = await asyncpg.connect(self.database_url)
            self._lock_conn.add_termination_listener(self._on_connection_lost)
            waited = 0.0
            while not await self._lock_conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY
            ):
                if waited % self.lock_wait_log_s == 0:
                    log.info("another engine is active; standing by until its lock is free")
                await asyncio.sleep(0.5)
                waited += 0.5
            self._conn = conn = await asyncpg.connect(self.database_url)
            conn.add_termination_listener(self._on_connection_lost)
            currencies, markets = await self.load_specs(conn)
            engine = await load_engine(conn, currencies, markets)
            await prepare_connection(conn)  # only this connection runs the batch statement
        except Exception as exc:
            try:
                raise_if_closed(exc, self._conn, self._lock_conn)
                raise
            finally:
                self._drop_connections()
        except BaseException:
            self._drop_connections()
            raise
        self._engine = engine
        # The writer sees the engine's own dictionaries, so configured markets reach it too.
        self._writer = BatchWriter(engine.currencies, engine.markets)
        self.committed_seq = engine.seq
        self._books = {m: take(book, self.committed_seq) for m, book in engine.books.items()}
        now = now_micros()
        self._keys.clear()
        self._keys.extend((now, key) for key in engine.results)
        self._gc.start()
        self._serving = True

    def _on_connection_lost(self, conn: asyncpg.Connection) -> None:
        """asyncpg's termination listener: the loop wakes up and stands down."""
        if conn is self._conn or conn is self._lock_conn:
            self._lost = True
            self._wakeup.set()

    def _drop_connections(self) -> None:
        """Abort this runner's connections at once (the lock ends with its session)."""
        conns = (self._conn, self._lock_conn)
        self._conn = self._lock_conn = None
        for conn in conns:
            if conn is not None and not conn.is_closed():
                conn.terminate()

    async def _supervise(self) -> None:
        """Run batches; whenever the database goes away, stand down and recover."""
        while True:
            try:
                await self._run()
            except _DatabaseLost as lost:
                lost_at = time.monotonic()
                self._stand_down(lost.__cause__ or lost)
                await self._recover()
                log.warning(
                    "engine resumed at seq %d with %d open orders, %.1f s after it lost"
                    " its database",
                    self.committed_seq,
                    len(self.engine.open_orders),
                    time.monotonic() - lost_at,
                )

    def _stand_down(self, cause: BaseException) -> None:
        self._serving = False
        self._drop_connections()
        self._fail_waiting(EngineStopped("engine lost its database; it resumes once it is back"))
        log.warning(
            "engine lost its database (%s): standing down, refusing commands until it is"
            " back; then it takes the lock again, reloads and resumes by itself",
            describe(cause),
        )

    async def _recover(self) -> None:
        """Try to take over again, shortly after each failure, until the database is
        back; anything else that stops the reload halts the engine."""
        delay = RECOVERY_FIRST_S
        while True:
            await asyncio.sleep(delay)
            try:
                await self._take_over()
            except Exception as exc:
                if not (self._lost or is_database_unavailable(exc)):
                    self.failure = exc
                    log.exception("engine halted: its state could not be reloaded")
                    raise
                delay = min(delay * 2, RECOVERY_MAX_S)
            else:
                return

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
        self._serving = False
        self._fail_waiting(EngineStopped("engine stopped"))
        conns = (self._conn, self._lock_conn)
        self._conn = self._lock_conn = None
        for conn in conns:
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):  # a dead server: it is aborted
                    await conn.close(timeout=2)

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
        self._offered_at.append(time.perf_counter())
        self._wakeup.set()
        return future

    async def _run(self) -> None:
        """Apply batch N+1 while batch N commits; answer each batch after its own commit.

        PostgreSQL is the bottleneck, so it is never left waiting on this process: the next
        batch is applied, turned into rows and encoded while the previous one commits, its
        statement goes out as soon as that commit returns, and only then are the previous
        batch's callers answered (while PostgreSQL works on the next).
        """
        writing: asyncio.Task[None] | None = None  # the commit of ``written``
        written: _Prepared | None = None
        answering: _Prepared | None = None  # committed, its callers not all answered yet
        try:
            while True:
                if self._lost:
                    raise _DatabaseLost
                if not self._inbox:
                    if writing is not None:
                        await writing
                        answering, writing, written = written, None, None
                    else:
                        await self._wakeup.wait()
                        self._wakeup.clear()
                        if self.batch_wait_s and len(self._inbox) < self.max_batch:
                            await asyncio.sleep(self.batch_wait_s)
                        continue
                else:
                    prepared = self._apply_batch()
                    if writing is not None:
                        try:
                            await writing
                        except BaseException:  # this batch will not be committed either
                            _refuse(prepared.batch, EngineStopped("batch not committed"))
                            raise
                    answering, written = written, prepared
                    writing = asyncio.create_task(self._commit(prepared))
                    await asyncio.sleep(0)  # the statement goes out before the answers
                if answering is not None:
                    await self._answer(answering)
                    answering = None
        except BaseException as exc:
            if answering is not None:  # committed: its callers hear so
                self._answer_now(answering)
            await self._stop_running(exc, writing, written)
            raise

    async def _stop_running(
        self, exc: BaseException, writing: "asyncio.Task[None] | None", written: "_Prepared | None"
    ) -> None:
        """The loop ended with ``exc``. Stopped: the commit in flight finishes. A lost
        database becomes ``_DatabaseLost`` once the commit in flight ends. Either way that
        commit's callers hear how it ended. Anything else halts the engine."""
        if isinstance(exc, asyncio.CancelledError):
            if writing is not None:
                await asyncio.shield(writing)
                if written is not None:
                    self._answer_now(written)
            return
        if writing is not None:  # a failed commit refuses its own callers
            with contextlib.suppress(Exception):
                await writing
                if written is not None:
                    self._answer_now(written)
        lost = isinstance(exc, _DatabaseLost)
        conns = (self._conn, self._lock_conn)
        closed = any(conn is None or conn.is_closed() for conn in conns)
        if lost or closed or self._lost or is_database_unavailable(exc):
            if lost:
                return
            raise _DatabaseLost from exc
        self.failure = exc
        log.exception("engine halted: a batch could not be committed; restart to recover")
        self._fail_waiting(EngineStopped(f"engine halted: {exc}"))

    def _apply_batch(self) -> "_Prepared":
        """Apply the inbox's next batch and prepare everything its commit and answers need
        (rows, encoded documents, events, book snapshots): the commit only sends it."""
        engine, writer = self.engine, self._writer
        assert writer is not None
        batch = self._inbox[: self.max_batch]
        del self._inbox[: self.max_batch]
        offered = self._offered_at[: self.max_batch]
        del self._offered_at[: self.max_batch]
        persisted_below = engine.next_order_id
        ts = now_micros()
        self._forget_old_keys(ts)
        apply = engine.apply
        results = [apply(command, ts) for command, _ in batch]
        journal = engine.end_batch()
        # Read before ``rows`` freezes the results (which drops their live orders).
        facts: list[OrderFacts | None] = [None] * len(results)
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
        return _Prepared(
            batch, answered, rows, writer.encode(rows), self._events(rows), snapshots, offered
        )

    async def _commit(self, prepared: "_Prepared") -> None:
        """Commit a prepared batch; on success the committed sequence and books move to it
        (its callers are answered by ``_answer``), on failure its callers are refused."""
        writer, conn = self._writer, self._conn
        assert writer is not None
        assert conn is not None
        prepared.started = time.perf_counter()
        try:
            await writer.send(conn, prepared.documents)
        except BaseException:
            _refuse(prepared.batch, EngineStopped("batch not committed"))
            raise
        # The sequence and the books move together, with no await in between.
        rows = prepared.rows
        if rows.last_seq:
            self.committed_seq = rows.last_seq
        self._books.update(prepared.snapshots)
        self.batches += 1
        prepared.committed = time.perf_counter()

    async def _answer(self, prepared: "_Prepared") -> None:
        """Answer a committed batch's callers, publish its events, and record it.

        The callers are answered in slices, giving the event loop a turn in between: it
        keeps sending the next batch's statement to PostgreSQL meanwhile."""
        while prepared.answered < len(prepared.batch):
            if prepared.answered:
                await asyncio.sleep(0)
            self._answer_slice(prepared, ANSWER_SLICE)
        self._answered(prepared)

    def _answer_now(self, prepared: "_Prepared") -> None:
        """``_answer`` at once: the runner is stopping."""
        self._answer_slice(prepared, len(prepared.batch))
        self._answered(prepared)

    def _answer_slice(self, prepared: "_Prepared", size: int) -> None:
        with_facts = self._with_facts
        start = prepared.answered
        prepared.answered = end = min(start + size, len(prepared.batch))
        for (_, future), (result, facts) in zip(
            prepared.batch[start:end], prepared.results[start:end], strict=True
        ):
            if not future.done():
                snapshot = result.freeze()
                future.set_result(answer(snapshot, facts) if future in with_facts else snapshot)

    def _answered(self, prepared: "_Prepared") -> None:
        if prepared.recorded:
            return
        prepared.recorded = True
        self._record(prepared)
        if prepared.events:
            self.bus.publish(prepared.events)
        self._gc.after_batch()

    def _record(self, prepared: "_Prepared") -> None:
        """A committed batch in the engine's metrics (``bursa.metrics.engine``): a few
        calls per batch and a dictionary lookup per command, never a label lookup."""
        batch, results, rows = prepared.batch, prepared.results, prepared.rows
        now = time.perf_counter()
        engine_metrics.COMMIT_SECONDS.observe(prepared.committed - prepared.started)
        engine_metrics.BATCH_SIZE.observe(len(batch))
        engine_metrics.LAST_COMMIT.set(time.time())
        engine_metrics.COMMAND_SECONDS.observe_since(now, prepared.offered)
        applied = rows.journal.commands if rows.journal is not None else []
        counters = self._counters
        kinds = list(map(type, map(_COMMAND, applied)))
        engine_metrics.count_applied(counters, kinds, list(map(_ERROR, map(_RESULT, applied))))
        if len(applied) < len(batch):  # repeated idempotency keys: rare, sought only then
            fresh = {id(r) for _, _, r, _ in applied}
            for (command, _), (result, _) in zip(batch, results, strict=True):
                if id(result) in fresh:
                    fresh.discard(id(result))  # its first answer; any later one repeats it
                else:
                    counters[type(command), DUPLICATE].inc()

    def _forget_old_keys(self, now: int) -> None:
        """Before a batch at ``now``: keys older than the window become new again. Replay
        applies the same rule (``replay.replay_log``), so both agree on every repeat."""
        horizon = now - self.idempotency_window_us
        keys, results = self._keys, self.engine.results
        while keys and keys[0][0] < horizon:
            results.pop(keys.popleft()[1], None)

    def _fail_waiting(self, exc: BaseException) -> None:
        inbox, self._inbox = self._inbox, []
        self._offered_at = []
        _refuse(inbox, exc)

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


def _refuse(
    batch: list[tuple[Command, "asyncio.Future[dict[str, Any]]"]], exc: BaseException
) -> None:
    """Answer every caller of ``batch`` still waiting with ``exc``."""
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
