"""``bursa bench bots`` in a very short run: two real exchanges and a real bot process,
with figures a person would accept as measured (orders went through, copies were timed,
nothing was refused)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bursa.bench.bots import MARKETS, run_bots_bench
from tests.conftest import DatabasePool, database_url


@pytest.fixture
async def two_databases(database_pool: DatabasePool) -> AsyncIterator[tuple[str, str]]:
    names = [await asyncio.to_thread(database_pool.take) for _ in range(2)]
    try:
        yield database_url(names[0]), database_url(names[1])
    finally:
        for name in names:
            database_pool.give_back(name)


async def test_a_short_run_measures_orders_and_copy_delays(
    two_databases: tuple[str, str],
) -> None:
    source, target = two_databases
    phases: list[str] = []

    figures = await run_bots_bench(
        source, target, seconds=2, warmup=0.5, accounts=1, levels=2, rate=10, phase=phases.append
    )

    numbers = figures.as_json()
    assert numbers["errors"] == 0, numbers["error_kinds"]
    assert numbers["strategies"] == len(MARKETS)
    # Every tick moves the quotes, so a later tick cancels what an earlier one placed; a
    # very busy machine may fit only one tick in so short a window: placements at least.
    assert numbers["placed"] > 0 and numbers["cancelled"] >= 0
    assert numbers["orders_per_s"] > 0
    assert 0 < numbers["bot_cpu"] <= 1.05  # one process: one core at most
    assert numbers["changes"] >= 5  # 10 a second for 2 s (fewer on a very busy machine)
    assert numbers["mirrored"] > 0
    assert numbers["mirrored"] + numbers["missed"] == numbers["changes"]
    assert 0 < numbers["delay_p50_ms"] <= numbers["delay_p99_ms"] <= numbers["delay_max_ms"]
    assert any("delay" in phase for phase in phases)
