"""The last ledger verification, recorded in the database and shown by any process: a
clean ledger reads ok 1 with the time it ran, a broken one ok 0, and a process that was
never told anything shows no figure (an alert tells "never verified" apart)."""

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from prometheus_client import REGISTRY

from bursa.ledger.verifications import last, showing_last_verification, verify_and_record
from bursa.metrics.ledger import OK, TIMESTAMP, LastVerification, show_last_verification


def shown() -> tuple[float | None, float | None]:
    return REGISTRY.get_sample_value(TIMESTAMP), REGISTRY.get_sample_value(OK)


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(fresh_database_url)
    yield connection
    await connection.close()


async def test_each_verification_is_recorded_and_the_last_one_shown(
    fresh_database_url: str, conn: asyncpg.Connection
) -> None:
    assert await last(conn) is None
    show_last_verification(LastVerification(1.0, True))  # what another database said
    async with showing_last_verification(fresh_database_url, every_s=0.05):
        await asyncio.sleep(0.2)
        assert shown() == (None, None)  # nothing recorded in this one: no figure

        before = time.time()
        assert (await verify_and_record(conn, "test")).ok
        deadline = time.monotonic() + 5
        while shown()[1] != 1:
            assert time.monotonic() < deadline, shown()
            await asyncio.sleep(0.02)
        stamp = shown()[0]
        assert stamp is not None and before - 2 <= stamp <= time.time() + 2

        # A break: an account whose balance no operation explains.
        await conn.execute(
            "INSERT INTO accounts (member_id, currency_id, balance, locked) VALUES (1, 'usd', 5, 0)"
        )
        report = await verify_and_record(conn, "test")
        assert not report.ok
        while shown()[1] != 0:
            assert time.monotonic() < deadline, shown()
            await asyncio.sleep(0.02)
    rows = await conn.fetch("SELECT ok, breaks, source FROM ledger_verifications ORDER BY id")
    assert [(r["ok"], r["breaks"] > 0, r["source"]) for r in rows] == [
        (True, False, "test"),
        (False, True, "test"),
    ]
