"""A bot's websocket driver for Ranger (OpenDAX's Rango, Bursa's ``/api/v2/ranger``).

``RangerFeed`` keeps one connection open: public (``<m>.ob-inc``, ``<m>.trades``) or, with
an API key, private (the same public streams plus the member's ``order`` and ``trade``; the
upgrade is signed with Barong's headers). Order books are rebuilt into ``LocalBook``s from
the ``ob-snap`` snapshot and the numbered ``ob-inc`` increments; an increment that does not
continue the book's sequence means a frame was lost, so the book is marked unsynced and
resubscribed for a new snapshot — a bot never quotes on a silently wrong book. A
resubscription that brings no snapshot is sent again after ``resync_timeout_s`` (doubling
each time), and after ``resync_tries`` the connection is dropped. A dropped connection is
reopened with jittered backoff; books start again from the new snapshot and the feed queues
``Connected(reconnect=True)`` so the bot re-reads its open orders (events missed while away
are not replayed by Ranger).

Events wait in a bounded queue: when nobody reads fast enough the oldest are dropped (and
counted in ``dropped``). Books are kept apart from the queue, so a slow reader never makes
a book wrong; it only misses events.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from bursa.bots.drivers.opendax import ApiKey, ExchangeError, Level, Order, amount, decode_json

log = logging.getLogger(__name__)

PRIVATE_STREAMS = ("order", "trade")
MAX_EVENTS = 10_000  # events kept for a reader; older ones are dropped beyond
RESYNC_TIMEOUT_S = 5.0  # for the snapshot after a resubscription (doubled at each retry)
RESYNC_TRIES = 3  # resubscriptions without a snapshot before the connection is dropped


class LocalBook:
    """A market's price levels as Ranger tells them, with the sequence they are exact at.
    ``synced`` is False until a snapshot came, and again from a gap until the next one."""

    def __init__(self, market: str) -> None:
        self.market = market
        self.asks: dict[Decimal, Decimal] = {}
        self.bids: dict[Decimal, Decimal] = {}
        self.sequence: int | None = None
        self.synced = False
        self.version = 0  # grows with every change: a cheap "has it moved" for bots

    def load(self, snapshot: Mapping[str, Any]) -> None:
        self.asks = {p: v for p, v in _levels(snapshot.get("asks") or []) if v}
        self.bids = {p: v for p, v in _levels(snapshot.get("bids") or []) if v}
        self.sequence = int(snapshot["sequence"])
        self.synced = True
        self.version += 1

    def apply(self, increment: Mapping[str, Any]) -> bool:
        """Apply one increment; False on a sequence gap (the book is then unsynced). An
        increment already held (an old sequence) or one arriving unsynced is ignored."""
        if not self.synced or self.sequence is None:
            return True
        sequence = int(increment["sequence"])
        if sequence <= self.sequence:
            return True
        if sequence != self.sequence + 1:
            self.synced = False
            return False
        for name, side in (("asks", self.asks), ("bids", self.bids)):
            for price, volume in _levels(increment.get(name) or []):
                if volume:
                    side[price] = volume
                else:
                    side.pop(price, None)
        self.sequence = sequence
        self.version += 1
        return True

    def best_ask(self) -> Level | None:
        if not self.asks:
            return None
        price = min(self.asks)
        return price, self.asks[price]

    def best_bid(self) -> Level | None:
        if not self.bids:
            return None
        price = max(self.bids)
        return price, self.bids[price]

    def ask_levels(self, depth: int | None = None) -> list[Level]:
        """Asks, best (lowest) first."""
        return sorted(self.asks.items())[:depth]

    def bid_levels(self, depth: int | None = None) -> list[Level]:
        """Bids, best (highest) first."""
        return sorted(self.bids.items(), reverse=True)[:depth]


def _levels(rows: Any) -> list[Level]:
    """Levels of a snapshot (a list of pairs) or of an increment (one pair, or a list of
    them); a volume of ``""`` (or none) means the level is gone."""
    if not rows:
        return []
    if not isinstance(rows[0], list | tuple):
        rows = [rows]
    return [(amount(r[0]), amount(r[1]) if r[1] not in ("", None) else Decimal(0)) for r in rows]


# ---------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Connected:
    """The feed is (again) connected and subscribed. After a reconnect, orders may have
    changed unseen: re-read them."""

    reconnect: bool


@dataclass(frozen=True, slots=True)
class BookSynced:
    """``market``'s book holds a new snapshot (first, after a gap, or after a reconnect)."""

    market: str
    resync: bool


@dataclass(frozen=True, slots=True)
class PublicTrade:
    market: str
    id: int
    price: Decimal
    amount: Decimal
    taker_type: str
    date: int


@dataclass(frozen=True, slots=True)
class OwnTrade:
    """A trade of the member's, from their side."""

    id: int
    market: str
    order_id: int
    side: str
    price: Decimal
    amount: Decimal
    total: Decimal
    taker_type: str
    created_at: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order: Order


FeedEvent = Connected | BookSynced | PublicTrade | OwnTrade | OrderUpdate
Tap = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Backoff:
    first_s: float = 0.5
    most_s: float = 15.0

    def pause(self, failures: int) -> float:
        """Full jitter, so many bots do not all come back at once."""
        return random.uniform(0, min(self.most_s, self.first_s * 2**failures))  # noqa: S311


class RangerFeed:
    """Ranger streams for ``markets``, kept connected (use ``async with``, or ``run``).

    Events wait in ``events`` (at most ``max_events``: the oldest are dropped and counted in
    ``dropped``); books are read from ``books`` at any time (check ``synced``).
    ``on_book_change``, when set, is called with the market's id each time one of its books
    changes (a snapshot or an applied increment), so a bot can react without polling.
    ``tap`` sees every decoded frame first and may drop it by answering False (tests use
    it to lose an increment)."""

    def __init__(
        self,
        ws_url: str,
        markets: Iterable[str],
        *,
        key: ApiKey | None = None,
        trades: bool = True,
        backoff: Backoff = Backoff(),
        tap: Tap | None = None,
        max_events: int = MAX_EVENTS,
        resync_timeout_s: float = RESYNC_TIMEOUT_S,
        resync_tries: int = RESYNC_TRIES,
    ) -> None:
        self.base = ws_url.rstrip("/")
        self.markets = list(markets)
        self.key = key
        self.trades = trades
        self.backoff = backoff
        self.tap = tap
        self.on_book_change: Callable[[str], None] | None = None
        self.books = {m: LocalBook(m) for m in self.markets}
        self.events: asyncio.Queue[FeedEvent] = asyncio.Queue(max_events)
        self.dropped = 0  # events dropped unread, the queue being full
        self.connections = 0  # opened so far
        self.resyncs = 0  # resubscriptions after a gap (retries included)
        self.resync_timeout_s = resync_timeout_s
        self.resync_tries = resync_tries
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._awaiting: dict[str, asyncio.Task[None]] = {}  # snapshots awaited, by market
        self._dropping = False  # within a burst of drops (warned once)

    def streams(self) -> list[str]:
        public = [f"{m}.ob-inc" for m in self.markets]
        if self.trades:
            public += [f"{m}.trades" for m in self.markets]
        return public + (list(PRIVATE_STREAMS) if self.key is not None else [])

    def url(self) -> str:
        where = "private" if self.key is not None else "public"
        return f"{self.base}/{where}?{urlencode({'stream': ','.join(self.streams())})}"

    async def __aenter__(self) -> "RangerFeed":
        self._task = asyncio.create_task(self.run(), name="ranger-feed")
        return self

    async def __aexit__(self, *_: object) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if task.done():  # stopped by a refusal, which ``next_event`` has told
            if not task.cancelled():
                task.exception()
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def next_event(self, wait_s: float = 5.0) -> FeedEvent:
        """The next event; raises what stopped the feed (a refused key) if it stopped."""
        getting = asyncio.ensure_future(self.events.get())
        waits: set[asyncio.Future[Any]] = {getting}
        if self._task is not None:
            waits.add(self._task)
        done, _ = await asyncio.wait(waits, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        if getting in done:
            return getting.result()
        getting.cancel()
        if self._task is not None and self._task in done:
            self._task.result()  # raises
        raise TimeoutError("no Ranger event in time")

    async def run(self) -> None:
        """Connect, read, and reconnect forever. A refused upgrade (bad key: a 4xx other
        than 429) raises ``ExchangeError``: retrying would not change the answer."""
        failures = 0
        while True:
            try:
                headers = self.key.headers() if self.key is not None else None
                async with connect(self.url(), additional_headers=headers) as ws:
                    self._ws = ws
                    self.connections += 1
                    for book in self.books.values():
                        book.synced = False
                    self._put(Connected(reconnect=self.connections > 1))
                    failures = 0
                    await self._read(ws)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if 400 <= status < 500 and status != 429:
                    raise ExchangeError(status, *_refusal(exc)) from None
                log.warning("ranger refused the connection (%s); retrying", status)
            except (OSError, WebSocketException, TimeoutError) as exc:
                log.warning("ranger connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self._ws = None
                await self._stop_awaiting()
            await asyncio.sleep(self.backoff.pause(failures))
            failures += 1

    async def _read(self, ws: ClientConnection) -> None:
        async for text in ws:
            if text == "pong":
                continue
            frame = decode_json(text if isinstance(text, str) else text.decode())
            if not isinstance(frame, dict) or (self.tap is not None and not self.tap(frame)):
                continue
            for stream, payload in frame.items():
                try:
                    await self._handle(ws, stream, payload)
                except (ExchangeError, KeyError, IndexError, TypeError, ValueError):
                    log.warning("ranger: unreadable %s frame", stream)
                    market, _, kind = stream.partition(".")
                    if kind in ("ob-snap", "ob-inc") and market in self.books:
                        self.books[market].synced = False  # never a silently wrong book
                        await self._resubscribe(ws, f"{market}.ob-inc")

    async def _handle(self, ws: ClientConnection, stream: str, payload: Any) -> None:
        market, _, kind = stream.partition(".")
        if stream == "error":
            log.warning("ranger: %s", payload)
        elif kind == "ob-snap" and market in self.books:
            book = self.books[market]
            resync = book.sequence is not None
            book.load(payload)
            self._snapshot_came(market)
            self._put(BookSynced(market, resync))
            self._changed(market)
        elif kind == "ob-inc" and market in self.books:
            version = self.books[market].version
            if not self.books[market].apply(payload):
                await self._resubscribe(ws, stream)
            elif self.books[market].version != version:
                self._changed(market)
        elif kind == "trades":
            for trade in payload.get("trades", []):
                self._put(_public_trade(market, trade))
        elif stream == "order":
            self._put(OrderUpdate(Order.of(payload)))
        elif stream == "trade":
            self._put(_own_trade(payload))

    def _put(self, event: FeedEvent) -> None:
        """Queue ``event``; when the queue is full, drop the oldest (warned once a burst:
        until the reader has caught up to half the queue)."""
        queue = self.events
        if queue.maxsize and queue.qsize() <= queue.maxsize // 2:
            self._dropping = False
        while queue.full():
            queue.get_nowait()
            self.dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning(
                    "ranger: %d events unread; dropping the oldest (books stay exact)",
                    queue.maxsize,
                )
        queue.put_nowait(event)

    def _changed(self, market: str) -> None:
        if self.on_book_change is not None:
            self.on_book_change(market)

    async def _resubscribe(self, ws: ClientConnection, stream: str) -> None:
        """A lost increment: ask for the stream again, whose first frame is a snapshot
        (increments still in flight meanwhile are ignored: the book is unsynced), and
        ask again if none comes (``_await_snapshot``)."""
        log.warning("ranger: gap in %s; resubscribing for a new snapshot", stream)
        await self._send_resubscription(ws, stream)
        market = stream.partition(".")[0]
        waiting = self._awaiting.get(market)
        if waiting is None or waiting.done():
            self._awaiting[market] = asyncio.create_task(
                self._await_snapshot(ws, market, stream), name=f"ranger-resync-{market}"
            )

    async def _send_resubscription(self, ws: ClientConnection, stream: str) -> None:
        self.resyncs += 1
        for event in ("unsubscribe", "subscribe"):
            await ws.send(f'{{"event":"{event}","streams":["{stream}"]}}')

    async def _await_snapshot(self, ws: ClientConnection, market: str, stream: str) -> None:
        """Resubscribe again while no snapshot of ``market`` comes (the answer may be lost
        too), waiting twice as long each time; after ``resync_tries`` resubscriptions, drop
        the connection so that reconnecting starts every book afresh. Cancelled when the
        snapshot comes or the connection ends."""
        book = self.books[market]
        for attempt in range(self.resync_tries):
            await asyncio.sleep(self.resync_timeout_s * 2**attempt)
            if book.synced or self._ws is not ws:
                return
            if attempt + 1 < self.resync_tries:
                log.warning("ranger: no snapshot of %s yet; resubscribing again", market)
                with contextlib.suppress(WebSocketException):
                    await self._send_resubscription(ws, stream)
        log.warning(
            "ranger: no snapshot of %s after %d tries; reconnecting", market, self.resync_tries
        )
        await ws.close()

    def _snapshot_came(self, market: str) -> None:
        waiting = self._awaiting.pop(market, None)
        if waiting is not None:
            waiting.cancel()

    async def _stop_awaiting(self) -> None:
        waiting = list(self._awaiting.values())
        self._awaiting.clear()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def drop_connection(self) -> None:
        """Close the current connection (the feed reconnects): for operators and tests."""
        if self._ws is not None:
            await self._ws.close()


def _refusal(exc: InvalidStatus) -> list[str]:
    try:
        found = decode_json(exc.response.body.decode()).get("errors") if exc.response.body else None
    except (ValueError, AttributeError):
        found = None
    if isinstance(found, list) and found:
        return [str(code) for code in found]
    return [f"http.{exc.response.status_code}"]


def _public_trade(market: str, row: Mapping[str, Any]) -> PublicTrade:
    return PublicTrade(
        market,
        int(row["tid"]),
        amount(row["price"]),
        amount(row["amount"]),
        str(row["taker_type"]),
        int(row["date"]),
    )


def _own_trade(row: Mapping[str, Any]) -> OwnTrade:
    return OwnTrade(
        int(row["id"]),
        str(row["market"]),
        int(row["order_id"]),
        str(row["side"]),
        amount(row["price"]),
        amount(row["amount"]),
        amount(row["total"]),
        str(row["taker_type"]),
        int(row["created_at"]),
    )
