"""PostgreSQL killed under load and started again: Bursa (``bursa up``'s parts, in this
process) answers 503 ``server.database_unavailable`` meanwhile, says so once in its log,
and recovers by itself within seconds of the database's return: the engine takes its lock
again, reloads what was committed and takes orders; nothing committed is lost or doubled.

The database is a private server this test kills (``servers.PrivatePostgres``), never the
machine's shared one.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from bursa.bench.local_exchange import MemberKey, funded_members, serve_exchange
from bursa.db.migrate import upgrade
from bursa.db.session import create_engine
from bursa.errors import DATABASE_UNAVAILABLE
from bursa.events.bus import InProcessBus
from bursa.events.keys import EventKeys
from bursa.events.relay import BusSink, Relay
from bursa.ledger.verify import verify_ledger
from bursa.trading.seeds import DEMO_SEEDS, seed_file
from tests.resilience.servers import PrivatePostgres
from tests.signing.keys import rsa_pem

ORDERS = "/api/v2/peatio/market/orders"
READY = "/api/v2/peatio/public/health/ready"
ENGINE_UNAVAILABLE = "server.engine_unavailable"
OUTAGE_S = 3.0  # how long the database stays down
RECOVERY_LIMIT_S = 10.0  # "within seconds of the database's return"
# The parts this test holds to one log line per change of state and no traceback. (The
# candle writer, Ranger and the custody loops log each failed try: see the report.)
QUIET = ("bursa.api", "bursa.engine", "bursa.events", "bursa.db", "uvicorn", "asyncpg")

pytestmark = pytest.mark.slow


@pytest.fixture
async def private_database() -> AsyncIterator[tuple[PrivatePostgres, str]]:
    """A private PostgreSQL with Bursa's schema and demo seeds (its ``bursa`` database)."""
    server = await asyncio.to_thread(PrivatePostgres)
    try:
        await asyncio.to_thread(server.start)
        await server.until_ready()
        conn = await asyncpg.connect(server.url())
        try:
            await conn.execute("CREATE DATABASE bursa")
        finally:
            await conn.close()
        url = server.url("bursa")
        await upgrade(url)
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn_:
                await seed_file(conn_, DEMO_SEEDS)
        finally:
            await engine.dispose()
        yield server, url
    finally:
        await asyncio.to_thread(server.close)


class Records(logging.Handler):
    """Every log record of WARNING and above, from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def recorded() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def signed(key: MemberKey, nonce: int) -> dict[str, str]:
    stamp = str(nonce)
    signature = hmac.new(key.secret.encode(), (stamp + key.kid).encode(), hashlib.sha256)
    return {
        "X-Auth-Apikey": key.kid,
        "X-Auth-Nonce": stamp,
        "X-Auth-Signature": signature.hexdigest(),
    }


@dataclass
class Load:
    """Members placing orders over HTTP, one after the other each, as a client that
    retries does: the same ``Idempotency-Key`` until the order is answered 201."""

    http: httpx.AsyncClient
    members: tuple[MemberKey, ...]
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # when, status, code
    placed: dict[str, int] = field(default_factory=dict)  # idempotency key -> order id
    tried: set[str] = field(default_factory=set)
    stopping: bool = False
    _nonce: int = 0

    def nonce(self) -> int:
        self._nonce = max(int(time.time() * 1000), self._nonce + 1)
        return self._nonce

    async def member(self, index: int, key: MemberKey) -> None:
        side, number = ("buy" if index % 2 else "sell"), 0
        while not self.stopping:
            number += 1
            idempotency = f"m{index}-{number}"
            self.tried.add(idempotency)
            body = {"market": "btcusdt", "side": side, "volume": "0.001"}
            body |= {"ord_type": "limit", "price": "30000"}
            while not self.stopping:
                headers = signed(key, self.nonce()) | {"Idempotency-Key": idempotency}
                answer = await self.http.post(ORDERS, json=body, headers=headers)
                code = "" if answer.status_code == 201 else answer.json()["errors"][0]
                self.answers.append((time.monotonic(), answer.status_code, code))
                if answer.status_code == 201:
                    self.placed[f"api:order:{key.id}:{idempotency}"] = answer.json()["id"]
                    break
                await asyncio.sleep(0.05)  # a client's pause before it tries again

    async def until_placed(self, count: int, within_s: float = 20.0) -> None:
        async with asyncio.timeout(within_s):
            while True:
                if len(self.placed) >= count:
                    break
                await asyncio.sleep(0.05)

    async def run(self) -> None:
        await asyncio.gather(*(self.member(i, key) for i, key in enumerate(self.members)))

    def since(self, moment: float) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[0] >= moment]


async def first_success_after(
    http: httpx.AsyncClient, load: Load, moment: float, within_s: float
) -> float:
    """Seconds after ``moment`` until ``/health/ready`` is 200 and an order was placed."""
    deadline = moment + within_s
    while time.monotonic() < deadline:
        ready = (await http.get(READY)).status_code == 200
        placed = any(status == 201 for _, status, _ in load.since(moment))
        if ready and placed:
            return time.monotonic() - moment
        await asyncio.sleep(0.05)
    raise AssertionError(f"not recovered {within_s} s after the database came back")


async def unpublished(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
        )
    finally:
        await conn.close()


async def test_the_exchange_rides_out_a_database_outage(
    private_database: tuple[PrivatePostgres, str],
) -> None:
    server, url = private_database
    keys = EventKeys.of_pems({"peatio": rsa_pem("peatio")[0], "barong": rsa_pem("barong")[0]})
    relay = Relay(url, BusSink(InProcessBus()), keys, poll_s=0.02)
    with recorded() as log:
        await relay.start()
        async with serve_exchange(url, app_name="bursa-resilience") as exchange:
            members = await funded_members(
                exchange, 4, {"usdt": 1_000_000, "btc": 100}, tag="outage"
            )
            async with httpx.AsyncClient(base_url=exchange.host, timeout=10) as http:
                load = Load(http, members)
                running = asyncio.create_task(load.run())
                try:
                    await load.until_placed(20)
                    before_kill = dict(load.placed)
                    logged_before = len(log.records)
                    killed = time.monotonic()
                    await asyncio.to_thread(server.kill)
                    await asyncio.sleep(OUTAGE_S / 2)
                    ready_while_down = (await http.get(READY)).status_code
                    await asyncio.sleep(OUTAGE_S / 2)
                    down = load.since(killed)
                    restarted = time.monotonic()
                    await asyncio.to_thread(server.start)
                    recovered_s = await first_success_after(http, load, restarted, RECOVERY_LIMIT_S)
                    await asyncio.sleep(1.0)  # the load goes on, all placed
                finally:
                    load.stopping = True
                    await running
                after = load.since(restarted + recovered_s)
        async with asyncio.timeout(5):  # the relay follows: the whole outbox published
            while True:
                if not await unpublished(url):
                    break
                await asyncio.sleep(0.05)
        await relay.stop()
        outage_log = log.records[logged_before:]

    print(f"\nrecovered {recovered_s:.2f} s after PostgreSQL was started again")
    print("answers while down:", Counter((s, c) for _, s, c in down))
    print("log lines since the kill:", Counter((r.name, r.levelname) for r in outage_log))
    # While down: 503 with a code that says why, never a 500.
    statuses = Counter(status for _, status, _ in load.answers)
    assert statuses[500] == 0, statuses
    assert ready_while_down == 503
    down_codes = {code for _, status, code in down if status == 503}
    assert DATABASE_UNAVAILABLE in down_codes
    assert down_codes <= {DATABASE_UNAVAILABLE, ENGINE_UNAVAILABLE}
    # After: orders are placed again, within seconds.
    assert recovered_s < RECOVERY_LIMIT_S
    assert all(status == 201 for _, status, _ in after), Counter(s for _, s, _ in after)
    # One line per change of state, no tracebacks.
    quiet = [r for r in outage_log if r.name.startswith(QUIET)]
    assert not [r for r in quiet if r.exc_info], "a traceback was logged"
    by_logger = Counter(r.name for r in quiet)
    assert by_logger == {  # down, then back: each once
        "bursa.api.errors": 2,
        "bursa.engine.runner": 2,
        "bursa.events.relay": 2,
    }, [(r.name, r.getMessage()) for r in quiet]
    # Every order answered 201 is there once, and the ledger holds.
    conn = await asyncpg.connect(url)
    try:
        commands = await conn.fetch(
            "SELECT idempotency_key, count(*) AS n FROM engine_commands"
            " WHERE idempotency_key LIKE 'api:order:%' GROUP BY idempotency_key"
        )
        stored = set(await conn.fetchval("SELECT array_agg(id) FROM orders") or [])
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert all(row["n"] == 1 for row in commands), "an order was applied twice"
    assert set(before_kill.values()) <= stored
    assert set(load.placed.values()) <= stored
    assert len(stored) == len(commands) <= len(load.tried)
    assert report.ok, report.breaks
