"""The in-process event bus: committed engine results fan out to subscribers.

Used within one process (streams, candles). Without RabbitMQ the Event API relay also
delivers its signed envelopes here, on topic ``event_api``. A slow subscriber never blocks
the publisher: each subscription is a bounded queue, and an overflowing one is dropped with
a warning.
"""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ORDER = "order"
TRADE = "trade"
BALANCE = "balance"
BOOK = "book"
TOPICS = (ORDER, TRADE, BALANCE, BOOK)


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
