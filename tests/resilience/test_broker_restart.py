"""RabbitMQ killed and started again: the Event API relay publishes the backlog within
seconds of the broker's return (not after a backoff of up to 30 s), says so once in its
log, and loses or doubles nothing.

The broker is a private node this test kills (``servers.PrivateRabbitMQ``), never the
machine's shared one; the outbox is in a fresh database of the shared PostgreSQL.
"""

import asyncio
import base64
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import orjson
import pytest

from bursa.db.session import create_engine
from bursa.events.keys import EventKeys
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.relay import AmqpSink, Relay, declare_exchanges
from tests.resilience.servers import PrivateRabbitMQ
from tests.signing.keys import rsa_pem

QUEUE = "bursa.test.resilience"
OUTAGE_S = 12.0  # a backoff growing to 30 s would wait from 15.5 s to 31.5 s after the kill
FOLLOW_LIMIT_S = 5.0  # "a reconnect should follow the broker within a few seconds"

IN_CI = os.environ.get("CI", "").lower() == "true"

pytestmark = pytest.mark.slow


@pytest.fixture
async def broker() -> AsyncIterator[PrivateRabbitMQ]:
    if shutil.which("rabbitmq-server", path="/usr/lib/rabbitmq/bin") is None:
        reason = "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    node = PrivateRabbitMQ()
    try:
        await asyncio.to_thread(node.start)
        yield node
    finally:
        await asyncio.to_thread(node.close)


async def bind_queue(url: str) -> None:
    """A durable queue for ``user.created``: it keeps what the broker confirmed."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        exchanges = await declare_exchanges(channel)
        queue = await channel.declare_queue(QUEUE, durable=True)
        await queue.bind(exchanges["barong.events.model"], "user.created")
    finally:
        await connection.close()


async def drain(url: str) -> list[tuple[str, int]]:
    """Every message in the queue: its id and the event's ``n``."""
    found: list[tuple[str, int]] = []
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(QUEUE, durable=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            envelope = orjson.loads(message.body)
            claims = orjson.loads(_payload(envelope["payload"]))
            found.append((str(message.message_id), int(claims["event"]["record"]["n"])))
    finally:
        await connection.close()
    return found


def _payload(encoded: str) -> bytes:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


async def unpublished(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
        )
    finally:
        await conn.close()


async def until_published(url: str, within_s: float) -> float:
    """Seconds until the outbox holds nothing unpublished."""
    started = time.monotonic()
    async with asyncio.timeout(within_s):
        while True:
            if not await unpublished(url):
                return time.monotonic() - started
            await asyncio.sleep(0.05)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_the_relay_follows_a_restarted_broker_within_seconds(
    broker: PrivateRabbitMQ, fresh_database_url: str
) -> None:
    keys = EventKeys.of_pems({"peatio": rsa_pem("peatio")[0], "barong": rsa_pem("barong")[0]})
    await bind_queue(broker.url)
    database = create_engine(fresh_database_url)
    relay = Relay(fresh_database_url, AmqpSink(broker.url), keys, poll_s=0.02)
    relay_log = logging.getLogger("bursa.events.relay")
    lines = Lines()
    relay_log.addHandler(lines)
    level = relay_log.level
    relay_log.setLevel(logging.INFO)

    async def commit(numbers: range) -> None:
        events = [
            DomainEvent("barong", "model.user.created", {"uid": f"U{n}", "n": n}) for n in numbers
        ]
        async with database.begin() as conn:
            await enqueue(conn, events)

    try:
        await relay.start()
        await commit(range(5))
        await until_published(fresh_database_url, 10)
        logged_before = len(lines.records)
        await asyncio.to_thread(broker.kill)
        for n in range(5, 15):  # committed while the broker is away: they wait
            await commit(range(n, n + 1))
        await asyncio.sleep(OUTAGE_S)
        assert await unpublished(fresh_database_url) == 10
        await asyncio.to_thread(broker.start)  # returns once its AMQP port accepts
        followed_s = await until_published(fresh_database_url, 20)
        outage_lines = [r.getMessage() for r in lines.records[logged_before:]]
    finally:
        await relay.stop()
        await database.dispose()
        relay_log.removeHandler(lines)
        relay_log.setLevel(level)
    received = await drain(broker.url)

    print(f"\nbacklog published {followed_s:.2f} s after RabbitMQ took connections again")
    assert followed_s < FOLLOW_LIMIT_S
    assert sorted(n for _, n in received) == list(range(15)), "an event was lost or doubled"
    assert len({message_id for message_id, _ in received}) == 15
    assert len(outage_lines) == 2, outage_lines  # cannot publish, publishing again
