"""The active engine SIGKILLed under API load: the standby takes over.

Two real ``bursa engine run`` processes share the command queue and the database: the
first holds the PostgreSQL advisory lock, the second stands by for it. An API replica (what
``bursa api`` serves, here in this process on a loopback port) takes signed orders from
members who retry with the same ``Idempotency-Key`` until they are answered 201, as a
careful client does. The active engine is killed mid-load, as a crashed host or an evicted
pod is. What an operator checks after: orders are answered 201 again (the takeover time
is printed), every order answered 201 is in the database once, no key applied twice, and
``bursa ledger verify`` and ``bursa engine replay`` pass.
"""

import asyncio
import contextlib
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from bursa.api.remote_engine import RemoteEngine
from bursa.bench.local_exchange import MemberKey, free_socket, member_with_key, serving
from bursa.cli.api import api_role
from bursa.config.settings import Settings
from bursa.engine.commands import Credit
from bursa.engine.units import to_units

ORDERS = "/api/v2/peatio/market/orders"
READY = "/api/v2/peatio/public/health/ready"
API_TIMEOUT_S = 2.0  # the replica's engine timeout: an order sent to the dead engine
MEMBERS = 4
TAKEOVER_LIMIT_S = 30.0
START_LIMIT_S = 60.0

pytestmark = pytest.mark.slow


def signed(key: MemberKey, nonce: int) -> dict[str, str]:
    """The API-key headers of one request (HMAC-SHA256 of nonce + kid)."""
    stamp = str(nonce)
    signature = hmac.new(key.secret.encode(), (stamp + key.kid).encode(), hashlib.sha256)
    return {
        "X-Auth-Apikey": key.kid,
        "X-Auth-Nonce": stamp,
        "X-Auth-Signature": signature.hexdigest(),
    }


@dataclass
class Answer:
    sent: float  # monotonic time the request left
    status: int  # 0: no answer (a transport error)
    code: str  # the first error code; "" for a 201


@dataclass
class Load:
    """Members placing crossing orders one after the other, each retried with its
    ``Idempotency-Key`` until it is answered 201."""

    http: httpx.AsyncClient
    members: tuple[MemberKey, ...]
    answers: list[Answer] = field(default_factory=list)
    placed: dict[str, int] = field(default_factory=dict)  # engine command key -> order id
    tried: set[str] = field(default_factory=set)
    stopping: bool = False
    _nonce: int = 0

    def nonce(self) -> int:
        self._nonce = max(int(time.time() * 1000), self._nonce + 1)
        return self._nonce

    async def member(self, index: int, key: MemberKey) -> None:
        side = "buy" if index % 2 else "sell"
        body = {"market": "btcusdt", "side": side, "volume": "0.001"}
        body |= {"ord_type": "limit", "price": "30000"}
        number = 0
        while not self.stopping:
            number += 1
            idempotency = f"failover-{index}-{number}"
            self.tried.add(f"api:order:{key.id}:{idempotency}")
            while not self.stopping:
                headers = signed(key, self.nonce()) | {"Idempotency-Key": idempotency}
                sent = time.monotonic()
                try:
                    answer = await self.http.post(ORDERS, json=body, headers=headers)
                except httpx.TransportError:
                    self.answers.append(Answer(sent, 0, "no answer"))
                    await asyncio.sleep(0.05)
                    continue
                code = "" if answer.status_code == 201 else answer.json()["errors"][0]
                self.answers.append(Answer(sent, answer.status_code, code))
                if answer.status_code == 201:
                    placed = answer.json()["id"]
                    previous = self.placed.setdefault(f"api:order:{key.id}:{idempotency}", placed)
                    assert previous == placed, "one key answered two orders"
                    break
                await asyncio.sleep(0.05)  # a client's pause before it tries again

    async def run(self) -> None:
        await asyncio.gather(*(self.member(i, key) for i, key in enumerate(self.members)))

    async def until_placed(self, count: int, within_s: float) -> None:
        async with asyncio.timeout(within_s):
            while len(self.placed) < count:  # noqa: ASYNC110 - the load's own counter
                await asyncio.sleep(0.05)

    async def first_201_sent_after(self, moment: float, within_s: float) -> float:
        """Seconds from ``moment`` to the answer of the first order sent after it that was
        placed (answered 201)."""
        async with asyncio.timeout(within_s):
            while True:
                if any(a.sent > moment and a.status == 201 for a in self.answers):
                    return time.monotonic() - moment
                await asyncio.sleep(0.01)


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


async def _lock_holders(url: str) -> int:
    """How many sessions hold an advisory lock on this database (the engine's)."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    finally:
        await conn.close()


async def _until(
    check: Callable[[], Awaitable[bool]], what: str, within_s: float, log: Path
) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not in time:\n{await asyncio.to_thread(log.read_text)}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def api_replica(settings: Settings, url: str) -> AsyncIterator[tuple[str, FastAPI]]:
    """``bursa api``'s application served on a free loopback port: its base URL, app."""
    replica = api_role(settings, url, public_url="http://127.0.0.1", timeout_s=API_TIMEOUT_S)
    async with replica as app:
        sock = free_socket()
        async with serving(app, sock):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", app


async def test_the_standby_engine_takes_over_when_the_active_one_is_killed(
    fresh_database_url: str,
    amqp_url: str,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    url = fresh_database_url
    queue = f"bursa.test.failover.{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURSA_")} | {
        "BURSA_DATABASE_URL": url,
        "BURSA_AMQP_URL": amqp_url,
        "BURSA_ENGINE_QUEUE": queue,
        "BURSA_DATA_DIR": str(data_dir),
        "BURSA_LOG_LEVEL": "info",
    }
    log = tmp_path / "engines.log"
    active = _bursa("engine", "run", env=env, log=log)
    processes.append(active)
    await _until(lambda: _holds_lock(url), "the first engine's lock", START_LIMIT_S, log)
    standby = _bursa("engine", "run", env=env, log=log)
    processes.append(standby)
    await _until(lambda: _standing_by(log), "the second engine standing by", START_LIMIT_S, log)
    settings = Settings(
        database_url=url,
        amqp_url=amqp_url,
        engine_queue=queue,
        data_dir=data_dir,
        cookie_secure=False,
    )
    try:
        async with api_replica(settings, url) as (base, app):
            remote: RemoteEngine = app.state.runner
            await _until(lambda: _running(remote), "the replica seeing the engine", 30, log)
            members = await _funded(app, remote)
            async with httpx.AsyncClient(base_url=base, timeout=API_TIMEOUT_S * 3) as http:
                load = Load(http, members)
                running = asyncio.create_task(load.run())
                try:
                    await load.until_placed(20, within_s=20)
                    placed_before = len(load.placed)
                    assert standby.poll() is None, log.read_text()
                    killed = time.monotonic()
                    active.send_signal(signal.SIGKILL)
                    takeover_s = await load.first_201_sent_after(killed, TAKEOVER_LIMIT_S)
                    ready_s = await _ready_after(http, killed, TAKEOVER_LIMIT_S)
                    resumed = len(load.placed)
                    await load.until_placed(resumed + 20, within_s=20)  # the load goes on
                finally:
                    load.stopping = True
                    await running
    finally:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)

    since_kill = Counter((a.status, a.code) for a in load.answers if a.sent > killed)
    print(f"\nengine takeover: first order placed {takeover_s:.2f} s after the SIGKILL")
    print(f"the replica's /health/ready answered 200 again {ready_s:.2f} s after it")
    print(f"orders placed: {placed_before} before the kill, {len(load.placed)} in all")
    print("answers since the kill:", dict(since_kill))
    assert active.wait(timeout=5) == -signal.SIGKILL
    assert standby.poll() is None, log.read_text()  # the standby is the active one now
    assert takeover_s < TAKEOVER_LIMIT_S
    assert not [a for a in load.answers if a.status == 500], "a 500 was answered"

    conn = await asyncpg.connect(url)
    try:
        commands = await conn.fetch(
            "SELECT idempotency_key, count(*) AS n FROM engine_commands"
            " WHERE idempotency_key LIKE 'api:order:%' GROUP BY idempotency_key"
        )
        orders = [r["id"] for r in await conn.fetch("SELECT id FROM orders")]
    finally:
        await conn.close()
    applied = {r["idempotency_key"]: r["n"] for r in commands}
    assert all(n == 1 for n in applied.values()), "an idempotency key was applied twice"
    assert set(applied) <= load.tried  # nothing applied that was not sent
    assert set(load.placed) <= set(applied)  # every 201 was a committed command
    assert len(orders) == len(set(orders)) == len(applied)  # one order per applied key
    assert set(load.placed.values()) <= set(orders)  # every order answered 201 is there

    for check, says in (("ledger verify", "ledger verifies"), ("engine replay", "replay matches")):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bursa", *check.split()],
            env=env | {"COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert says in done.stdout, done.stdout
    for process in reversed(processes):
        assert _stop(process) in (0, -signal.SIGKILL), log.read_text()
    processes.clear()


async def _ready_after(http: httpx.AsyncClient, moment: float, within_s: float) -> float:
    """Seconds from ``moment`` until the replica's ``/health/ready`` answers 200 (it
    looks for a consuming engine every few seconds)."""
    async with asyncio.timeout(within_s):
        while True:
            if (await http.get(READY)).status_code == 200:
                break
            await asyncio.sleep(0.05)
    return time.monotonic() - moment


async def _standing_by(log: Path) -> bool:
    return "standing by" in await asyncio.to_thread(log.read_text)


async def _holds_lock(url: str) -> bool:
    return await _lock_holders(url) == 1


async def _running(remote: RemoteEngine) -> bool:
    return remote.running


async def _funded(app: FastAPI, remote: RemoteEngine) -> tuple[MemberKey, ...]:
    """Members with API keys (the replica's identity service), credited through the
    engine."""
    made = []
    for index in range(MEMBERS):
        key = await member_with_key(app.state.identity, app, index)
        for code, amount in (("btc", "100"), ("usdt", "1000000")):
            answer = await remote.submit(
                Credit(
                    key=f"failover:credit:{key.id}:{code}",
                    member_id=key.id,
                    currency=code,
                    amount=to_units(Decimal(amount), 8),
                    deposit_id=f"failover-{key.id}-{code}",
                    fee=0,
                )
            )
            assert answer["error"] is None, answer
        made.append(key)
    return tuple(made)
