"""The relay: publishes the outbox's events in order, each as stored, at least once.

One relay at a time holds a PostgreSQL advisory lock and works through unpublished rows
in id order; an engine batch's row is expanded into its events here, off the engine's
commit path (``bursa.events.engine_batch``). A row is marked published only after
RabbitMQ confirmed every one of its events (publisher confirms, persistent messages), so
a crash or an outage delays events, never loses them; a re-published event keeps its id
(expanding a row always gives the same events in the same order), and consumers dedupe
by it. Without RabbitMQ (the embedded default) the same envelopes go to the in-process
bus.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from bursa.db.outage import OutageLog, raise_if_closed
from bursa.events.bus import AMQP_RECONNECT_S, Event, InProcessBus
from bursa.events.engine_batch import Directory, documents_of
from bursa.events.keys import EventKeys
from bursa.events.outbox import backlog
from bursa.events.wire import EVENT_API_TOPIC, EXCHANGES, Message, messages_of
from bursa.metrics.events import (
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    PUBLISH_FAILURES,
    RELAY_ACTIVE,
)

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x6275_7273_6576  # "bursev": one publishing relay per database
FIRST_BACKOFF_S = 0.5  # then doubled after each failure in a row, up to MAX_BACKOFF_S
# RabbitMQ or PostgreSQL away: follow them within seconds of their return.
MAX_BACKOFF_S = 2.0
# Anything else (a row it cannot sign…) needs a person: try again, but seldom.
STUCK_BACKOFF_S = 30.0
PRUNE_EVERY_S = 60.0


class SinkDown(Exception):
    """The destination refused or did not confirm: the row stays unpublished."""


class Sink(Protocol):
    async def publish(self, messages: Sequence[Message]) -> None: ...

    async def close(self) -> None: ...


class BusSink:
    """In-process delivery (no ``BURSA_AMQP_URL``): topic ``event_api`` of the bus."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    async def publish(self, messages: Sequence[Message]) -> None:
        self.bus.publish(
            [
                Event(
                    EVENT_API_TOPIC,
                    m.row_id,
                    {
                        "exchange": m.exchange,
                        "routing_key": m.routing_key,
                        "id": m.id,
                        "body": m.body.decode(),
                    },
                )
                for m in messages
            ]
        )

    async def close(self) -> None:
        return None


async def declare_exchanges(channel: AbstractChannel) -> dict[str, AbstractExchange]:
    return {
        name: await channel.declare_exchange(name, aio_pika.ExchangeType.DIRECT, durable=True)
        for name in EXCHANGES
    }


class AmqpSink:
    """RabbitMQ with publisher confirms: ``publish`` returns once the broker has taken
    every message (persistent, on durable exchanges)."""

    def __init__(self, url: str, *, confirm_timeout_s: float = 10.0) -> None:
        self.url = url
        self.confirm_timeout_s = confirm_timeout_s
        self._connection: AbstractRobustConnection | None = None
        self._exchanges: dict[str, AbstractExchange] = {}

    async def _open(self) -> None:
        if self._connection is None:
            self._connection = await aio_pika.connect_robust(
                self.url, timeout=5, reconnect_interval=AMQP_RECONNECT_S
            )
        if not self._exchanges:
            channel = await self._connection.channel(publisher_confirms=True)
            self._exchanges = await declare_exchanges(channel)

    async def publish(self, messages: Sequence[Message]) -> None:
        try:
            await self._open()
            await asyncio.gather(
                *(
                    self._exchanges[m.exchange].publish(
                        aio_pika.Message(
                            m.body,
                            message_id=m.id,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=m.routing_key,
                        mandatory=False,  # no queue bound: the broker drops it, as Peatio's
                        timeout=self.confirm_timeout_s,
                    )
                    for m in messages
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.close()  # start afresh: a half-open channel must not linger
            raise SinkDown(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
            self._exchanges = {}


class Relay:
    """Publishes the outbox (see the module's docstring); ``start`` / ``stop``."""

    def __init__(
        self,
        database_url: str,
        sink: Sink,
        keys: EventKeys,
        *,
        ttl_s: int = 3600,
        rows_per_step: int = 100,
        poll_s: float = 0.1,
        keep: timedelta = timedelta(hours=24),
        backlog_every_s: float = 5.0,
    ) -> None:
        """``backlog_every_s``: how often the outbox's backlog is read for the metrics."""
        self.database_url = database_url
        self.sink = sink
        self.keys = keys
        self.ttl_s = ttl_s
        self.rows_per_step = rows_per_step
        self.poll_s = poll_s
        self.keep = keep
        self.published = 0  # events confirmed since start
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._directory = Directory()  # uids and market units for engine rows
        self.backlog_every_s = backlog_every_s
        self._backlog_task: asyncio.Task[None] | None = None
        self.connected = False  # to PostgreSQL: publishing or standing by (ready either way)
        self.active = False  # holding the lock: publishing
        self._outage = OutageLog(
            "event relay", log, meanwhile="events wait in the outbox; trying again shortly"
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-relay")
        self._backlog_task = asyncio.create_task(self._watch_backlog(), name="outbox-backlog")

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        if self._backlog_task is not None:
            self._backlog_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._backlog_task
            self._backlog_task = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.sink.close()

    async def _run(self) -> None:
        """Serve for ever: any failure (cancellation is no failure) is tried again after
        a growing delay, at most ``MAX_BACKOFF_S`` while PostgreSQL is away (told once per
        outage). A row it cannot sign (a key missing, …) stays first in line, so nothing
        after it is published out of order, and the log says why at each try."""
        delay = FIRST_BACKOFF_S
        published = self.published
        while True:
            try:
                await self._serve()
            except Exception as exc:
                if self.published != published:  # it worked for a while: start afresh
                    delay, published = FIRST_BACKOFF_S, self.published
                if self._outage.failed(exc):  # told once per outage
                    delay = min(delay, MAX_BACKOFF_S)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF_S)
                else:
                    log.error("event relay failed; retrying in %.1f s", delay, exc_info=exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, STUCK_BACKOFF_S)

    async def _serve(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        self.connected = True
        self._outage.succeeded()
        try:
            waited = 0
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY):
                if waited % 60 == 0:
                    log.info("another event relay is publishing; standing by")
                await asyncio.sleep(1.0)
                waited += 1
            log.info("event relay publishing the outbox")
            self.active = True
            RELAY_ACTIVE.set(1)
            await self._publish_loop(conn)
        except Exception as exc:
            raise_if_closed(exc, conn)  # the server went away under it
            raise
        finally:
            self.connected = self.active = False
            RELAY_ACTIVE.set(0)
            with contextlib.suppress(Exception):
                await conn.close()

    async def _publish_loop(self, conn: asyncpg.Connection) -> None:
        pruned = 0.0
        while True:
            retrying = _backoff(SinkDown, _log_sink_down)
            done: int = await retrying(self.step, conn)
            if retrying.statistics["attempt_number"] > 1:
                log.info("event relay publishing again")
            if time.monotonic() - pruned > PRUNE_EVERY_S:
                await self.prune(conn)
                pruned = time.monotonic()
            if done < self.rows_per_step:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self._wake.wait()

    async def step(self, conn: asyncpg.Connection) -> int:
        """Publish up to ``rows_per_step`` rows, one row at a time, in id order."""
        rows = await conn.fetch(
            "SELECT id, created_at, events FROM event_outbox WHERE published_at IS NULL"
            " ORDER BY id LIMIT $1",
            self.rows_per_step,
        )
        for row in rows:
            messages = messages_of(
                row["id"],
                row["created_at"],
                await documents_of(conn, orjson.loads(row["events"]), self._directory),
                self.keys,
                self.ttl_s,
                int(time.time()),
            )
            try:
                await self.sink.publish(messages)
            except SinkDown:
                PUBLISH_FAILURES.inc()
                raise
            for exchange, count in Counter(m.exchange for m in messages).items():
                EVENTS_PUBLISHED.labels(exchange).inc(count)
            await conn.execute(
                "UPDATE event_outbox SET published_at = now() WHERE id = $1", row["id"]
            )
            self.published += len(messages)
        return len(rows)

    async def _watch_backlog(self) -> None:
        """Read the outbox's backlog for the metrics every ``backlog_every_s``, on a
        connection of its own: it goes on while publishing waits for RabbitMQ, and on a
        relay standing by. Losing PostgreSQL is logged by the publishing side."""
        conn: asyncpg.Connection | None = None
        try:
            while True:
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self.database_url, timeout=5)
                    waiting = await backlog(conn)
                    OUTBOX_BACKLOG.set(waiting.rows)
                    OUTBOX_OLDEST_AGE.set(waiting.oldest_age_s)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    if conn is not None:
                        conn.terminate()
                    conn = None
                await asyncio.sleep(self.backlog_every_s)
        finally:
            if conn is not None:
                conn.terminate()

    async def prune(self, conn: asyncpg.Connection) -> None:
        """Forget rows published longer ago than ``keep``."""
        await conn.execute(
            "DELETE FROM event_outbox WHERE published_at < now() - $1::interval", self.keep
        )


def _backoff(on: type[BaseException], logged: Callable[[RetryCallState], None]) -> AsyncRetrying:
    """Try again for ever on ``on``, after 0.5 s, 1 s, 2 s, … up to ``MAX_BACKOFF_S``."""
    return AsyncRetrying(
        retry=retry_if_exception_type(on),
        wait=wait_exponential(multiplier=FIRST_BACKOFF_S, max=MAX_BACKOFF_S),
        before_sleep=logged,
    )


def _failure(state: RetryCallState) -> tuple[BaseException | None, float]:
    """The exception that failed the attempt, and the seconds until the next one."""
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc, state.upcoming_sleep


def _log_sink_down(state: RetryCallState) -> None:
    """The first failure of an outage, at warning; the next tries only at debug."""
    exc, wait = _failure(state)
    log.log(
        logging.WARNING if state.attempt_number == 1 else logging.DEBUG,
        "event relay cannot publish (%s): events wait in the outbox, nothing is lost;"
        " retrying in %.1f s — check that RabbitMQ runs and that BURSA_AMQP_URL points at it",
        exc,
        wait,
    )
