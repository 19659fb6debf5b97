"""RabbitMQ SIGKILLed under API load and started again: the API replicas refuse orders
with a quick 503 while it is away and recover by themselves once it is back.

The broker is a private node this test kills (``servers.PrivateRabbitMQ``), never the
machine's shared one. The engine runs in this process as ``bursa engine run`` composes it
(runner, command consumer, batch relay); the replica is ``bursa api``'s application,
served on loopback; both talk to the private broker. Members place signed orders and
retry each with its ``Idempotency-Key`` until it is answered 201, as a careful client
does. What an operator checks: every answer while the broker is away is a 503 with a
code that says why, within about the engine timeout (never a hang, never a 500), and
``/health/ready`` says 503; after the broker's return orders are answered 201 again
within seconds with nothing restarted, the replica follows the engine's batches again,
every order answered 201 is in the database once, and the ledger verifies.
"""

import asyncio
import shutil
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from bursa.api.remote_engine import ENGINE_TIMEOUT, RemoteEngine
from bursa.bench.local_exchange import MemberKey, free_socket, member_with_key, serving
from bursa.cli.api import api_role
from bursa.config.settings import Settings
from bursa.engine.commands import Credit
from bursa.engine.units import to_units
from bursa.ledger.verify import verify_ledger
from tests.api.test_api_role import Engine
from tests.resilience.servers import PrivateRabbitMQ
from tests.resilience.test_broker_restart import IN_CI
from tests.resilience.test_engine_failover import ORDERS, READY, Load

ENGINE_UNAVAILABLE = "server.engine_unavailable"
API_TIMEOUT_S = 2.0  # the replica's engine timeout: the longest a refused order may take
ANSWER_LIMIT_S = API_TIMEOUT_S + 1.0  # "503 within ~2 s": the timeout and some slack
OUTAGE_S = 6.0
RECOVERY_LIMIT_S = 15.0  # measured 6.4 s (robust connections retry every second)
MEMBERS = 4

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


async def funded(app: FastAPI, engine: Engine) -> tuple[MemberKey, ...]:
    """Members with API keys (the replica's identity service), credited by the engine."""
    made = []
    for index in range(MEMBERS):
        key = await member_with_key(app.state.identity, app, index)
        for code, amount in (("btc", "100"), ("usdt", "1000000")):
            answer = await engine.runner.submit(
                Credit(
                    key=f"broker:credit:{key.id}:{code}",
                    member_id=key.id,
                    currency=code,
                    amount=to_units(Decimal(amount), 8),
                    deposit_id=f"broker-{key.id}-{code}",
                    fee=0,
                )
            )
            assert answer["error"] is None, answer
        made.append(key)
    return tuple(made)


class Timings:
    """How long each order took to be answered (headers in), by when it was sent."""

    def __init__(self) -> None:
        self.orders: list[tuple[float, float, int]] = []  # sent, seconds, status

    async def on_request(self, request: httpx.Request) -> None:
        request.extensions["sent"] = time.monotonic()

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        if request.method == "POST" and request.url.path == ORDERS:
            sent = request.extensions["sent"]
            self.orders.append((sent, time.monotonic() - sent, response.status_code))


async def ready_status(http: httpx.AsyncClient) -> int:
    return (await http.get(READY)).status_code


async def test_api_replicas_ride_out_a_broker_restart(
    broker: PrivateRabbitMQ, fresh_database_url: str
) -> None:
    url = fresh_database_url
    name = f"test.broker.{uuid.uuid4().hex[:8]}"
    engine = Engine(url, broker.url, name)
    await engine.start()
    settings = Settings(
        database_url=url, amqp_url=broker.url, engine_queue=engine.queue, cookie_secure=False
    )
    try:
        async with api_role(
            settings,
            url,
            public_url="http://127.0.0.1",
            timeout_s=API_TIMEOUT_S,
            events_exchange=name,
        ) as app:
            sock = free_socket()
            async with serving(app, sock):
                base = f"http://127.0.0.1:{sock.getsockname()[1]}"
                remote: RemoteEngine = app.state.runner
                async with asyncio.timeout(15):
                    while not remote.running:  # noqa: ASYNC110 - the replica's own look
                        await asyncio.sleep(0.05)
                members = await funded(app, engine)
                timings = Timings()
                hooks: dict[str, list[Callable[..., Any]]] = {
                    "request": [timings.on_request],
                    "response": [timings.on_response],
                }
                async with httpx.AsyncClient(
                    base_url=base, timeout=API_TIMEOUT_S * 5, event_hooks=hooks
                ) as http:
                    load = Load(http, members)
                    running = asyncio.create_task(load.run())
                    try:
                        await load.until_placed(20, within_s=20)
                        placed_before = len(load.placed)
                        killed = time.monotonic()
                        await asyncio.to_thread(broker.kill)
                        await asyncio.sleep(OUTAGE_S / 2)
                        ready_while_down = await ready_status(http)
                        await asyncio.sleep(OUTAGE_S / 2)
                        restarted = time.monotonic()
                        await asyncio.to_thread(broker.start)  # its AMQP port accepts
                        recovered_s = await load.first_201_sent_after(restarted, RECOVERY_LIMIT_S)
                        async with asyncio.timeout(RECOVERY_LIMIT_S):
                            while True:
                                if await ready_status(http) == 200:
                                    break
                                await asyncio.sleep(0.05)
                        ready_s = time.monotonic() - restarted
                        resumed = len(load.placed)
                        await load.until_placed(resumed + 20, within_s=20)  # the load goes on
                    finally:
                        load.stopping = True
                        await running
                # The replica follows the engine's committed batches again (the feed
                # catches up, a gap read again from the database): nothing is missed.
                async with asyncio.timeout(10):
                    while remote.committed_seq < engine.runner.committed_seq:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
    finally:
        await engine.stop()

    down = [a for a in load.answers if killed < a.sent < restarted]
    refused = {(a.status, a.code) for a in load.answers if a.sent > killed and a.status != 201}
    print(f"\norders answered 201 again {recovered_s:.2f} s after RabbitMQ was started again")
    print(f"/health/ready answered 200 again {ready_s:.2f} s after it")
    print(f"orders placed: {placed_before} before the kill, {len(load.placed)} in all")
    print("answers while down:", dict(Counter((a.status, a.code) for a in down)))
    assert not [a for a in load.answers if a.status == 500], "a 500 was answered"
    assert down, "no order was tried while the broker was down"
    # Down or coming back: refused with a code that says why, and quickly.
    assert refused <= {(503, ENGINE_UNAVAILABLE), (503, ENGINE_TIMEOUT)}, refused
    slowest = max(seconds for sent, seconds, status in timings.orders if sent > killed)
    print(f"slowest order answer since the kill: {slowest:.2f} s")
    assert slowest < ANSWER_LIMIT_S, "an order waited too long for its answer"
    assert ready_while_down == 503
    assert recovered_s < RECOVERY_LIMIT_S

    conn = await asyncpg.connect(url)
    try:
        commands = await conn.fetch(
            "SELECT idempotency_key, count(*) AS n FROM engine_commands"
            " WHERE idempotency_key LIKE 'api:order:%' GROUP BY idempotency_key"
        )
        orders = [r["id"] for r in await conn.fetch("SELECT id FROM orders")]
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    applied = {r["idempotency_key"]: r["n"] for r in commands}
    assert all(n == 1 for n in applied.values()), "an idempotency key was applied twice"
    assert set(applied) <= load.tried  # nothing applied that was not sent
    assert set(load.placed) <= set(applied)  # every 201 was a committed command
    assert len(orders) == len(set(orders)) == len(applied)  # one order per applied key
    assert set(load.placed.values()) <= set(orders)  # every order answered 201 is there
    assert report.ok, report.breaks
