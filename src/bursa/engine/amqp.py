"""Commands to the engine over RabbitMQ, with replies: how other processes reach it.

The engine consumes a durable queue of persistent messages and acknowledges each message
only after the batch holding its command is committed, then replies to the message's
``reply_to`` with the committed result. If the engine dies first, RabbitMQ redelivers the
message to the next engine, whose idempotency keys turn a repeat into the first result:
every command is applied exactly once.

Message body: ``{"kind": <command kind>, "payload": {<command fields>}}``, with
``"facts": true`` when the caller wants the order's facts in the answer
(``bursa.engine.answers``). A sender that gives up after a while (an API process's
timeout) sets the message's expiration and a ``deadline_us`` header (µs since the epoch):
a command still queued then is dropped unapplied, never placed minutes after its caller
was told 503.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, FieldValue

from bursa.engine.commands import Command, command_from_payload
from bursa.engine.persistence import command_payload, dump_json, load_json
from bursa.engine.runner import EngineRunner
from bursa.events.bus import AMQP_RECONNECT_S

log = logging.getLogger(__name__)

COMMAND_QUEUE = "bursa.engine.commands"
REQUEUE_PAUSE_S = 0.5  # before a command the engine cannot take now goes back to the queue
EXPIRED = "engine.command.expired"  # delivered after its sender's deadline: not applied


class EngineConsumer:
    """Feeds the runner from the command queue; replies and acks after each commit."""

    def __init__(
        self,
        amqp_url: str,
        runner: EngineRunner,
        *,
        queue: str = COMMAND_QUEUE,
        prefetch: int = 5000,
    ) -> None:
        self.amqp_url = amqp_url
        self.runner = runner
        self.queue_name = queue
        self.prefetch = prefetch
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, reconnect_interval=AMQP_RECONNECT_S
        )
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=self.prefetch)
        queue = await self._channel.declare_queue(self.queue_name, durable=True)
        await queue.consume(self._on_message)
        log.info("engine consuming commands from %s", self.queue_name)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            body = load_json(message.body.decode())
            command = command_from_payload(body["kind"], body["payload"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("rejecting malformed engine command: %s", exc)
            await self._reply(message, {"error": "engine.command.malformed"})
            await message.reject(requeue=False)
            return
        deadline = (message.headers or {}).get("deadline_us")
        if isinstance(deadline, int) and time.time_ns() // 1000 > deadline:
            await self._reply(message, {"error": EXPIRED})
            await message.ack()
            return
        if not self.runner.running:  # standing down (database away) or stopping
            await asyncio.sleep(REQUEUE_PAUSE_S)  # not a tight redelivery loop meanwhile
            await message.nack(requeue=True)
            return
        # Through ``submit`` (a task per command, started in arrival order) for the facts.
        future = asyncio.ensure_future(self.runner.submit(command, facts=body.get("facts") is True))
        future.add_done_callback(lambda done: asyncio.ensure_future(self._answer(message, done)))

    async def _answer(
        self, message: AbstractIncomingMessage, future: "asyncio.Future[dict[str, Any]]"
    ) -> None:
        if future.cancelled() or future.exception() is not None:
            # Not committed: back to the queue, for this engine once it has recovered (its
            # idempotency key makes a repeat the first result) or for the next one.
            await asyncio.sleep(REQUEUE_PAUSE_S)
            with contextlib.suppress(aio_pika.exceptions.AMQPError, RuntimeError):
                await message.nack(requeue=True)
            return
        await self._reply(message, future.result())
        await message.ack()

    async def _reply(self, message: AbstractIncomingMessage, result: dict[str, Any]) -> None:
        if not message.reply_to or self._channel is None:
            return
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                dump_json(result).encode(),
                correlation_id=message.correlation_id,
                content_type="application/json",
            ),
            routing_key=message.reply_to,
        )


class EngineClient:
    """Sends commands to a remote engine and awaits their committed results."""

    def __init__(self, amqp_url: str, *, queue: str = COMMAND_QUEUE) -> None:
        self.amqp_url = amqp_url
        self.queue_name = queue
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._reply_queue: aio_pika.abc.AbstractQueue | None = None
        self._command_queue: aio_pika.abc.AbstractQueue | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.amqp_url, reconnect_interval=AMQP_RECONNECT_S
        )
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._command_queue = await self._channel.declare_queue(self.queue_name, durable=True)
        self._reply_queue = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await self._reply_queue.consume(self._on_reply, no_ack=True)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def engines(self) -> int:
        """How many engines consume the command queue now (the active one, if any)."""
        assert self._command_queue is not None
        declared = await self._command_queue.declare()  # again: the counts of now
        return int(declared.consumer_count or 0)

    async def send(
        self, command: Command, *, facts: bool = False, ttl_s: float | None = None
    ) -> "asyncio.Future[dict[str, Any]]":
        """Publish (confirmed by RabbitMQ, persistent) and return the future of the reply.

        With ``ttl_s`` the engine drops the command unapplied if it gets it only later."""
        assert self._channel is not None
        assert self._reply_queue is not None
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        # A caller that stops waiting (a timeout) cancels the future: forget it then too.
        future.add_done_callback(lambda _: self._pending.pop(correlation_id, None))
        message: dict[str, Any] = {"kind": command.kind, "payload": command_payload(command)}
        if facts:
            message["facts"] = True
        headers: dict[str, FieldValue] | None = None
        if ttl_s is not None:
            headers = {"deadline_us": time.time_ns() // 1000 + int(ttl_s * 1_000_000)}
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                dump_json(message).encode(),
                correlation_id=correlation_id,
                reply_to=self._reply_queue.name,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type="application/json",
                expiration=ttl_s,
                headers=headers,
            ),
            routing_key=self.queue_name,
        )
        return future

    async def submit(self, command: Command) -> dict[str, Any]:
        return await (await self.send(command))

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(load_json(message.body.decode()))
