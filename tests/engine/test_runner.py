"""The batch runner on a real PostgreSQL: commits, recovery, the single-engine lock,
idempotency across restarts, and the events it publishes."""

import asyncio
from decimal import Decimal

import asyncpg
import pytest

from bursa.engine.commands import CancelOrder, Credit, PlaceOrder
from bursa.engine.runner import EngineRunner, EngineStopped
from bursa.events.bus import BALANCE, BOOK, ORDER, TRADE, InProcessBus
from bursa.ledger.verify import verify_ledger
from bursa.trading.specs import load_specs

BTC = 10**8
USDT = 10**8


def runner_for(url: str, bus: InProcessBus | None = None) -> EngineRunner:
    return EngineRunner(url, bus or InProcessBus(), load_specs, batch_wait_ms=1.0)


def fund(member: int) -> list[Credit]:
    return [
        Credit(
            key=f"fund-{member}-btc",
            member_id=member,
            currency="btc",
            amount=2 * BTC,
            deposit_id=f"d-{member}-btc",
        ),
        Credit(
            key=f"fund-{member}-usdt",
            member_id=member,
            currency="usdt",
            amount=100_000 * USDT,
            deposit_id=f"d-{member}-usdt",
        ),
    ]


def sell(key: str, member: int, lots: int, price_cents: int) -> PlaceOrder:
    """btcusdt: amount in lots of 0.000001 BTC, price in ticks of 0.01 USDT."""
    return PlaceOrder(
        key=key, member_id=member, market="btcusdt", side="sell", volume=lots, price=price_cents
    )


def buy(key: str, member: int, lots: int, price_cents: int) -> PlaceOrder:
    return PlaceOrder(
        key=key, member_id=member, market="btcusdt", side="buy", volume=lots, price=price_cents
    )


async def account(conn: asyncpg.Connection, member: int, currency: str) -> tuple[Decimal, Decimal]:
    row = await conn.fetchrow(
        "SELECT balance, locked FROM accounts WHERE member_id = $1 AND currency_id = $2",
        member,
        currency,
    )
    assert row is not None
    return row["balance"], row["locked"]


async def test_committed_results_survive_a_restart(fresh_database_url: str) -> None:
    runner = runner_for(fresh_database_url)
    await runner.start()
    try:
        await asyncio.gather(*(runner.submit(c) for c in fund(1) + fund(2)))
        resting = await runner.submit(sell("s1", 1, 500_000, 3_000_000))  # 0.5 BTC @ 30,000
        taken = await runner.submit(buy("b1", 2, 200_000, 3_000_000))  # 0.2 BTC
    finally:
        await runner.stop()
    assert resting["error"] is None and taken["error"] is None
    assert taken["order"]["state"] == "done"

    conn = await asyncpg.connect(fresh_database_url)
    try:
        # the taker paid 6,000 USDT and received 0.2 BTC less the 0.2% taker fee
        assert await account(conn, 2, "btc") == (Decimal("2.1996"), Decimal(0))
        assert await account(conn, 2, "usdt") == (Decimal(94_000), Decimal(0))
        # the maker's 0.3 BTC still rests, locked; it received 6,000 USDT less 0.1%
        assert await account(conn, 1, "btc") == (Decimal("1.5"), Decimal("0.3"))
        assert await account(conn, 1, "usdt") == (Decimal("105994"), Decimal(0))
        trades = await conn.fetch("SELECT price, amount, total FROM trades")
        assert [(t["price"], t["amount"], t["total"]) for t in trades] == [
            (Decimal(30_000), Decimal("0.2"), Decimal(6_000))
        ]
        assert (await verify_ledger(conn)).ok
    finally:
        await conn.close()

    again = runner_for(fresh_database_url)
    await again.start()
    try:
        assert again.committed_seq == runner.committed_seq
        book = again.engine.books["btcusdt"]
        assert [o.volume for o in book.asks.orders_by_priority(10)] == [300_000]
        # a repeated key answers the first result and applies nothing
        repeat = await again.submit(buy("b1", 2, 200_000, 3_000_000))
        assert repeat == taken
        assert again.committed_seq == runner.committed_seq
        cancelled = await again.submit(
            CancelOrder(key="c1", member_id=1, order_id=resting["order"]["id"])
        )
        assert cancelled["order"]["state"] == "cancel"
    finally:
        await again.stop()
    conn = await asyncpg.connect(fresh_database_url)
    try:
        assert await account(conn, 1, "btc") == (Decimal("1.8"), Decimal(0))
        assert (await verify_ledger(conn)).ok
    finally:
        await conn.close()


async def test_a_second_engine_waits_for_the_first(fresh_database_url: str) -> None:
    first = runner_for(fresh_database_url)
    await first.start()
    second = runner_for(fresh_database_url)
    standby = asyncio.create_task(second.start())
    try:
        await asyncio.sleep(1.5)
        assert not standby.done(), "the second engine started while the first held the lock"
        await first.submit(fund(1)[0])
        await first.stop()
        await asyncio.wait_for(standby, timeout=10)
        assert second.running
        assert second.committed_seq == 1  # it recovered what the first one committed
    finally:
        standby.cancel()
        await first.stop()
        await second.stop()


async def test_callers_hear_only_committed_results_and_events_follow(
    fresh_database_url: str,
) -> None:
    bus = InProcessBus()
    topics = {ORDER, TRADE, BALANCE, BOOK}
    runner = runner_for(fresh_database_url, bus)
    await runner.start()
    seen: set[str] = set()
    try:
        with bus.subscribe(*topics) as subscription:
            await asyncio.gather(*(runner.submit(c) for c in fund(1) + fund(2)))
            await runner.submit(sell("s1", 1, 100_000, 3_000_000))
            result = await runner.submit(buy("b1", 2, 100_000, 3_000_000))
            conn = await asyncpg.connect(fresh_database_url)
            try:
                stored = await conn.fetchval(
                    "SELECT count(*) FROM engine_commands WHERE seq = $1", result["seq"]
                )
            finally:
                await conn.close()
            assert stored == 1, "the answer came before its commit"
            while not subscription.queue.empty():
                seen.add(subscription.queue.get_nowait().topic)
    finally:
        await runner.stop()
    assert seen == topics
    with pytest.raises(EngineStopped):
        await runner.submit(fund(3)[0])
