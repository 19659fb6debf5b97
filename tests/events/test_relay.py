"""The relay and listeners over a real RabbitMQ and PostgreSQL, and in process: every
committed event arrives once, in order, signed by its application's key; a rolled-back
one never; a broker outage loses nothing."""

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.db.session import create_engine
from bursa.events.bus import Event, InProcessBus
from bursa.events.keys import EventKeys
from bursa.events.listener import (
    AmqpListener,
    BusListener,
    EventListener,
    Meta,
    Verifier,
    keychain_of,
)
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.relay import AmqpSink, BusSink, Relay
from bursa.events.wire import EVENT_API_TOPIC
from bursa.signing import multisig
from tests.signing.keys import rsa_pem

KEYS = EventKeys.of_pems({"peatio": rsa_pem("peatio")[0], "barong": rsa_pem("barong")[0]})
VERIFIER = Verifier(
    keychain_of([("peatio", rsa_pem("peatio")[1]), ("barong", rsa_pem("barong")[1])])
)


class Received:
    """A handler that records what it is given."""

    def __init__(self) -> None:
        self.events: list[tuple[dict[str, Any], Meta]] = []
        self.changed = asyncio.Event()

    async def __call__(self, event: dict[str, Any], meta: Meta) -> None:
        self.events.append((event, meta))
        self.changed.set()

    async def until(self, count: int, within_s: float = 20.0) -> None:
        async with asyncio.timeout(within_s):
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()


def user_event(n: int) -> DomainEvent:
    return DomainEvent("barong", "model.user.created", {"uid": f"ID{n:010d}", "n": n})


@pytest.fixture
async def database(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    yield engine
    await engine.dispose()


async def commit(database: AsyncEngine, *events: DomainEvent) -> None:
    async with database.begin() as conn:
        await enqueue(conn, list(events))


async def test_in_process_delivery_once_in_order_signed(
    fresh_database_url: str, database: AsyncEngine
) -> None:
    bus = InProcessBus()
    received = Received()
    listener = BusListener(
        bus,
        EventListener("test", (("barong.events.model", "user.created"),), received),
        VERIFIER,
    )
    relay = Relay(fresh_database_url, BusSink(bus), KEYS, poll_s=0.02)
    with bus.subscribe(EVENT_API_TOPIC) as raw:
        await listener.start()
        await relay.start()
        try:
            await commit(database, user_event(1), user_event(2))
            with contextlib.suppress(RuntimeError):
                async with database.begin() as conn:
                    await enqueue(conn, [user_event(99)])
                    raise RuntimeError("rolled back")
            await commit(
                database,
                DomainEvent("peatio", "market.btcusdt.trade_completed", {"id": 7, "price": "1"}),
            )
            await commit(database, user_event(3))
            await received.until(3)
            first = raw.queue.get_nowait()
            bus.publish([first])  # delivered twice: handled once
            await asyncio.sleep(0.1)
        finally:
            await relay.stop()
            await listener.stop()
    assert [e["record"]["n"] for e, _ in received.events] == [1, 2, 3]
    assert len({meta.id for _, meta in received.events}) == 3
    data = first.data
    assert (data["exchange"], data["routing_key"]) == ("barong.events.model", "user.created")
    verified = multisig.verify(orjson.loads(data["body"]), {"barong": VERIFIER.keychain["barong"]})
    assert verified.signers == {"barong"}
    claims = verified.claims
    assert claims["iss"] == "barong" and claims["jti"] == data["id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["event"] == {
        "name": "model.user.created",
        "record": {"uid": "ID0000000001", "n": 1},
    }


async def test_a_forged_or_foreign_envelope_is_dropped() -> None:
    bus = InProcessBus()
    received = Received()
    listener = BusListener(
        bus,
        EventListener("test", (("barong.events.model", "user.created"),), received),
        VERIFIER,
    )
    await listener.start()
    try:
        # Peatio's key signing a Barong event: verified, but not by Barong
        wrong = multisig.sign(
            {"iss": "barong", "jti": "x", "iat": 0, "exp": 2**40, "event": {"name": "n"}},
            KEYS.signers["peatio"],
        )
        expired = multisig.sign(
            {"iss": "barong", "jti": "y", "iat": 0, "exp": 1, "event": {"name": "n"}},
            KEYS.signers["barong"],
        )
        for jti, body in (("x", wrong), ("y", expired)):
            bus.publish(
                [
                    Event(
                        EVENT_API_TOPIC,
                        0,
                        {
                            "exchange": "barong.events.model",
                            "routing_key": "user.created",
                            "id": jti,
                            "body": orjson.dumps(body).decode(),
                        },
                    )
                ]
            )
        await asyncio.sleep(0.2)
    finally:
        await listener.stop()
    assert received.events == []


class Proxy:
    """A TCP proxy between the relay and RabbitMQ that can be cut (the broker is shared
    with other test runs on this machine, so the test does not stop it)."""

    def __init__(self, port: int = 5672) -> None:
        self.target = port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        if self._server is None:
            await self.start()


async def test_over_rabbitmq_an_outage_loses_nothing(
    fresh_database_url: str, database: AsyncEngine, amqp_url: str
) -> None:
    proxy = Proxy()
    await proxy.start()
    relayed_url = amqp_url.replace(":5672", f":{proxy.port}")
    assert relayed_url != amqp_url
    received = Received()
    queue = f"bursa.test.{fresh_database_url.rsplit('/', 1)[1]}"
    listener = AmqpListener(
        amqp_url,
        EventListener(
            "test",
            (
                ("barong.events.model", "user.created"),
                ("peatio.events.market", "btcusdt.trade_completed"),
            ),
            received,
        ),
        VERIFIER,
        queue=queue,
    )
    await listener.start()
    relay = Relay(fresh_database_url, AmqpSink(relayed_url), KEYS, poll_s=0.02)
    await relay.start()
    try:
        for n in range(10):
            await commit(database, user_event(n))
        await received.until(5)
        await proxy.cut()  # RabbitMQ unreachable for the relay, mid-stream
        for n in range(10, 20):
            await commit(database, user_event(n))
        await asyncio.sleep(1.0)
        await proxy.restore()
        await commit(
            database,
            DomainEvent("peatio", "market.btcusdt.trade_completed", {"id": 1, "price": "2.5"}),
        )
        await received.until(21, within_s=30)
        await asyncio.sleep(0.3)  # anything more (a duplicate) would show now
    finally:
        await proxy.restore()
        await relay.stop()
        await listener.stop()
        await cleanup(amqp_url, queue)
    names = [(e["name"], e.get("record", {}).get("n")) for e, _ in received.events]
    assert names == [("model.user.created", n) for n in range(20)] + [
        ("market.btcusdt.trade_completed", None)
    ]
    trade, meta = received.events[-1]
    assert trade == {"name": "market.btcusdt.trade_completed", "id": 1, "price": "2.5"}
    assert (meta.exchange, meta.routing_key) == ("peatio.events.market", "btcusdt.trade_completed")
    assert meta.signers == {"peatio"}
    assert len({m.id for _, m in received.events}) == 21


async def cleanup(url: str, queue: str) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.queue_delete(f"{queue}.dead")
    finally:
        await connection.close()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


async def _broker_back(url: str, within_s: float = 60.0) -> None:
    async with asyncio.timeout(within_s):
        while True:
            try:
                connection = await aio_pika.connect(url)
            except (OSError, aio_pika.exceptions.AMQPError):
                await asyncio.sleep(0.5)
                continue
            await connection.close()
            return


@pytest.mark.stops_rabbitmq
async def test_stopping_rabbitmq_itself_loses_nothing(
    fresh_database_url: str, database: AsyncEngine, amqp_url: str
) -> None:
    """The broker's application is stopped mid-stream (``rabbitmqctl stop_app``) and
    started again: what was committed meanwhile arrives once, in order."""
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        reason = "stopping the broker needs rabbitmqctl and root"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    received = Received()
    queue = f"bursa.test.stop.{fresh_database_url.rsplit('/', 1)[1]}"
    listener = AmqpListener(
        amqp_url,
        EventListener("test", (("barong.events.model", "user.created"),), received),
        VERIFIER,
        queue=queue,
    )
    await listener.start()
    relay = Relay(fresh_database_url, AmqpSink(amqp_url), KEYS, poll_s=0.02)
    await relay.start()
    stopped = False
    try:
        for n in range(5):
            await commit(database, user_event(n))
        await received.until(5)
        await asyncio.to_thread(_rabbitmqctl, "stop_app")
        stopped = True
        for n in range(5, 15):
            await commit(database, user_event(n))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_rabbitmqctl, "start_app")
        stopped = False
        await _broker_back(amqp_url)
        await received.until(15, within_s=60)
        await asyncio.sleep(0.3)  # a duplicate would show now
    finally:
        if stopped:
            await asyncio.to_thread(_rabbitmqctl, "start_app")
            await _broker_back(amqp_url)
        await relay.stop()
        await listener.stop()
        await cleanup(amqp_url, queue)
    assert [e["record"]["n"] for e, _ in received.events] == list(range(15))
    assert len({m.id for _, m in received.events}) == 15
