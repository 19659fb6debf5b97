"""The candle writer counts each committed trade once, however many writers run."""

import asyncio
from decimal import Decimal

import asyncpg

from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import TRADE, Event, InProcessBus
from bursa.trading.candles import PERIODS, CandleWriter
from bursa.trading.specs import load_specs
from tests.api.test_market_data import cross, fund


async def test_two_writers_count_every_trade_once(fresh_database_url: str) -> None:
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    await runner.start()

    async def submit(command: object) -> None:
        result = await runner.submit(command)  # type: ignore[arg-type]
        assert result["error"] is None, result

    try:
        await fund(submit)
        for index in range(9):
            await cross(submit, f"t{index}", "0.01", str(50000 + index))
    finally:
        await runner.stop()

    database = create_engine(fresh_database_url, pool_size=4)
    sessions = create_session_factory(database)
    first, second = CandleWriter(sessions, chunk=2), CandleWriter(sessions, chunk=2)
    try:
        counted = await asyncio.gather(first.catch_up(), second.catch_up())
        assert sum(counted) == 9
        assert await first.catch_up() == await second.catch_up() == 0
        assert first.last_trade_id == second.last_trade_id == 9
        assert first.generation + second.generation >= 1  # each saw the other's work
    finally:
        await database.dispose()

    conn = await asyncpg.connect(fresh_database_url)
    try:
        rows = await conn.fetch(
            "SELECT period, sum(amount) AS amount, min(low) AS low, max(high) AS high,"
            " (array_agg(open ORDER BY time))[1] AS open,"
            " (array_agg(close ORDER BY time DESC))[1] AS close"
            " FROM candles GROUP BY period ORDER BY period"
        )
        mark = await conn.fetchval(
            "SELECT last_trade_id FROM market_data_progress WHERE name = 'candles'"
        )
    finally:
        await conn.close()
    assert [r["period"] for r in rows] == list(PERIODS)
    for row in rows:
        # Chunks of two split the candles: open and close still go to the first and last.
        assert (row["amount"], row["low"], row["high"], row["open"], row["close"]) == (
            Decimal("0.09"),
            Decimal(50000),
            Decimal(50008),
            Decimal(50000),
            Decimal(50008),
        )
    assert mark == 9


async def test_stop_ends_the_writer_even_as_a_trade_wakes_it(fresh_database_url: str) -> None:
    """A wake-up that lands in the same loop turn as ``stop`` must not swallow the
    cancellation (``asyncio.wait_for`` did on Python 3.11, and the writer ran on)."""
    database = create_engine(fresh_database_url, pool_size=2)
    sessions = create_session_factory(database)
    bus = InProcessBus()
    try:
        for turns in range(6):  # the wake-up lands 0…5 loop turns before the cancellation
            for _ in range(5):
                writer = CandleWriter(sessions, bus, poll_s=30, pace_s=0)
                await writer.start()
                await asyncio.sleep(0.01)  # let it subscribe and wait
                bus.publish([Event(TRADE, 1, {})])
                for _ in range(turns):
                    await asyncio.sleep(0)
                stopping = asyncio.ensure_future(writer.stop())
                stopped, _ = await asyncio.wait({stopping}, timeout=5)
                if not stopped:  # cancel again, so the test ends
                    writer._task.cancel()  # type: ignore[union-attr]
                    await asyncio.wait({stopping})
                assert stopped, f"stop() hung with the wake-up {turns} turns before it"
                assert not writer.running
    finally:
        await database.dispose()
