"""``bursa bench deployment`` in a very short run: real engine and API processes on a
real PostgreSQL, RabbitMQ and Redis, with figures a person would accept as measured
(orders went through both ways of running, nothing was refused, a standby took over)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bursa.bench.deployment import run_deployment_bench
from tests.conftest import DatabasePool, database_url


@pytest.fixture
async def two_databases(database_pool: DatabasePool) -> AsyncIterator[tuple[str, str]]:
    names = [await asyncio.to_thread(database_pool.take) for _ in range(2)]
    try:
        yield database_url(names[0]), database_url(names[1])
    finally:
        for name in names:
            database_pool.give_back(name)


async def test_a_short_run_compares_the_deployment_and_times_the_takeover(
    two_databases: tuple[str, str], amqp_url: str, redis_url: str
) -> None:
    deployment_url, single_url = two_databases
    phases: list[str] = []

    figures = await run_deployment_bench(
        deployment_url,
        single_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        members=4,
        seconds=2,
        takeover_seconds=3,
        progress=phases.append,
    )

    numbers = figures.as_json()
    for way in ("deployment", "single"):
        assert numbers[way]["errors"] == 0, numbers[way]["error_kinds"]
        assert numbers[way]["orders"] > 0 and numbers[way]["cancels"] > 0
        assert 0 < numbers[way]["p50_ms"] <= numbers[way]["p99_ms"]
    assert numbers["replicas"] == 2
    # A standby that waits on the lock answers within seconds of the kill, not the
    # 60 s the bench gives up after; the ledger verifies after it.
    assert numbers["takeover_s"] is not None and 0 < numbers["takeover_s"] < 15
    assert numbers["takeover_load"]["orders"] > 0
    assert numbers["ledger_ok"]
    assert any("SIGKILL" in phase for phase in phases)
