"""The mailer inside ``bursa up``: the same envelopes, from the in-process bus.

The relay puts every published event on topic ``event_api`` as
``{"exchange", "routing_key", "id", "body"}``. A failed send is tried again after the
configured delay, at most the configured number of times, without holding up the events
behind it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from bursa.events.bus import InProcessBus, Subscription
from bursa.mailer.postmaster import Postmaster

log = logging.getLogger(__name__)

TOPIC = "event_api"


class InProcessMailer:
    def __init__(self, bus: InProcessBus, postmaster: Postmaster) -> None:
        self.bus = bus
        self.postmaster = postmaster
        self._stack = contextlib.ExitStack()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        subscription = self._stack.enter_context(self.bus.subscribe(TOPIC))
        self._reader = asyncio.create_task(self._read(subscription))
        log.info(
            "mailer listening on the in-process bus: %d mail(s) configured",
            len(self.postmaster.config.events),
        )

    async def stop(self) -> None:
        for task in [self._reader, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in [self._reader, *self._tasks] if t is not None), return_exceptions=True
        )
        self._stack.close()

    async def _read(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.get()
            await self._deliver(event.data, 0)

    async def _deliver(self, data: Mapping[str, Any], tried: int) -> None:
        try:
            await self.postmaster.handle(
                str(data.get("exchange", "")),
                str(data.get("routing_key", "")),
                data.get("body") or b"",
            )
        except Exception as exc:
            config = self.postmaster.config
            if tried >= config.retry_attempts:
                log.error("giving up on event %s after %d retries: %s", data.get("id"), tried, exc)
                return
            log.warning(
                "event %s not mailed (%s): retry %d of %d in %g s",
                data.get("id"),
                exc,
                tried + 1,
                config.retry_attempts,
                config.retry_delay_s,
            )
            task = asyncio.create_task(self._later(data, tried + 1))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _later(self, data: Mapping[str, Any], tried: int) -> None:
        await asyncio.sleep(self.postmaster.config.retry_delay_s)
        await self._deliver(data, tried)
