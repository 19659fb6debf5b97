"""Demo liquidity against a real Bursa in this process (scratch database with the demo
seeds): every demo market gets a two-sided book from the bots within seconds, trades
happen, stopping cancels the bots' orders, a second start funds nobody again, and a
drained maker is topped up once per drain, across restarts."""

import asyncio
import logging
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
    MAKER_EMAIL,
    MAKER_FUNDS,
    TAKER_FUNDS,
    DemoLiquidity,
)
from bursa.engine.commands import Adjust
from bursa.engine.tables import engine_commands
from bursa.engine.units import to_units
from bursa.identity.tables import api_keys, users
from bursa.ledger.tables import accounts
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
    """The demo liquidity fundings in the engine's command log (refills aside)."""
    async with exchange.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(engine_commands)
            .where(
                engine_commands.c.idempotency_key.like("demo-liquidity:%"),
                engine_commands.c.idempotency_key.not_like("%:refill:%"),
            )
        )
    return int(found or 0)


async def refills(exchange: Bursa) -> list[str]:
    """The refill keys in the engine's command log, in the order they ran."""
    async with exchange.sessions() as session:
        found = await session.scalars(
            select(engine_commands.c.idempotency_key)
            .where(engine_commands.c.idempotency_key.like("demo-liquidity:%:refill:%"))
            .order_by(engine_commands.c.seq)
        )
    return list(found)


async def start(exchange: Bursa, refill_every: float = 30) -> DemoLiquidity:
    return await DemoLiquidity.start(
        exchange.identity,
        exchange.sessions,
        exchange.engine,
        exchange.port,
        lambda: bool(exchange.server.started),
        refill_every=refill_every,
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


async def maker_btc(exchange: Bursa) -> tuple[int, Decimal]:
    """The maker's id and its BTC, available + locked, as committed."""
    async with exchange.sessions() as session:
        maker = await session.scalar(select(users.c.id).where(users.c.email == MAKER_EMAIL))
        assert maker is not None
        row = (
            await session.execute(
                select(accounts.c.balance, accounts.c.locked).where(
                    accounts.c.member_id == maker, accounts.c.currency_id == "btc"
                )
            )
        ).one()
    return int(maker), row.balance + row.locked


async def drain_btc(exchange: Bursa, n: int) -> None:
    """Take all but 0.5 BTC from the (stopped) maker, as trades against it would."""
    maker, total = await maker_btc(exchange)
    answer = await exchange.engine.submit(
        Adjust(
            key=f"test:drain:{n}",
            member_id=maker,
            currency="btc",
            amount=-to_units(total - D("0.5"), 8),
            reason="test: the maker's BTC bought by the crowd",
        )
    )
    assert answer.get("error") is None, answer
    assert (await maker_btc(exchange))[1] == D("0.5")


async def test_a_drained_maker_is_refilled_once_per_drain_across_restarts(
    exchange: Bursa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bursa.up")
    await (await start(exchange)).stop()  # funded (a no-op if funded before)
    await drain_btc(exchange, 1)
    maker, _ = await maker_btc(exchange)

    bots = await start(exchange, refill_every=0.1)
    try:
        deadline = time.monotonic() + 5
        while not await refills(exchange):
            assert time.monotonic() < deadline, "no refill"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # a few more checks: the maker is full, none is due
    finally:
        await bots.stop()
    assert await refills(exchange) == [f"demo-liquidity:{maker}:btc:refill:1"]
    refilled = (await maker_btc(exchange))[1]
    # Back to its funding, give or take what the taker traded meanwhile (tiny amounts).
    assert abs(refilled - MAKER_FUNDS["btc"]) < D("0.01"), refilled
    assert f"demo-liquidity:{maker}:btc:refill:1" in caplog.text

    again = await start(exchange, refill_every=0.1)  # a restart: nothing to refill
    await asyncio.sleep(0.5)
    await again.stop()
    assert await refills(exchange) == [f"demo-liquidity:{maker}:btc:refill:1"]

    await drain_btc(exchange, 2)  # drained again: the next number, not the first again
    third = await start(exchange, refill_every=0.1)
    try:
        deadline = time.monotonic() + 5
        while len(await refills(exchange)) < 2:
            assert time.monotonic() < deadline, "no second refill"
            await asyncio.sleep(0.1)
    finally:
        await third.stop()
    assert await refills(exchange) == [
        f"demo-liquidity:{maker}:btc:refill:1",
        f"demo-liquidity:{maker}:btc:refill:2",
    ]
