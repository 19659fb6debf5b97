"""The mailer over RabbitMQ, with Barong's topology and a bounded retry.

::

    <event exchanges> ──(configured keys)──► barong.event.mailer.main ──(rejected)──►
    barong.event.mailer.retry.exchange (fanout) ──► barong.event.mailer.retry (TTL) ──►
    barong.event.mailer.main.exchange (fanout) ──► barong.event.mailer.main

A message is acknowledged once handled (mailed, or dropped because it is forged, expired
or not for us). A failed send is rejected, so it waits ``delay_s`` in the retry queue
and comes back; RabbitMQ counts the rejections in ``x-death``, and after ``attempts``
retries the message is dropped with an error instead of circling forever.
"""

import logging
from collections.abc import Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bursa.events.bus import AMQP_RECONNECT_S
from bursa.mailer.postmaster import Postmaster

log = logging.getLogger(__name__)

PREFIX = "barong.event.mailer"


def rejections(headers: Mapping[str, Any], queue: str) -> int:
    """How many times ``queue`` rejected this message already (RabbitMQ's ``x-death``)."""
    deaths = headers.get("x-death")
    if not isinstance(deaths, list):
        return 0
    total = 0
    for death in deaths:
        if not isinstance(death, Mapping):
            continue
        name = death.get("queue")
        reason = death.get("reason")
        name = name.decode() if isinstance(name, bytes) else name
        reason = reason.decode() if isinstance(reason, bytes) else reason
        count = death.get("count")
        if name == queue and reason == "rejected" and isinstance(count, int):
            total += count
    return total


class AmqpMailer:
    """Consumes ``<prefix>.main``; ``prefix`` is Barong's unless a test isolates itself."""

    def __init__(
        self, amqp_url: str, postmaster: Postmaster, *, prefix: str = PREFIX, prefetch: int = 16
    ) -> None:
        self.amqp_url = amqp_url
        self.postmaster = postmaster
        self.prefetch = prefetch
        self.main_exchange = f"{prefix}.main.exchange"
        self.retry_exchange = f"{prefix}.retry.exchange"
        self.main_queue = f"{prefix}.main"
        self.retry_queue = f"{prefix}.retry"
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        config = self.postmaster.config
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, reconnect_interval=AMQP_RECONNECT_S
        )
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        fanout = aio_pika.ExchangeType.FANOUT
        main_ex = await channel.declare_exchange(self.main_exchange, fanout, durable=True)
        retry_ex = await channel.declare_exchange(self.retry_exchange, fanout, durable=True)
        main = await channel.declare_queue(
            self.main_queue, durable=True, arguments={"x-dead-letter-exchange": retry_ex.name}
        )
        retry = await channel.declare_queue(
            self.retry_queue,
            durable=True,
            arguments={
                "x-dead-letter-exchange": main_ex.name,
                "x-message-ttl": round(config.retry_delay_s * 1000),
            },
        )
        await retry.bind(retry_ex)
        await main.bind(main_ex)
        for name, key in sorted({(r.exchange.name, r.key) for r in config.events}):
            exchange = await channel.declare_exchange(
                name, aio_pika.ExchangeType.DIRECT, durable=True
            )
            await main.bind(exchange, routing_key=key)
        await main.consume(self._on_message)
        log.info(
            "mailer listening on %s: %d mail(s) configured, failed sends retried every %g s"
            " up to %d times",
            self.main_queue,
            len(config.events),
            config.retry_delay_s,
            config.retry_attempts,
        )

    @property
    def connected(self) -> bool:
        """Consuming now (the robust connection is up; it reconnects by itself)."""
        return self._connection is not None and self._connection.connected.is_set()

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        exchange = message.exchange or ""
        if exchange == self.main_exchange:  # back from the retry queue
            first = headers.get("x-first-death-exchange")
            exchange = first.decode() if isinstance(first, bytes) else str(first or "")
        try:
            await self.postmaster.handle(exchange, message.routing_key or "", message.body)
        except Exception as exc:
            tried = rejections(headers, self.main_queue)
            attempts = self.postmaster.config.retry_attempts
            if tried >= attempts:
                log.error(
                    "giving up on event %s after %d retries: %s", message.message_id, tried, exc
                )
                await message.ack()
                return
            log.warning(
                "event %s not mailed (%s): retry %d of %d in %g s",
                message.message_id,
                exc,
                tried + 1,
                attempts,
                self.postmaster.config.retry_delay_s,
            )
            await message.reject(requeue=False)
            return
        await message.ack()
