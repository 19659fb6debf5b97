"""``bursa api``: API replicas without an engine of their own, over a real RabbitMQ and
PostgreSQL. The engine runs in this process as ``bursa engine run`` composes it (runner,
command consumer, batch relay); two replicas are built as ``bursa api`` builds them.

What an operator relies on: an order placed through one replica is answered after it
committed and is seen through the other one (REST and websocket, public and private); a
command the engine does not answer in time is refused with 503 and a code, and a retry
with the same Idempotency-Key is applied once; the real commands work together.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from websockets.asyncio.client import connect

from bursa.api.remote_engine import RemoteEngine
from bursa.cli.api import api_role
from bursa.cli.users import build_identity
from bursa.config.settings import Settings
from bursa.db.session import create_engine
from bursa.engine.amqp import EngineClient, EngineConsumer
from bursa.engine.commands import Credit
from bursa.engine.runner import EngineRunner
from bursa.engine.units import to_units
from bursa.events.bus import InProcessBus
from bursa.events.fanout import EventRelay
from bursa.trading.specs import load_specs
from tests.api.members import AGENT, MARKET, PASSWORD, Caller, Exchange
from tests.api.test_ranger import DEPTH, Book, cookie_of, follow, receive, served

TIMEOUT_S = 0.5  # the replicas' engine timeout: short, so a refusal is quick to see
ORDERS = f"{MARKET}/orders"


class Engine:
    """``bursa engine run``'s parts in this process: the runner, fed from the command
    queue, its committed batches relayed to the replicas."""

    def __init__(self, database_url: str, amqp_url: str, name: str) -> None:
        self.amqp_url = amqp_url
        self.queue = f"{name}.commands"
        self.runner = EngineRunner(database_url, InProcessBus(), load_specs)
        self.relay: EventRelay | None = None
        self.consumer: EngineConsumer | None = None
        self.exchange = name

    async def start(self) -> None:
        await self.runner.start()
        self.relay = EventRelay(
            self.amqp_url, self.runner.bus, self.runner.committed_seq, exchange=self.exchange
        )
        await self.relay.start()
        await self.resume()

    async def resume(self) -> None:
        self.consumer = EngineConsumer(self.amqp_url, self.runner, queue=self.queue)
        await self.consumer.start()

    async def pause(self) -> None:
        """Stop consuming commands (the runner keeps its state)."""
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    async def stop(self) -> None:
        await self.pause()
        await self.runner.stop()
        if self.relay is not None:
            await self.relay.stop()

    async def credit(self, member: Caller, currency: str, amount: str) -> None:
        places = {"btc": 8, "usdt": 8}[currency]
        result = await self.runner.submit(
            Credit(
                key=f"test:{uuid.uuid4().hex}",
                member_id=member.id,
                currency=currency,
                amount=to_units(Decimal(amount), places),
                deposit_id=f"dep-{uuid.uuid4().hex[:8]}",
                fee=0,
            )
        )
        assert result["error"] is None, result


class Replica:
    """One ``bursa api`` process's application, over ASGI and served on loopback."""

    def __init__(self, app: FastAPI, ws_url: str) -> None:
        self.app = app
        self.transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        self.ws_url = ws_url

    @property
    def remote(self) -> RemoteEngine:
        remote: RemoteEngine = self.app.state.runner
        return remote

    def client(self, member: Caller | None = None) -> httpx.AsyncClient:
        """A client of this replica, signed in as ``member`` (the same session) if given."""
        client = httpx.AsyncClient(
            transport=self.transport, base_url="http://bursa.test", headers=AGENT
        )
        if member is not None:
            client.cookies.update(member.client.cookies)
        return client


async def _until(check: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def replica(settings: Settings, url: str, exchange: str) -> AsyncIterator[Replica]:
    async with (
        api_role(
            settings,
            url,
            public_url="http://127.0.0.1:8000",
            timeout_s=TIMEOUT_S,
            events_exchange=exchange,
        ) as app,
        served(app) as ws_url,
    ):
        yield Replica(app, ws_url)


class Deployment:
    def __init__(self, engine: Engine, a: Replica, b: Replica, exchange: Exchange) -> None:
        self.engine, self.a, self.b, self.exchange = engine, a, b, exchange


@pytest.fixture
async def deployment(fresh_database_url: str, amqp_url: str) -> AsyncIterator[Deployment]:
    name = f"test.api.{uuid.uuid4().hex}"
    engine = Engine(fresh_database_url, amqp_url, name)
    await engine.start()
    settings = Settings(
        database_url=fresh_database_url,
        amqp_url=amqp_url,
        engine_queue=engine.queue,
        cookie_secure=False,
    )
    try:
        async with (
            replica(settings, fresh_database_url, name) as a,
            replica(settings, fresh_database_url, name) as b,
        ):
            members = Exchange(
                a.transport,
                engine.runner,
                a.app.state.identity,
                fresh_database_url,
                a.app.state.ranger,
                a.app,
            )
            try:
                yield Deployment(engine, a, b, members)
            finally:
                for client in members.clients:
                    await client.aclose()
    finally:
        await engine.stop()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(engine.queue)


async def test_an_order_through_one_replica_is_seen_through_the_other(
    deployment: Deployment,
) -> None:
    b = deployment.b
    alice = await deployment.exchange.member("alice@example.com")  # signed in through A
    bob = await deployment.exchange.member("bob@example.com")
    await deployment.engine.credit(alice, "btc", "1")
    await deployment.engine.credit(bob, "usdt", "100000")
    alice_on_b, bob_on_b = b.client(alice), b.client(bob)
    bob_on_b.headers["X-CSRF-Token"] = bob.csrf
    async with alice_on_b, bob_on_b:
        # Reads from PostgreSQL through B: markets, balances.
        markets = await alice_on_b.get("/api/v2/peatio/public/markets")
        assert "btcusdt" in [m["id"] for m in markets.json()]
        balances = await alice_on_b.get("/api/v2/peatio/account/balances/btc")
        assert balances.json()["balance"] == "1"

        async with (
            connect(f"{b.ws_url}/public?stream=btcusdt.ob-inc,btcusdt.trades") as public,
            connect(
                f"{b.ws_url}/private?stream=order,trade", additional_headers=cookie_of(alice)
            ) as private,
        ):
            book = Book((await receive(public))["btcusdt.ob-snap"])
            assert book.depth() == {"asks": [], "bids": []}

            placed = await alice.post(
                ORDERS, {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "30000"}
            )
            assert placed.status_code == 201, placed.text
            ask = placed.json()
            assert ask["state"] == "wait"
            # Answered after the commit: B reads it from the database at once.
            history = await alice_on_b.get(ORDERS)
            assert [o["uuid"] for o in history.json()] == [ask["uuid"]]
            locked = await alice_on_b.get("/api/v2/peatio/account/balances/btc")
            assert locked.json()["locked"] == "0.1"
            # B's websocket: the public book and alice's own order stream.
            want = {"asks": [["30000", "0.1"]], "bids": []}
            await asyncio.wait_for(follow(public, book, want), 5)
            event = await receive(private)
            assert event["order"]["id"] == ask["id"]
            assert event["order"]["state"] == "wait"

            async def depth_on_b() -> bool:
                found = (await alice_on_b.get(DEPTH)).json()
                return bool(found["asks"] == [["30000", "0.1"]])

            await _until(depth_on_b)

            # Bob takes it through B; A's REST and B's streams see the trade.
            taken = await bob_on_b.post(
                ORDERS, json={"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "30000"}
            )
            assert taken.status_code == 201, taken.text
            assert taken.json()["state"] == "done"
            trades = await alice.get(f"{MARKET}/trades")
            assert [(t["price"], t["amount"]) for t in trades.json()] == [("30000", "0.1")]
            await asyncio.wait_for(follow(public, book, {"asks": [], "bids": []}), 5)
            seen: list[Any] = []
            while not any("trade" in m for m in seen):
                seen.append(await receive(private))
            done = [m["order"] for m in seen if "order" in m]
            assert done[-1]["state"] == "done"
    # The books A's REST API shows follow the relayed batches too.
    await _until(lambda: _depth_is(alice, {"asks": [], "bids": []}))
    await deployment.exchange.ledger_ok()


async def _depth_is(member: Caller, want: dict[str, Any]) -> bool:
    found = (await member.get(DEPTH)).json()
    return bool({"asks": found["asks"], "bids": found["bids"]} == want)


class StuckEngine:
    """A consumer of the command queue that takes commands and never answers them (an
    engine stalled mid-batch); closing it gives them back to the queue."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self.amqp_url, self.queue = amqp_url, queue
        self.taken: list[AbstractIncomingMessage] = []
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def __aenter__(self) -> "StuckEngine":
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self._connection.channel()
        queue = await channel.declare_queue(self.queue, durable=True)

        async def hold(message: AbstractIncomingMessage) -> None:
            self.taken.append(message)

        await queue.consume(hold)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._connection is not None
        await self._connection.close()


async def test_a_command_not_answered_in_time_is_refused_and_applied_once_on_retry(
    deployment: Deployment,
) -> None:
    engine, a = deployment.engine, deployment.a
    alice = await deployment.exchange.member("alice@example.com")
    await engine.credit(alice, "btc", "1")
    sell = {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "30000"}
    key = {"Idempotency-Key": "retry-1"}

    # No engine at all: nothing is sent, the refusal is immediate.
    await engine.pause()
    await _until(lambda: _not(a.remote))
    started = time.monotonic()
    refused = await alice.post(ORDERS, sell, key)
    assert refused.status_code == 503, refused.text
    assert refused.json() == {"errors": ["server.engine_unavailable"]}
    assert time.monotonic() - started < TIMEOUT_S

    # An engine that takes the command and never answers: 503 within the timeout.
    async with StuckEngine(engine.amqp_url, engine.queue) as stuck:
        await _until(lambda: _running(a.remote))
        started = time.monotonic()
        timed_out = await alice.post(ORDERS, sell, key)
        waited = time.monotonic() - started
        assert timed_out.status_code == 503, timed_out.text
        assert timed_out.json() == {"errors": ["server.engine_timeout"]}
        assert timed_out.headers["Retry-After"] == "1"
        assert TIMEOUT_S <= waited < TIMEOUT_S + 1
        unkeyed = await alice.post(ORDERS, sell)  # no key: must never apply later
        assert unkeyed.status_code == 503
        assert len(stuck.taken) == 2
    # The engine returns; the stalled commands come back to it after their deadline.
    await asyncio.sleep(TIMEOUT_S)
    await engine.resume()
    await _until(lambda: _running(a.remote))
    retried = await alice.post(ORDERS, sell, key)
    assert retried.status_code == 201, retried.text
    again = await alice.post(ORDERS, sell, key)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == retried.json()["id"]

    rows = await deployment.exchange.sql("SELECT id FROM orders WHERE member_id = $1", alice.id)
    assert [r["id"] for r in rows] == [retried.json()["id"]]
    await deployment.exchange.ledger_ok()


async def _running(remote: RemoteEngine) -> bool:
    return remote.running


async def _not(remote: RemoteEngine) -> bool:
    return not remote.running


# ---------------------------------------------------------------------- the real commands


def _bursa(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bursa", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            _stop(process)


@pytest.mark.slow
async def test_bursa_api_serves_orders_of_bursa_engine_run(
    fresh_database_url: str,
    amqp_url: str,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    queue = f"bursa.test.api.{uuid.uuid4().hex[:8]}"
    sock_port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURSA_")} | {
        "BURSA_DATABASE_URL": fresh_database_url,
        "BURSA_AMQP_URL": amqp_url,
        "BURSA_ENGINE_QUEUE": queue,
        "BURSA_DATA_DIR": str(tmp_path / "data"),
        "BURSA_SMTP_URL": "smtp://127.0.0.1:1",  # no mail is sent here
        "BURSA_COOKIE_SECURE": "false",
        "BURSA_LOG_LEVEL": "warning",
    }
    log = tmp_path / "bursa.log"
    # The member, with the key store the processes will use (made here, before them).
    database = create_engine(fresh_database_url, pool_size=1)
    try:
        settings = Settings(database_url=fresh_database_url, data_dir=tmp_path / "data")
        identity = build_identity(settings, database)
        member_id = (await identity.create_user("carol@example.com", PASSWORD, "member"))["id"]
        await identity.close()
    finally:
        await database.dispose()
    processes.append(_bursa("engine", "run", env=env, log=log))
    processes.append(_bursa("api", "--port", str(sock_port), env=env, log=log))
    base = f"http://127.0.0.1:{sock_port}"
    client = EngineClient(amqp_url, queue=queue)
    await client.start()
    try:
        async with httpx.AsyncClient(base_url=base, headers=AGENT) as http:
            deadline = time.monotonic() + 60
            while True:
                assert all(p.poll() is None for p in processes), log.read_text()
                with contextlib.suppress(httpx.TransportError):
                    ready = await http.get("/api/v2/peatio/public/health/ready")
                    if ready.status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.2)
            credit = Credit(
                key=f"test:{uuid.uuid4().hex}",
                member_id=member_id,
                currency="usdt",
                amount=to_units(Decimal("1000"), 8),
                deposit_id="dep-subprocess",
                fee=0,
            )
            assert (await asyncio.wait_for(await client.send(credit), 10))["error"] is None
            login = await http.post(
                "/api/v2/barong/identity/sessions",
                json={"email": "carol@example.com", "password": PASSWORD},
            )
            assert login.status_code == 200, login.text
            placed = await http.post(
                ORDERS,
                json={"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "20000"},
                headers={"X-CSRF-Token": login.json()["csrf_token"]},
            )
            assert placed.status_code == 201, placed.text
            assert placed.json()["state"] == "wait"
    finally:
        await client.stop()
        for process in reversed(processes):
            assert _stop(process) == 0, log.read_text()
        processes.clear()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
