"""Committed batches relayed between processes over RabbitMQ: live data, not the Event API.

The engine's process taps its bus (``EventRelay``): each batch it publishes after a commit
becomes one transient message on the fanout exchange ``bursa.engine.events``. Every other
process (an API replica) binds its own exclusive, auto-deleted queue to it
(``EventFeed``) and publishes each message's events on its local bus, where the ranger
hub and anything else subscribes exactly as next to the engine.

Nothing here is durable: a message lost (a full queue drops its oldest, a reconnect
misses what was published meanwhile, the relay's own buffer overflows) is noticed by the
next one, which names the sequence of the batch relayed before it (``prev``). On a gap
the feed resets its bus — every subscriber is dropped as if it had fallen behind, so the
hub disconnects its clients with RESYNC and rebuilds its books and candles from the
database. A restarted engine relays ``prev`` = the sequence it recovered at, so a restart
that lost nothing continues without a reset.

Message body (JSON; integers may exceed 64 bits): ``{"prev": <seq>, "seq": <seq>,
"at": <commit time, µs since the epoch>, "events": [[topic, seq, data], ...]}``.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage

from bursa.events.bus import AMQP_RECONNECT_S, Event, InProcessBus

log = logging.getLogger(__name__)

EXCHANGE = "bursa.engine.events"
QUEUE_MAX = 10_000  # batches an API process's queue holds before dropping the oldest


def _dumps(body: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(body, separators=(",", ":")).encode()


def encode_batch(prev: int, seq: int, events: list[Event], at: int) -> bytes:
    return _dumps(
        {
            "prev": prev,
            "seq": seq,
            "at": at,
            "events": [[e.topic, e.seq, e.data] for e in events],
        }
    )


def decode_batch(body: bytes) -> tuple[int, int, int, list[Event]]:
    """``(prev, seq, at, events)``; the standard parser keeps big integers exact."""
    message = json.loads(body)
    events = [Event(topic, seq, data) for topic, seq, data in message["events"]]
    return message["prev"], message["seq"], message["at"], events


class EventRelay:
    """In the engine's process: each committed batch of ``bus`` to the fanout exchange.

    The tap only queues (the commit path never waits for RabbitMQ); a task publishes. If
    RabbitMQ is slower than the engine for long, batches are dropped from a bounded buffer
    and the receivers resync on the gap."""

    def __init__(
        self,
        amqp_url: str,
        bus: InProcessBus,
        committed_seq: int,
        *,
        exchange: str = EXCHANGE,
        buffer: int = 10_000,
    ) -> None:
        """``committed_seq``: the engine's sequence when the relay starts (``prev`` of
        the first batch)."""
        self.amqp_url = amqp_url
        self.exchange_name = exchange
        self.dropped = 0
        self._prev = committed_seq
        self._pending: asyncio.Queue[bytes] = asyncio.Queue(buffer)
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._task: asyncio.Task[None] | None = None
        bus.tap(self._on_batch)

    def _on_batch(self, events: list[Event]) -> None:
        if not events:
            return
        seq = events[-1].seq
        body = encode_batch(self._prev, seq, events, time.time_ns() // 1000)
        self._prev = seq
        try:
            self._pending.put_nowait(body)
        except asyncio.QueueFull:
            self.dropped += 1  # the next batch's ``prev`` tells the receivers

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, reconnect_interval=AMQP_RECONNECT_S
        )
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.FANOUT, durable=False
        )
        self._task = asyncio.create_task(self._publish(exchange), name="event-relay")
        log.info("relaying committed batches to exchange %s", self.exchange_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _publish(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        while True:
            body = await self._pending.get()
            try:
                await exchange.publish(
                    aio_pika.Message(body, content_type="application/json"), routing_key=""
                )
            except Exception:
                # Lost: the receivers see the gap in ``prev`` and resync.
                log.exception("could not relay a committed batch")


class EventFeed:
    """In an API process: the relayed batches onto the local ``bus``, gaps as resets."""

    def __init__(
        self,
        amqp_url: str,
        bus: InProcessBus,
        *,
        exchange: str = EXCHANGE,
        max_length: int = QUEUE_MAX,
    ) -> None:
        self.amqp_url = amqp_url
        self.bus = bus
        self.exchange_name = exchange
        self.max_length = max_length
        self.last_seq: int | None = None
        self.resets = 0
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self, committed_seq: Callable[[], Awaitable[int]] | None = None) -> None:
        """Bind this process's queue; batches committed from now on reach the bus.

        ``committed_seq`` (the engine's last committed sequence, read once the queue is
        bound) lets even the first message show a gap: a batch relayed in between only
        costs a needless resync before anyone subscribed."""
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, reconnect_interval=AMQP_RECONNECT_S
        )
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=1000)
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.FANOUT, durable=False
        )
        queue = await channel.declare_queue(
            exclusive=True,
            auto_delete=True,
            arguments={"x-max-length": self.max_length, "x-overflow": "drop-head"},
        )
        await queue.bind(exchange)
        if committed_seq is not None:
            self.last_seq = await committed_seq()
        await queue.consume(self._on_message, no_ack=True)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            prev, seq, _, events = decode_batch(message.body)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed relayed batch")
            return
        self.receive(prev, seq, events)

    def receive(self, prev: int, seq: int, events: list[Event]) -> None:
        if self.last_seq is not None and prev != self.last_seq:
            log.warning("relayed batches %d..%d are missing; resyncing", self.last_seq, prev)
            self.resets += 1
            self.bus.reset()
        self.last_seq = seq
        self.bus.publish(events)
