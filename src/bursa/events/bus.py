"""The in-process event bus: committed engine results fan out to subscribers.

Used within one process (streams, candles); with RabbitMQ the engine's process relays
each batch to the other processes (``bursa.events.fanout``), whose buses publish it again.
Without RabbitMQ the Event API relay also delivers its signed envelopes here, on topic
``event_api``. A slow subscriber never blocks the publisher: each subscription is a bounded
queue, and an overflowing one is dropped with a warning. A tap (``tap``) sees each batch
whole.
"""

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ORDER = "order"
TRADE = "trade"
BALANCE = "balance"
BOOK = "book"
TOPICS = (ORDER, TRADE, BALANCE, BOOK)
AMQP_RECONNECT_S = 1.0  # between a robust RabbitMQ connection's tries (aio-pika: 5 s)


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    seq: int  # engine sequence number of the batch's last command
    data: dict[str, Any]


class Subscription:
    def __init__(self, topics: frozenset[str], maxsize: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = False

    async def get(self) -> Event:
        return await self.queue.get()


class InProcessBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._taps: list[Callable[[list[Event]], None]] = []

    def tap(self, listener: Callable[[list[Event]], None]) -> None:
        """Call ``listener`` with each published batch, in the publisher's call (at once
        after the commit in the engine's process): it must not block."""
        self._taps.append(listener)

    def reset(self) -> None:
        """Drop every subscription as if it had fallen behind: events were lost upstream
        (a relayed batch missing), so whatever subscribers built from them must start over."""
        for sub in self._subscriptions:
            sub.overflowed = True
        self._subscriptions.clear()

    @contextmanager
    def subscribe(self, *topics: str, maxsize: int = 100_000) -> Iterator[Subscription]:
        sub = Subscription(frozenset(topics or TOPICS), maxsize)
        self._subscriptions.append(sub)
        try:
            yield sub
        finally:
            if sub in self._subscriptions:  # an overflowing one was dropped already
                self._subscriptions.remove(sub)

    def publish(self, events: list[Event]) -> None:
        for listener in self._taps:
            listener(events)
        for sub in list(self._subscriptions):
            for event in events:
                if event.topic not in sub.topics:
                    continue
                try:
                    sub.queue.put_nowait(event)
                except asyncio.QueueFull:
                    sub.overflowed = True
                    self._subscriptions.remove(sub)
                    log.warning("bus subscriber fell behind and was dropped")
                    break
