"""Demo liquidity against a real Bursa in this process (scratch database with the demo
seeds): every demo market gets a two-sided book from the bots within seconds, trades
happen, stopping cancels the bots' orders, and a second start funds nobody again."""

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from bursa.bots.drivers.opendax import Depth, OpenDaxClient
from bursa.cli import demo_liquidity
from bursa.cli.demo_liquidity import (
    DEMO_PRICES,
    MAKER_FUNDS,
    TAKER_FUNDS,
    DemoLiquidity,
)
from bursa.engine.tables import engine_commands
from bursa.identity.tables import api_keys, users
from tests.bots.exchange import Bursa, running_bursa
from tests.conftest import DatabasePool, database_url

D = Decimal


@pytest.fixture(scope="module")
async def exchange(database_pool: DatabasePool) -> AsyncIterator[Bursa]:
    """The demo-seeded exchange, with no member of the test's own."""
    name = await asyncio.to_thread(database_pool.take)
    try:
        async with running_bursa(database_url(name), members=0) as running:
            yield running
    finally:
        database_pool.give_back(name)


async def adjustments(exchange: Bursa) -> int:
    """The demo liquidity credits in the engine's command log."""
    async with exchange.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(engine_commands)
            .where(engine_commands.c.idempotency_key.like("demo-liquidity:%"))
        )
    return int(found or 0)


async def start(exchange: Bursa) -> DemoLiquidity:
    return await DemoLiquidity.start(
        exchange.identity,
        exchange.sessions,
        exchange.engine,
        exchange.port,
        lambda: bool(exchange.server.started),
    )


async def depths(exchange: Bursa) -> dict[str, Depth]:
    async with OpenDaxClient(exchange.host, None) as public:
        return {market: await public.depth(market) for market in DEMO_PRICES}


async def traded(exchange: Bursa) -> bool:
    async with httpx.AsyncClient(base_url=exchange.host) as http:
        for market in DEMO_PRICES:
            answer = await http.get(f"/api/v2/peatio/public/markets/{market}/trades")
            answer.raise_for_status()
            if answer.json():
                return True
    return False


async def test_books_then_stop_cancels_and_funding_is_once(exchange: Bursa) -> None:
    bots = await start(exchange)
    try:
        deadline = time.monotonic() + 8
        while True:
            books = await depths(exchange)
            if all(d.asks and d.bids for d in books.values()):
                break
            assert time.monotonic() < deadline, books
            await asyncio.sleep(0.2)
        for market, depth in books.items():
            price = DEMO_PRICES[market][0]
            assert depth.bids[0][0] < depth.asks[0][0]
            assert abs(depth.asks[0][0] - price) / price < D("0.02")
        deadline = time.monotonic() + 10  # the taker trades now and then
        while not await traded(exchange):
            assert time.monotonic() < deadline, "no trade"
            await asyncio.sleep(0.3)
    finally:
        await bots.stop()
    for market, depth in (await depths(exchange)).items():
        assert not depth.asks and not depth.bids, (market, depth)
    funded = await adjustments(exchange)
    assert funded == len(MAKER_FUNDS) + len(TAKER_FUNDS)

    again = await start(exchange)  # a restart: a new key, no new money
    await again.stop()
    assert await adjustments(exchange) == funded


async def test_a_human_account_with_the_bot_email_is_left_alone(
    exchange: Bursa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demo liquidity only reuses members it created (its private label): an account that
    merely has the bot's email keeps its keys and 2FA, and the bots stay off."""
    email = "not-a-bot@bursa.example.com"
    human = await exchange.identity.create_user(email, "Tr4de-Night!Owl-77", "member")
    monkeypatch.setattr(demo_liquidity, "MAKER_EMAIL", email)
    before = await adjustments(exchange)
    bots = await DemoLiquidity.start_if(
        True,
        exchange.identity,
        exchange.sessions,
        exchange.engine,
        exchange.port,
        lambda: bool(exchange.server.started),
    )
    assert bots is None
    async with exchange.identity.engine.connect() as conn:
        otp = await conn.scalar(select(users.c.otp).where(users.c.id == human["id"]))
        keys = await conn.scalar(
            select(func.count()).select_from(api_keys).where(api_keys.c.user_id == human["id"])
        )
    assert otp is False
    assert keys == 0
    assert await adjustments(exchange) == before
