"""Commands to the engine over RabbitMQ, with replies: how other processes reach it.

The engine consumes a durable queue of persistent messages and acknowledges each message
only after the batch holding its command is committed, then replies to the message's
``reply_to`` with the committed result. If the engine dies first, RabbitMQ redelivers the
message to the next engine, whose idempotency keys turn a repeat into the first result:
every command is applied exactly once.

Message body: ``{"kind": <command kind>, "payload": {<command fields>}}``.
"""

import asyncio
import logging
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bursa.engine.commands import Command, command_from_payload
from bursa.engine.persistence import command_payload, dump_json, load_json
from bursa.engine.runner import EngineRunner, EngineStopped

log = logging.getLogger(__name__)

COMMAND_QUEUE = "bursa.engine.commands"


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
        self._connection = await aio_pika.connect_robust(self.amqp_url)
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
        try:
            future = self.runner.offer(command)
        except EngineStopped:
            await message.nack(requeue=True)
            return
        future.add_done_callback(lambda done: asyncio.ensure_future(self._answer(message, done)))

    async def _answer(
        self, message: AbstractIncomingMessage, future: "asyncio.Future[dict[str, Any]]"
    ) -> None:
        if future.exception() is not None:
            # Not committed: leave it to be redelivered to the engine that recovers.
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

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        await self._channel.declare_queue(self.queue_name, durable=True)
        self._reply_queue = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await self._reply_queue.consume(self._on_reply, no_ack=True)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def send(self, command: Command) -> "asyncio.Future[dict[str, Any]]":
        """Publish (confirmed by RabbitMQ, persistent) and return the future of the reply."""
        assert self._channel is not None
        assert self._reply_queue is not None
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        body = dump_json({"kind": command.kind, "payload": command_payload(command)})
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                body.encode(),
                correlation_id=correlation_id,
                reply_to=self._reply_queue.name,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type="application/json",
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
