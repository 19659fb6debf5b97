"""Ranger's fan-out: one bus subscription per process, a bounded outbox per connection.

The bus publishes each batch's events only after the batch committed, so whatever a
client is sent is committed. A connection whose outbox is full is disconnected ("too
slow", as Rango does with its 256-message buffer) instead of slowing the others: the
hub never awaits a client.

Order books: the hub mirrors a market's book from the runner's committed snapshot, taken
the first time someone subscribes to ``<market>.ob-inc``, and from the ``book`` events of
the batches committed after it (the sequence ``committed_book`` reports tells them
apart). Every level change is numbered in the market's increment sequence, and a new
subscriber gets the mirror with the current number, in the same step it is added to the
stream's subscribers. Snapshot and increments therefore continue each other with no gap
and no overlap, and a client that applies them holds the committed book exactly.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bursa.api import ranger_present as wire
from bursa.api.deps import EngineView
from bursa.engine.commands import BUY
from bursa.engine.snapshots import BookSnapshot
from bursa.engine.specs import MarketSpec
from bursa.events.bus import BALANCE, BOOK, ORDER, TRADE, Event, InProcessBus, Subscription

log = logging.getLogger(__name__)

PRIVATE_STREAMS = (ORDER, TRADE, BALANCE)
TOO_SLOW = 4008  # Rango closes a slow client without a code; a 4xxx one tells clients why
ASKS, BIDS = "asks", "bids"


@dataclass(frozen=True, slots=True)
class Limits:
    outbox: int = 256  # messages waiting for one client (Rango's buffer)
    streams: int = 100  # streams one connection may hold
    per_ip: int = 50  # connections from one address


def encode(message: Any) -> str:
    return orjson.dumps(message).decode()


@dataclass(eq=False)
class Connection:
    """One client: its streams and the messages waiting to be written to it."""

    ip: str
    member_id: int | None  # None on the public endpoint
    outbox: asyncio.Queue[str]
    streams: set[str] = field(default_factory=set)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""

    def send(self, text: str) -> None:
        """Queue ``text``; a client that has let its outbox fill up is dropped."""
        if self.closed.is_set():
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.kick(TOO_SLOW, "too slow")

    def kick(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()


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

    def __init__(self, runner: EngineView, bus: InProcessBus, limits: Limits = Limits()) -> None:
        self.runner = runner
        self.bus = bus
        self.limits = limits
        self._public: dict[str, set[Connection]] = {}
        self._members: dict[int, set[Connection]] = {}
        self._per_ip: Counter[str] = Counter()
        self._books: dict[str, BookMirror] = {}
        self._stack = contextlib.ExitStack()
        self._task: asyncio.Task[None] | None = None

    @property
    def connections(self) -> int:
        return self._per_ip.total()

    async def start(self) -> None:
        subscription = self._stack.enter_context(self.bus.subscribe(ORDER, TRADE, BALANCE, BOOK))
        self._task = asyncio.create_task(self._pump(subscription), name="ranger-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stack.close()

    async def _pump(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.get()
            try:
                self.dispatch(event)
            except Exception:
                log.exception("ranger could not deliver a %s event", event.topic)

    def connect(self, ip: str, member_id: int | None) -> Connection | None:
        """A new connection, or None when ``ip`` holds as many as it may."""
        if self._per_ip[ip] >= self.limits.per_ip:
            return None
        self._per_ip[ip] += 1
        conn = Connection(ip, member_id, asyncio.Queue(self.limits.outbox))
        if member_id is not None:
            self._members.setdefault(member_id, set()).add(conn)
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
        conn.kick(1000, "")

    def subscribe(self, conn: Connection, streams: Iterable[str]) -> str | None:
        """Add ``streams`` (an order-book stream sends its snapshot first); an error text
        when the connection would hold more than it may."""
        new = [s for s in dict.fromkeys(streams) if s not in conn.streams]
        if len(conn.streams) + len(new) > self.limits.streams:
            return f"Too many streams: at most {self.limits.streams} per connection"
        for stream in new:
            conn.streams.add(stream)
            if "." not in stream:  # private: delivered by member, see ``dispatch``
                continue
            self._public.setdefault(stream, set()).add(conn)
            market, _, kind = stream.partition(".")
            if kind == "ob-inc":
                mirror = self._mirror(market)
                if mirror is not None:
                    conn.send(encode({f"{market}.ob-snap": mirror.snapshot()}))
        return None

    def unsubscribe(self, conn: Connection, streams: Iterable[str]) -> None:
        for stream in streams:
            conn.streams.discard(stream)
            subscribers = self._public.get(stream)
            if subscribers is not None:
                subscribers.discard(conn)
                if not subscribers:
                    del self._public[stream]

    def _mirror(self, market: str) -> BookMirror | None:
        mirror = self._books.get(market)
        if mirror is None:
            committed = self.runner.committed_book(market)
            if committed is None:
                return None
            mirror = self._books[market] = BookMirror(*committed)
        return mirror

    def _spec(self, market: str) -> MarketSpec | None:
        committed = self.runner.committed_book(market)
        return None if committed is None else committed[0].spec

    def publish(self, stream: str, payload: Any) -> None:
        """``{stream: payload}`` to the subscribers of a public stream."""
        subscribers = self._public.get(stream)
        if subscribers:
            text = encode({stream: payload})
            for conn in list(subscribers):
                conn.send(text)

    def tell(self, member_id: int, stream: str, payload: Any) -> None:
        """``{stream: payload}`` to the member's connections that subscribed to it."""
        conns = [c for c in self._members.get(member_id, ()) if stream in c.streams]
        if conns:
            text = encode({stream: payload})
            for conn in conns:
                conn.send(text)

    def dispatch(self, event: Event) -> None:
        data = event.data
        if event.topic == BOOK:
            mirror = self._books.get(data["market"])
            if mirror is not None:
                stream = f"{data['market']}.ob-inc"
                for increment in mirror.apply(event):
                    self.publish(stream, increment)
        elif event.topic == TRADE:
            spec = self._spec(data["market"])
            if spec is None:
                return
            self.publish(f"{spec.id}.trades", {"trades": [wire.public_trade(data, spec)]})
            self.tell(data["maker_id"], TRADE, wire.private_trade(data, spec, maker=True))
            self.tell(data["taker_id"], TRADE, wire.private_trade(data, spec, maker=False))
        elif event.topic == ORDER:
            spec = self._spec(data["market"])
            if spec is not None:
                self.tell(data["member_id"], ORDER, wire.private_order(data, spec))
        elif event.topic == BALANCE:
            currency = self.runner.engine.currencies.get(data["currency"])
            if currency is not None:
                self.tell(data["member_id"], BALANCE, wire.balance(data, currency))
