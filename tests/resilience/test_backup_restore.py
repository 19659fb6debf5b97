"""A logical backup of a running exchange restores into a database that verifies.

Bursa (``bursa up``'s parts, in this process) trades while ``pg_dump`` takes its database
(one consistent snapshot, taken without stopping anything); the dump is restored into a
fresh database with ``createdb`` and ``pg_restore``, and the checks an operator runs
before reopening pass there: ``bursa ledger verify`` and ``bursa engine replay`` (the
command log replayed gives the stored balances, orders and trades).
"""

import asyncio
import contextlib
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from bursa.bench.local_exchange import MemberKey, funded_members, serve_exchange
from tests.conftest import IN_CI, database_url

ORDERS = "/api/v2/peatio/market/orders"

pytestmark = pytest.mark.slow


def _client_tool(name: str) -> str:
    """Debian's PostgreSQL client ``name`` (pg_dump, pg_restore, createdb, dropdb): on
    PATH, or the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found is None:
        versions = sorted(
            Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
            key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        )
        found = str(versions[-1]) if versions else None
    if found is None:
        message = f"{name} is not installed (apt-get install postgresql-client)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _connection_args(url: str) -> list[str]:
    parts = urlsplit(url)
    return [
        *("--host", parts.hostname or "127.0.0.1"),
        *("--port", str(parts.port or 5432)),
        *("--username", parts.username or "postgres"),
        "--no-password",
    ]


def _signed(key: MemberKey, nonce: int) -> dict[str, str]:
    stamp = str(nonce)
    signature = hmac.new(key.secret.encode(), (stamp + key.kid).encode(), hashlib.sha256)
    return {
        "X-Auth-Apikey": key.kid,
        "X-Auth-Nonce": stamp,
        "X-Auth-Signature": signature.hexdigest(),
    }


class Trading:
    """Two members crossing small orders at one price, until told to stop."""

    def __init__(self, http: httpx.AsyncClient, members: tuple[MemberKey, ...]) -> None:
        self.http, self.members = http, members
        self.placed = 0
        self.stopping = False
        self._nonce = 0

    async def place(self, key: MemberKey, side: str) -> None:
        self._nonce = max(int(time.time() * 1000), self._nonce + 1)
        body = {"market": "btcusdt", "side": side, "volume": "0.001", "price": "30000"}
        answer = await self.http.post(ORDERS, json=body, headers=_signed(key, self._nonce))
        assert answer.status_code == 201, answer.text
        self.placed += 1

    async def run(self) -> None:
        seller, buyer = self.members
        while not self.stopping:
            await self.place(seller, "sell")
            await self.place(buyer, "buy")


@pytest.fixture
def restored_name() -> Iterator[str]:
    """The name of the database the backup is restored into, dropped after."""
    name = f"bursa_restored_{uuid.uuid4().hex[:12]}"
    yield name
    subprocess.run(
        [
            _client_tool("dropdb"),
            *_connection_args(database_url(name)),
            "--if-exists",
            "--force",
            name,
        ],
        check=False,
        capture_output=True,
        timeout=60,
    )


async def _count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def _run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_a_dump_of_a_running_exchange_restores_and_verifies(
    fresh_database_url: str, restored_name: str, tmp_path: Path
) -> None:
    pg_dump, pg_restore, createdb = (_client_tool(t) for t in ("pg_dump", "pg_restore", "createdb"))
    dump = tmp_path / "bursa.dump"
    async with serve_exchange(fresh_database_url, app_name="bursa-backup") as exchange:
        members = await funded_members(exchange, 2, {"usdt": 1_000_000, "btc": 100}, tag="backup")
        async with httpx.AsyncClient(base_url=exchange.host, timeout=10) as http:
            trading = Trading(http, members)
            running = asyncio.create_task(trading.run())
            try:
                while trading.placed < 20:  # noqa: ASYNC110 - the load's own counter
                    await asyncio.sleep(0.05)
                placed_before_dump = trading.placed
                dumped = await asyncio.to_thread(
                    _run,
                    pg_dump,
                    *_connection_args(fresh_database_url),
                    "--format=custom",
                    f"--file={dump}",
                    urlsplit(fresh_database_url).path.lstrip("/"),
                )
                placed_during_dump = trading.placed - placed_before_dump
            finally:
                trading.stopping = True
                await running
    assert dumped.returncode == 0, dumped.stderr

    restored_url = database_url(restored_name)
    made = await asyncio.to_thread(
        _run, createdb, *_connection_args(restored_url), "--template=template0", restored_name
    )
    assert made.returncode == 0, made.stderr
    loaded = await asyncio.to_thread(
        _run,
        pg_restore,
        *_connection_args(restored_url),
        f"--dbname={restored_name}",
        "--no-owner",
        "--exit-on-error",
        str(dump),
    )
    assert loaded.returncode == 0, loaded.stderr

    orders = await _count(restored_url, "SELECT count(*) FROM orders")
    trades = await _count(restored_url, "SELECT count(*) FROM trades")
    print(
        f"\n{placed_before_dump} orders placed before the dump, {placed_during_dump} during it;"
        f" restored: {orders} orders, {trades} trades"
    )
    assert orders >= placed_before_dump
    assert trades > 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURSA_")} | {
        "BURSA_DATABASE_URL": restored_url,
        "BURSA_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    for check, says in (("ledger verify", "ledger verifies"), ("engine replay", "replay matches")):
        done = await asyncio.to_thread(_run, sys.executable, "-m", "bursa", *check.split(), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert says in done.stdout, done.stdout
    with contextlib.suppress(OSError):
        dump.unlink()
