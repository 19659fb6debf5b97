"""Consuming the Event API: verify, dedupe, dispatch — over RabbitMQ or in process.

A listener names the (exchange, routing key) pairs it wants and an async handler
``handler(event, meta)``. Every envelope must verify with the configured public keys and
be signed by the key of the application that owns its exchange (kid ``peatio`` for
``peatio.events.*``); an expired or invalid one is logged and dropped. Events are
deduplicated by id (the relay publishes at least once). A handler that fails is retried a
bounded number of times (Peatio's listeners requeue forever); then the message is
dead-lettered to ``bursa.events.dead`` (RabbitMQ) or logged as dropped (in process).

Custom listeners are ``EventListener`` objects registered as Python entry points in group
``bursa.event_listeners``; ``bursa events listen`` runs them.
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from bursa.events.bus import AMQP_RECONNECT_S, InProcessBus
from bursa.events.relay import declare_exchanges
from bursa.events.wire import EVENT_API_TOPIC
from bursa.signing import multisig
from bursa.signing.multisig import MultisigError, VerifyKey

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "bursa.event_listeners"
DEAD_LETTER_EXCHANGE = "bursa.events.dead"


@dataclass(frozen=True, slots=True)
class Meta:
    id: str
    exchange: str
    routing_key: str
    signers: frozenset[str]
    claims: dict[str, Any]


Handler = Callable[[dict[str, Any], Meta], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EventListener:
    """What an installed listener declares: its name, what it binds, what it runs."""

    name: str
    bindings: tuple[tuple[str, str], ...]  # (exchange, routing key)
    handler: Handler

    def wants(self, exchange: str, routing_key: str) -> bool:
        return (exchange, routing_key) in self.bindings


class Rejected(Exception):
    """An envelope that must be dropped (bad or expired signature, wrong signer, …)."""


@dataclass
class Verifier:
    """Checks envelopes against the public keys of Peatio and Barong."""

    keychain: Mapping[str, VerifyKey]
    leeway_s: int = 30

    def open(
        self, body: bytes | str, exchange: str, routing_key: str
    ) -> tuple[dict[str, Any], Meta]:
        app = exchange.split(".", 1)[0]
        try:
            envelope = orjson.loads(body)
            verified = multisig.verify(envelope, self.keychain, leeway_s=self.leeway_s)
        except (MultisigError, orjson.JSONDecodeError) as exc:
            raise Rejected(str(exc)) from exc
        claims = verified.claims
        if app not in verified.signers or claims.get("iss") != app:
            raise Rejected(f"not signed by {app}")
        event = claims.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("name"), str):
            raise Rejected("no event in the claims")
        meta = Meta(str(claims["jti"]), exchange, routing_key, verified.signers, claims)
        return event, meta


@dataclass
class Seen:
    """The ids handled recently (bounded: the oldest are forgotten first)."""

    size: int = 100_000
    _ids: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)


class Dispatcher:
    """Verification, deduplication and bounded retries, shared by both transports."""

    def __init__(self, listener: EventListener, verifier: Verifier, *, retries: int = 5) -> None:
        self.listener = listener
        self.verifier = verifier
        self.retries = retries
        self.seen = Seen()
        self.failures: dict[str, int] = {}

    async def handle(self, body: bytes | str, exchange: str, routing_key: str) -> bool | None:
        """True: done (ack); None: failed, retry; False: failed too often, dead-letter."""
        try:
            event, meta = self.verifier.open(body, exchange, routing_key)
        except Rejected as exc:
            log.warning(
                "listener %s dropped an event on %s/%s: %s",
                self.listener.name,
                exchange,
                routing_key,
                exc,
            )
            return True
        if meta.id in self.seen:
            return True
        try:
            await self.listener.handler(event, meta)
        except Exception:
            count = self.failures.get(meta.id, 0) + 1
            self.failures[meta.id] = count
            log.exception(
                "listener %s failed on %s (%s), attempt %d of %d",
                self.listener.name,
                event["name"],
                meta.id,
                count,
                self.retries,
            )
            if count >= self.retries:
                self.failures.pop(meta.id, None)
                return False
            return None
        self.failures.pop(meta.id, None)
        self.seen.add(meta.id)
        return True


def installed(name: str | None = None) -> list[EventListener]:
    """The listeners registered in entry point group ``bursa.event_listeners``."""
    found: list[EventListener] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if name is not None and point.name != name:
            continue
        listener = point.load()
        if not isinstance(listener, EventListener):
            raise TypeError(f"entry point {point.name} is not an EventListener")
        found.append(listener)
    return found


class AmqpListener:
    """One durable queue per listener (``bursa.listener.<name>``), bound to its pairs:
    the processes running it share the work and nothing is lost while none runs.

    ``per_process``: each process gets every event on its own exclusive queue, deleted
    when it disconnects (live feeds, such as the websocket streams each API process
    serves to its own clients: no dead letters, nothing kept for later)."""

    def __init__(
        self,
        url: str,
        listener: EventListener,
        verifier: Verifier,
        *,
        retries: int = 5,
        retry_delay_s: float = 1.0,
        queue: str | None = None,
        per_process: bool = False,
    ) -> None:
        self.url = url
        self.per_process = per_process
        self.dispatcher = Dispatcher(listener, verifier, retries=retries)
        self.retry_delay_s = retry_delay_s
        self.queue_name = queue or f"bursa.listener.{listener.name}"
        self._connection: AbstractRobustConnection | None = None

    @property
    def connected(self) -> bool:
        """Consuming now (a robust connection reconnects by itself after a broker restart)."""
        return self._connection is not None and not self._connection.is_closed

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self.url, reconnect_interval=AMQP_RECONNECT_S
        )
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=50)
        exchanges = await declare_exchanges(channel)
        if self.per_process:  # named by the server
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        else:
            dead = await channel.declare_exchange(
                DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
            )
            dead_queue = await channel.declare_queue(f"{self.queue_name}.dead", durable=True)
            await dead_queue.bind(dead)
            queue = await channel.declare_queue(
                self.queue_name,
                durable=True,
                arguments={"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE},
            )
        for exchange, key in self.dispatcher.listener.bindings:
            await queue.bind(exchanges[exchange], key)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        outcome = await self.dispatcher.handle(
            message.body, message.exchange or "", message.routing_key or ""
        )
        if outcome is True:
            await message.ack()
        elif outcome is None:
            await asyncio.sleep(self.retry_delay_s)
            await message.nack(requeue=True)
        else:
            await message.reject(requeue=False)  # to the dead-letter queue, if it has one

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


class BusListener:
    """The same listener fed by the in-process bus (embedded default)."""

    def __init__(
        self,
        bus: InProcessBus,
        listener: EventListener,
        verifier: Verifier,
        *,
        retries: int = 5,
        retry_delay_s: float = 1.0,
    ) -> None:
        self.bus = bus
        self.dispatcher = Dispatcher(listener, verifier, retries=retries)
        self.retry_delay_s = retry_delay_s
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-listener")
        await self._ready.wait()

    async def _run(self) -> None:
        listener = self.dispatcher.listener
        while True:
            with self.bus.subscribe(EVENT_API_TOPIC) as subscription:
                self._ready.set()
                while not subscription.overflowed:
                    data = (await subscription.get()).data
                    if listener.wants(data["exchange"], data["routing_key"]):
                        await self._deliver(data)
            log.warning("listener %s fell behind the bus; events were missed", listener.name)

    async def _deliver(self, data: dict[str, Any]) -> None:
        while True:
            outcome = await self.dispatcher.handle(
                data["body"], data["exchange"], data["routing_key"]
            )
            if outcome is True:
                return
            if outcome is False:
                log.error(
                    "listener %s gave up on event %s", self.dispatcher.listener.name, data["id"]
                )
                return
            await asyncio.sleep(self.retry_delay_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def keychain_of(pems: Iterable[tuple[str, str]]) -> dict[str, VerifyKey]:
    """Public keys by kid (PEM or Base64 of a PEM)."""
    return {kid: multisig.verify_key(kid, "RS256", pem) for kid, pem in pems}
