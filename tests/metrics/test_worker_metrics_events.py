"""The Event API's metrics as an operator reads them: the outbox's backlog and oldest age
rise while events wait and fall once they are published, RabbitMQ's confirms and refusals
are counted, and ``bursa events relay --metrics-port`` serves them, with its readiness,
for the publishing relay and for one standing by."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.db.session import create_engine
from bursa.events.keys import EventKeys
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.relay import AmqpSink, Relay, SinkDown
from bursa.events.wire import Message
from tests.identity.test_identity_api import free_port
from tests.signing.keys import rsa_pem

KEYS = EventKeys.of_pems({"peatio": rsa_pem("peatio")[0], "barong": rsa_pem("barong")[0]})
EXCHANGE = "barong.events.model"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class HeldSink:
    """Takes events only once released: they wait in the outbox meanwhile."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.taken = 0

    async def publish(self, messages: Sequence[Message]) -> None:
        await self.released.wait()
        self.taken += len(messages)

    async def close(self) -> None:
        return None


@pytest.fixture
async def database(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def commit_users(database: AsyncEngine, *numbers: int) -> None:
    for n in numbers:  # one transaction, one outbox row each
        async with database.begin() as conn:
            await enqueue(conn, [DomainEvent("barong", "model.user.created", {"n": n})])


async def until(check: object, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_backlog_and_age_rise_while_events_wait_and_fall_once_published(
    fresh_database_url: str, database: AsyncEngine
) -> None:
    sink = HeldSink()
    relay = Relay(fresh_database_url, sink, KEYS, poll_s=0.02, backlog_every_s=0.05)
    published = sample("bursa_events_published_total", exchange=EXCHANGE)
    await relay.start()
    try:
        await until(lambda: relay.active and sample("bursa_relay_active") == 1)
        await commit_users(database, 1, 2, 3)
        await until(lambda: sample("bursa_outbox_backlog") == 3)
        await asyncio.sleep(0.3)
        await until(lambda: sample("bursa_outbox_oldest_age_seconds") >= 0.3)

        sink.released.set()
        await until(lambda: sample("bursa_outbox_backlog") == 0)
        await until(lambda: sample("bursa_outbox_oldest_age_seconds") == 0)
        assert sink.taken == 3
        assert sample("bursa_events_published_total", exchange=EXCHANGE) == published + 3
    finally:
        await relay.stop()
    assert sample("bursa_relay_active") == 0


async def test_confirms_of_rabbitmq_and_refusals_are_counted(
    fresh_database_url: str, database: AsyncEngine, amqp_url: str
) -> None:
    failures = sample("bursa_events_publish_failures_total")
    dead = AmqpSink("amqp://guest:guest@127.0.0.1:1/")  # nobody listens there
    with pytest.raises(SinkDown):
        await dead.publish(
            [Message(row_id=1, id="x", exchange=EXCHANGE, routing_key="user.created", body=b"{}")]
        )
    assert sample("bursa_events_publish_failures_total") == failures  # the sink only raises

    relay = Relay(fresh_database_url, dead, KEYS, poll_s=0.02, backlog_every_s=0.05)
    await commit_users(database, 1)
    await relay.start()
    try:
        await until(lambda: sample("bursa_events_publish_failures_total") > failures)
        await until(lambda: sample("bursa_outbox_backlog") == 1)
    finally:
        await relay.stop()

    published = sample("bursa_events_published_total", exchange=EXCHANGE)
    relay = Relay(fresh_database_url, AmqpSink(amqp_url), KEYS, poll_s=0.02, backlog_every_s=0.05)
    await relay.start()
    try:
        await commit_users(database, 2)
        await until(
            lambda: sample("bursa_events_published_total", exchange=EXCHANGE) == published + 2
        )
        await until(lambda: sample("bursa_outbox_backlog") == 0)
    finally:
        await relay.stop()


def relay_process(database_url: str, amqp_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BURSA_DATABASE_URL": database_url,
        "BURSA_AMQP_URL": amqp_url,
        "BURSA_METRICS_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bursa", "events", "relay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def scrape(client: httpx.AsyncClient, port: int) -> str:
    return (await client.get(f"http://127.0.0.1:{port}/metrics")).text


async def wait_ready(
    client: httpx.AsyncClient, port: int, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            if (await client.get(f"http://127.0.0.1:{port}/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the relay never became ready"
        await asyncio.sleep(0.1)


def verify_ledger_cli(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BURSA_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bursa", "ledger", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_relay_command_serves_metrics_and_the_last_ledger_verification(
    fresh_database_url: str, database: AsyncEngine, amqp_url: str
) -> None:
    """Two relays: one publishes, one stands by; both are ready and tell which is which.
    ``bursa ledger verify``, another process, records its result: the relays show it."""
    ports = free_port(), free_port()
    processes = [relay_process(fresh_database_url, amqp_url, port) for port in ports]
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for port, process in zip(ports, processes, strict=True):
                await wait_ready(client, port, process)
            assert (
                await client.get(f"http://127.0.0.1:{ports[0]}/health/alive")
            ).status_code == 200

            async def active_flags() -> list[str]:
                found = []
                for port in ports:
                    lines = (await scrape(client, port)).splitlines()
                    found += [line for line in lines if line.startswith("bursa_relay_active ")]
                return found

            deadline = time.monotonic() + 15
            while sorted(await active_flags()) != [
                "bursa_relay_active 0.0",
                "bursa_relay_active 1.0",
            ]:
                assert time.monotonic() < deadline, await active_flags()
                await asyncio.sleep(0.2)
            text = await scrape(client, ports[0])
            assert 'bursa_role_up{role="relay"} 1.0' in text
            assert "bursa_outbox_backlog " in text
            assert "bursa_outbox_oldest_age_seconds " in text
            assert "bursa_ledger_last_verify_ok" not in text  # none recorded yet

            before = time.time()
            verified = await asyncio.to_thread(verify_ledger_cli, fresh_database_url)
            assert verified.returncode == 0, verified.stdout + verified.stderr

            deadline = time.monotonic() + 15
            while "bursa_ledger_last_verify_ok 1.0" not in (text := await scrape(client, ports[1])):
                assert time.monotonic() < deadline, text
                await asyncio.sleep(0.2)
            (stamp,) = [
                line.split()[1]
                for line in text.splitlines()
                if line.startswith("bursa_ledger_last_verify_timestamp_seconds ")
            ]
            assert before - 5 <= float(stamp) <= time.time() + 5
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            assert process.wait(timeout=20) == 0


def listeners_process(amqp_url: str, port: int) -> subprocess.Popen[bytes]:
    command = ["events", "listen", "log_new_users", "--metrics-port", str(port)]
    return subprocess.Popen(
        [sys.executable, "-m", "bursa", *command],
        env={**os.environ, "BURSA_AMQP_URL": amqp_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_the_listeners_command_serves_readiness_and_metrics(amqp_url: str) -> None:
    """``bursa events listen --metrics-port`` (AppLogic's listener runs this way): ready
    once its listeners consume RabbitMQ, and its role shows in ``/metrics``."""
    port = free_port()
    process = listeners_process(amqp_url, port)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(client, port, process)
            assert 'bursa_role_up{role="listener"} 1.0' in await scrape(client, port)
    finally:
        process.terminate()
        process.wait(timeout=20)
