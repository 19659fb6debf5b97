"""Ranger's fan-out: one bus subscription per process, a bounded outbox per connection.

The bus publishes each batch's events only after the batch committed, so whatever a
client is sent is committed. A connection whose outbox is full is disconnected ("too
slow", as Rango does with its 256-message buffer) instead of slowing the others: the
hub never awaits a client.

Order books: the hub mirrors a market's book from the runner's committed snapshot, taken
the first time someone subscribes to ``<market>.ob-inc``, and from the ``book`` events
of the batches committed after it (the sequence ``committed_book`` reports tells them
apart). In a process whose engine runs elsewhere the snapshot is read from the database
(``ranger_markets.StoredMarkets``); the book events committed meanwhile wait for it, and
those it already holds are skipped by the same sequence test. Every level change is
numbered in the market's increment sequence, and a new subscriber gets the mirror with
the current number, in the same step it is added to the stream's subscribers. Snapshot
and increments therefore continue each other with no gap and no overlap, and a client
that applies them holds the committed book exactly.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.deps import EngineView
from bursa.api.ranger import present as wire
from bursa.api.ranger.dead_man import DeadMan
from bursa.api.ranger.klines import KLINE, Kline, kline_period, read_seed
from bursa.api.ranger.markets import Committed, LocalMarkets, Markets
from bursa.api.ranger.protocol import DirectWriter
from bursa.db.outage import OutageLog
from bursa.engine.commands import BUY
from bursa.engine.snapshots import BookSnapshot
from bursa.engine.specs import MarketSpec
from bursa.events.bus import BALANCE, BOOK, ORDER, TRADE, Event, InProcessBus, Subscription
from bursa.metrics.api import RATE_LIMIT_REFUSALS
from bursa.metrics.ranger import (
    WS_MESSAGES_SENT,
    WS_PRIVATE_CONNECTIONS,
    WS_PUBLIC_CONNECTIONS,
    WS_RESYNCS,
    WS_SLOW_CLIENT_DROPS,
    WS_SUBSCRIPTIONS,
)
from bursa.trading.market_data import Tickers

log = logging.getLogger(__name__)

PRIVATE_STREAMS = (ORDER, TRADE, BALANCE, "deposit", "withdraw")  # the last two: ranger_custody
TOO_SLOW = 4008  # Rango closes a slow client without a code; a 4xxx one tells clients why
RESYNC = 1012  # "service restart": the hub lost events, clients reconnect and start over
TICKERS = "global.tickers"
WS_PER_IP_SCOPE = "ws-ip"  # the rate-limit refusal of a connection over ``Limits.per_ip``
ASKS, BIDS = "asks", "bids"


@dataclass(frozen=True, slots=True)
class Limits:
    outbox: int = 256  # messages waiting for one client (Rango's buffer)
    buffer_bytes: int = 1 << 20  # bytes written but unsent to one client (direct writes)
    streams: int = 100  # streams one connection may hold
    per_ip: int = 50  # connections from one address
    tickers_every_s: float = 5.0  # global.tickers, as Peatio's ticker job
    backlog: int = 100_000  # events the hub may fall behind the bus before it resyncs


def encode(message: Any) -> str:
    return orjson.dumps(message).decode()


@dataclass(eq=False)
class Connection:
    """One client: its streams and the messages waiting to be written to it.

    Through ASGI, frames wait in ``outbox`` for the connection's writer task. With a
    ``DirectWriter`` (``ws_protocol``), ``send`` writes at once, and ``stage`` keeps the
    frames of the batch being dispatched until the hub writes them with one socket write
    (``write_staged``); the transport's buffer then plays the outbox's part.
    """

    ip: str
    member_id: int | None  # None on the public endpoint
    outbox: asyncio.Queue[str]
    streams: set[str] = field(default_factory=set)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""
    direct: DirectWriter | None = None
    buffer_bytes: int = 0  # the most a direct writer may leave unsent
    staged: list[str] = field(default_factory=list)

    def send(self, text: str) -> None:
        """Write ``text`` (after anything staged), or queue it; a client that has let its
        outbox fill up is dropped."""
        if self.closed.is_set():
            return
        if self.direct is not None:
            self.staged.append(text)
            self.write_staged()
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.kick(TOO_SLOW, "too slow")
        else:
            WS_MESSAGES_SENT.inc()

    def stage(self, text: str) -> bool:
        """Keep ``text`` for the next ``write_staged``; True when it is the first frame
        staged since (the hub then remembers to write this connection). Without a direct
        writer this is ``send``."""
        if self.direct is None:
            self.send(text)
            return False
        if self.closed.is_set():
            return False
        self.staged.append(text)
        return len(self.staged) == 1

    def write_staged(self) -> None:
        texts, self.staged = self.staged, []
        if not texts or self.direct is None or self.closed.is_set():
            return
        if not self.direct.write(texts):
            return  # closing: the endpoint hears the disconnect and lets go of it
        WS_MESSAGES_SENT.inc(len(texts))
        if self.direct.buffered() > self.buffer_bytes:
            self.kick(TOO_SLOW, "too slow")

    def use_direct(self, writer: DirectWriter, buffer_bytes: int) -> None:
        """Write directly from now on; what waits in the outbox goes first."""
        while not self.outbox.empty():
            self.staged.append(self.outbox.get_nowait())
        self.direct, self.buffer_bytes = writer, buffer_bytes
        self.write_staged()

    def kick(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()
            if code == TOO_SLOW:
                WS_SLOW_CLIENT_DROPS.inc()


def _connections_of(conn: Connection) -> Gauge:
    """The ``bursa_ws_connections`` series of ``conn``'s kind (its endpoint)."""
    return WS_PUBLIC_CONNECTIONS if conn.member_id is None else WS_PRIVATE_CONNECTIONS


class BookMirror:
    """A market's levels as committed, numbered by the market's increment sequence."""

    def __init__(self, snapshot: BookSnapshot, committed_seq: int) -> None:
        self.spec: MarketSpec = snapshot.spec
        self.committed_seq = committed_seq  # book events up to here are in the snapshot
        self.sequence = 1  # as Rango: the first snapshot is 1, each increment adds one
        self.sides: dict[str, dict[int, int]] = {
            ASKS: dict(snapshot.asks),
            BIDS: dict(snapshot.bids),
        }

    def snapshot(self) -> dict[str, Any]:
        spec = self.spec
        asks = sorted(self.sides[ASKS].items())
        bids = sorted(self.sides[BIDS].items(), reverse=True)
        return {
            ASKS: [wire.level(p, v, spec) for p, v in asks],
            BIDS: [wire.level(p, v, spec) for p, v in bids],
            "sequence": self.sequence,
        }

    def apply(self, event: Event) -> list[dict[str, Any]]:
        """The increments of a committed batch's ``book`` event (none if already held)."""
        if event.seq <= self.committed_seq:
            return []
        self.committed_seq = event.seq
        increments = []
        for side, price, volume in event.data["levels"]:
            levels = self.sides[BIDS if side == BUY else ASKS]
            if levels.get(price, 0) == volume:
                continue
            if volume:
                levels[price] = volume
            else:
                del levels[price]
            self.sequence += 1
            name = BIDS if side == BUY else ASKS
            increments.append(
                {name: wire.level(price, volume, self.spec), "sequence": self.sequence}
            )
        return increments


class RangerHub:
    """Streams of committed events to websocket connections, within one process."""

    def __init__(
        self,
        runner: EngineView | None,
        bus: InProcessBus,
        limits: Limits = Limits(),
        *,
        tickers: tuple[Tickers, async_sessionmaker[AsyncSession]] | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        markets: Markets | None = None,
    ) -> None:
        """``tickers`` (the cache and the sessions it reads with) feeds ``global.tickers``;
        without it that stream stays silent. ``sessions`` (by default the tickers' ones)
        seed the k-line streams' candles. ``markets`` (by default the runner's) tells specs
        and committed books."""
        self.runner = runner
        self.markets: Markets = markets if markets is not None else LocalMarkets(runner)
        self.bus = bus
        self.limits = limits
        self.tickers = tickers
        self.sessions = sessions or (tickers[1] if tickers is not None else None)
        self._public: dict[str, set[Connection]] = {}
        self._members: dict[int, set[Connection]] = {}
        self._per_ip: Counter[str] = Counter()
        self._books: dict[str, BookMirror] = {}
        # Books being loaded: the connections waiting for their snapshot, and the book
        # events committed meanwhile.
        self._loading: dict[str, tuple[set[Connection], list[Event]]] = {}
        self._generation = 0  # grows on each resync: a load begun before it is stale
        self._klines: dict[str, Kline] = {}  # by stream name
        self._changed: set[str] = set()  # kline streams the batch being dispatched moved
        self._trades: dict[str, list[dict[str, Any]]] = {}  # its public trades, by stream
        self._batch_seq = 0
        self._staged: list[Connection] = []  # connections with frames staged, to write
        self._seeding: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._outage = OutageLog("ranger", log, meanwhile="tickers, books and candles wait")
        self._stack = contextlib.ExitStack()
        self.dead_man = DeadMan()  # cancel-on-disconnect timers (``order_entry``)

    @property
    def connections(self) -> int:
        return self._per_ip.total()

    async def start(self) -> None:
        pump = self._pump(self._subscribe())
        self._tasks.append(asyncio.create_task(pump, name="ranger-hub"))
        if self.tickers is not None:
            self._tasks.append(asyncio.create_task(self._tick(), name="ranger-tickers"))

    async def stop(self) -> None:
        tasks = self._tasks + list(self._seeding)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._stack.close()
        await self.dead_man.close()

    def _subscribe(self) -> Subscription:
        """A new bus subscription, taken at once (not when a task first runs), so that no
        event committed after ``start`` is missed."""
        self._stack.close()
        self._stack = contextlib.ExitStack()
        topics = (ORDER, TRADE, BALANCE, BOOK)
        return self._stack.enter_context(self.bus.subscribe(*topics, maxsize=self.limits.backlog))

    async def _pump(self, subscription: Subscription) -> None:
        while True:
            await self._deliver(subscription)
            # The bus dropped the hub for falling behind: books and sequences may miss
            # events, so every client starts over (Rango's clients resubscribe on a gap).
            log.error("ranger fell behind the bus; disconnecting every client to resync")
            WS_RESYNCS.inc()
            subscription = self._subscribe()
            self._books.clear()
            self._loading.clear()
            self._generation += 1
            self._klines.clear()
            self._changed.clear()
            self._trades.clear()
            for conns in list(self._public.values()) + list(self._members.values()):
                for conn in conns:
                    conn.kick(RESYNC, "resync")

    async def _deliver(self, subscription: Subscription) -> None:
        """Dispatch events until the bus drops ``subscription``."""
        queue = subscription.queue
        while not subscription.overflowed:
            if queue.empty():
                try:  # the bus drops a subscription without a word: look now and then
                    async with asyncio.timeout(1.0):
                        event = await queue.get()
                except TimeoutError:
                    continue
            else:
                event = queue.get_nowait()
            try:
                self.dispatch(event)
                if queue.empty():
                    self.flush()
            except Exception:
                log.exception("ranger could not deliver a %s event", event.topic)

    async def _tick(self) -> None:
        """``global.tickers`` every few seconds, read only while someone listens."""
        assert self.tickers is not None
        tickers, sessions = self.tickers
        while True:
            await asyncio.sleep(self.limits.tickers_every_s)
            if not self._public.get(TICKERS):
                continue
            markets = [
                (spec.id, spec.price_precision) for spec in self.markets.specs() if spec.tradable
            ]
            try:
                async with sessions() as session:
                    found = await tickers.get(session, markets)
            except Exception as exc:
                if not self._outage.failed(exc):
                    log.exception("ranger could not read the tickers")
                continue
            self._outage.succeeded()
            self.publish(TICKERS, {m: wire.ticker(t) for m, t in found.items()})
            self.write_staged()

    def connect(self, ip: str, member_id: int | None) -> Connection | None:
        """A new connection, or None when ``ip`` holds as many as it may."""
        if self._per_ip[ip] >= self.limits.per_ip:
            RATE_LIMIT_REFUSALS.labels(WS_PER_IP_SCOPE).inc()
            return None
        self._per_ip[ip] += 1
        conn = Connection(ip, member_id, asyncio.Queue(self.limits.outbox))
        if member_id is not None:
            self._members.setdefault(member_id, set()).add(conn)
        _connections_of(conn).inc()
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.unsubscribe(conn, list(conn.streams))
        self._per_ip[conn.ip] -= 1
        if self._per_ip[conn.ip] <= 0:
            del self._per_ip[conn.ip]
        if conn.member_id is not None:
            members = self._members.get(conn.member_id, set())
            members.discard(conn)
            if not members:
                self._members.pop(conn.member_id, None)
        _connections_of(conn).dec()
        conn.kick(1000, "")

    def subscribe(self, conn: Connection, streams: Iterable[str]) -> str | None:
        """Add ``streams`` (an order-book stream sends its snapshot first); an error text
        when the connection would hold more than it may."""
        new = [s for s in dict.fromkeys(streams) if s not in conn.streams]
        if len(conn.streams) + len(new) > self.limits.streams:
            return f"Too many streams: at most {self.limits.streams} per connection"
        WS_SUBSCRIPTIONS.inc(len(new))
        for stream in new:
            conn.streams.add(stream)
            if "." not in stream:  # private: delivered by member, see ``dispatch``
                continue
            market, _, kind = stream.partition(".")
            if kind == "ob-inc" and self._mirror(market) is None:
                self._load_book(market, conn)  # it joins the stream with its snapshot
                continue
            self._public.setdefault(stream, set()).add(conn)
            if kind == "ob-inc":
                mirror = self._books[market]
                conn.send(encode({f"{market}.ob-snap": mirror.snapshot()}))
            elif kind.startswith(KLINE) and stream not in self._klines:
                self._follow_kline(stream, market, kind)
        return None

    def _load_book(self, market: str, conn: Connection) -> None:
        """Ask for a book this process does not hold; ``conn`` gets it when it comes."""
        loading = self._loading.get(market)
        if loading is not None:
            loading[0].add(conn)
            return
        if self.markets.spec(market) is None:
            self._public.setdefault(f"{market}.ob-inc", set()).add(conn)  # a silent stream
            return
        self._loading[market] = ({conn}, [])
        task = asyncio.create_task(
            self._finish_load(market, self._generation), name=f"ranger-book-{market}"
        )
        self._seeding.add(task)
        task.add_done_callback(self._seeding.discard)

    async def _finish_load(self, market: str, generation: int) -> None:
        committed: Committed | None = None
        try:
            committed = await self.markets.load_book(market)
        except Exception as exc:
            if not self._outage.failed(exc):
                log.exception("ranger could not read the book of %s", market)
        if generation != self._generation:
            return  # a resync dropped everyone who waited
        waiting, events = self._loading.pop(market, (set(), []))
        stream = f"{market}.ob-inc"
        if committed is None:
            for conn in waiting:
                conn.kick(RESYNC, "resync")  # the client starts over, as on any gap
            return
        mirror = self._books[market] = BookMirror(*committed)
        for event in events:
            mirror.apply(event)  # nobody holds this book yet: nothing to send
        snap = encode({f"{market}.ob-snap": mirror.snapshot()})
        for conn in waiting:
            if stream in conn.streams and not conn.closed.is_set():
                self._public.setdefault(stream, set()).add(conn)
                conn.send(snap)

    def _follow_kline(self, stream: str, market: str, kind: str) -> None:
        """Keep the candle of a k-line stream from now on, seeded from the database."""
        minutes = kline_period(kind)
        spec = self._spec(market)
        if minutes is None or spec is None or self.sessions is None:
            return
        kline = self._klines[stream] = Kline(spec, minutes)
        task = asyncio.create_task(self._seed(stream, kline), name=f"ranger-seed-{stream}")
        self._seeding.add(task)
        task.add_done_callback(self._seeding.discard)

    async def _seed(self, stream: str, kline: Kline) -> None:
        assert self.sessions is not None
        try:
            bar, last_trade_id = await read_seed(self.sessions, kline.spec, kline.seconds // 60)
        except Exception as exc:
            if not self._outage.failed(exc):
                log.exception("ranger could not read the candle of %s", stream)
            if self._klines.get(stream) is kline:
                del self._klines[stream]  # the next subscriber tries again
            return
        if kline.seed(bar, last_trade_id) and self._klines.get(stream) is kline:
            self._changed.add(stream)
            self.flush()

    def unsubscribe(self, conn: Connection, streams: Iterable[str]) -> None:
        for stream in streams:
            if stream in conn.streams:
                conn.streams.discard(stream)
                WS_SUBSCRIPTIONS.dec()
            market, _, kind = stream.partition(".")
            if kind == "ob-inc" and market in self._loading:
                self._loading[market][0].discard(conn)
            subscribers = self._public.get(stream)
            if subscribers is not None:
                subscribers.discard(conn)
                if not subscribers:
                    del self._public[stream]
                    self._klines.pop(stream, None)

    def _mirror(self, market: str) -> BookMirror | None:
        """The market's mirror, made at once from a book this process holds; None when
        the book must be loaded (or the market is unknown)."""
        mirror = self._books.get(market)
        if mirror is None:
            committed = self.markets.book_now(market)
            if committed is None:
                return None
            mirror = self._books[market] = BookMirror(*committed)
        return mirror

    def _spec(self, market: str) -> MarketSpec | None:
        return self.markets.spec(market)

    def flush(self) -> None:
        """Send the public trades of the events dispatched since the last flush, one
        message per market as Peatio's list of trades, and the candles they moved, then
        write every connection's frames of the batch (once per batch: ``dispatch``
        flushes when the batch changes, ``_deliver`` when idle)."""
        trades, self._trades = self._trades, {}
        for stream, found in trades.items():
            self.publish(stream, {"trades": found})
        changed, self._changed = self._changed, set()
        for stream in changed:
            kline = self._klines.get(stream)
            subscribers = self._public.get(stream)
            frame = kline.frame(stream) if kline is not None else None
            if frame is not None and subscribers:
                for conn in list(subscribers):
                    self._stage(conn, frame)
        self.write_staged()

    def _stage(self, conn: Connection, text: str) -> None:
        if conn.stage(text):
            self._staged.append(conn)

    def write_staged(self) -> None:
        """Write what ``publish`` and ``tell`` staged: one socket write per connection."""
        staged, self._staged = self._staged, []
        for conn in staged:
            conn.write_staged()

    def publish(self, stream: str, payload: Any) -> None:
        """``{stream: payload}`` to the subscribers of a public stream (staged: see
        ``write_staged``)."""
        subscribers = self._public.get(stream)
        if subscribers:
            text = encode({stream: payload})
            for conn in list(subscribers):
                self._stage(conn, text)

    def listening(self, member_id: int, stream: str) -> bool:
        """Whether a connection of the member follows ``stream`` (the payload of one that
        nobody follows is not worth shaping: most orders are not)."""
        return any(stream in c.streams for c in self._members.get(member_id, ()))

    def tell(self, member_id: int, stream: str, payload: Any) -> None:
        """``{stream: payload}`` to the member's connections that subscribed to it
        (staged)."""
        conns = [c for c in self._members.get(member_id, ()) if stream in c.streams]
        if conns:
            text = encode({stream: payload})
            for conn in conns:
                self._stage(conn, text)

    def _trade(self, data: dict[str, Any]) -> None:
        """A committed trade: the market's public trades and candles, and both members'
        private trade streams."""
        spec = self._spec(data["market"])
        if spec is None:
            return
        stream = f"{spec.id}.trades"
        if stream in self._public:
            self._trades.setdefault(stream, []).append(wire.public_trade(data, spec))
        prefix = f"{spec.id}.kline-"
        for stream, kline in self._klines.items():
            if stream.startswith(prefix) and kline.add(data):
                self._changed.add(stream)
        for member, maker in ((data["maker_id"], True), (data["taker_id"], False)):
            if self.listening(member, TRADE):
                self.tell(member, TRADE, wire.private_trade(data, spec, maker=maker))

    def dispatch(self, event: Event) -> None:
        if event.seq != self._batch_seq:
            self.flush()
            self._batch_seq = event.seq
        data = event.data
        if event.topic == BOOK:
            loading = self._loading.get(data["market"])
            if loading is not None:
                loading[1].append(event)
            mirror = self._books.get(data["market"])
            if mirror is not None:
                stream = f"{data['market']}.ob-inc"
                for increment in mirror.apply(event):
                    self.publish(stream, increment)
        elif event.topic == TRADE:
            self._trade(data)
        elif not self.listening(data["member_id"], event.topic):
            return  # a member's order or balance that none of their connections follows
        elif event.topic == ORDER:
            spec = self._spec(data["market"])
            if spec is not None:
                self.tell(data["member_id"], ORDER, wire.private_order(data, spec))
        elif event.topic == BALANCE:
            currency = self.markets.currency(data["currency"])
            if currency is not None:
                self.tell(data["member_id"], BALANCE, wire.balance(data, currency))
